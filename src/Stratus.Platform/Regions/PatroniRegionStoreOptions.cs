using Microsoft.Extensions.Options;

namespace Stratus.Platform.Regions;

/// <summary>
/// Where a region's Patroni cluster is and whom it replicates from when demoted (Stratus:Region:Patroni). Set only in
/// a two-region deployment on PostgreSQL; without RestUrls no <see cref="IRegionStore"/> is registered.
/// </summary>
public sealed class PatroniRegionStoreOptions
{
    public const string Section = "Stratus:Region:Patroni";

    /// <summary>The REST API of every Patroni node of this region (http://host:8008), any of which takes the calls.</summary>
    public IList<Uri> RestUrls { get; } = [];

    /// <summary>
    /// The REST API of every Patroni node of the other region. A demoted cluster replicates from (and rewinds to) the
    /// other region's leader, which the store asks these for: Patroni 3.0.2 takes one port for the standby cluster's
    /// source and rewinds only from a primary, so the source is the leader at the time of the demotion.
    /// </summary>
    public IList<Uri> OtherRegionRestUrls { get; } = [];

    /// <summary>Patroni's use_pg_rewind: a demoted former primary rewinds to the other region's timeline instead of a new copy.</summary>
    public bool UsePgRewind { get; set; } = true;

    /// <summary>The limit of each call to Patroni's REST API.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a promotion or demotion may take until the cluster has the new role (a pg_rewind included).</summary>
    public TimeSpan RoleChangeTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>How often the cluster's role is asked while a promotion or demotion is under way.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    public bool IsConfigured => RestUrls.Count > 0;
}

/// <summary>Reports every mistake in Stratus:Region:Patroni at start, at once.</summary>
internal sealed class PatroniRegionStoreOptionsValidator : IValidateOptions<PatroniRegionStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, PatroniRegionStoreOptions options)
    {
        var errors = new List<string>();
        foreach (var url in options.RestUrls.Concat(options.OtherRegionRestUrls))
        {
            if (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https"))
            {
                errors.Add($"{PatroniRegionStoreOptions.Section}: '{url}' is not an http(s) URL of a Patroni node's REST API.");
            }
        }

        if (options.IsConfigured && options.OtherRegionRestUrls.Count == 0)
        {
            errors.Add($"{PatroniRegionStoreOptions.Section}:OtherRegionRestUrls is empty: list the other region's Patroni REST URLs, whose leader this region replicates from when it is not the writable one.");
        }

        if (options.CallTimeout <= TimeSpan.Zero || options.RoleChangeTimeout <= TimeSpan.Zero || options.PollInterval <= TimeSpan.Zero)
        {
            errors.Add($"{PatroniRegionStoreOptions.Section}: CallTimeout, RoleChangeTimeout and PollInterval must be positive.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
