using System.Globalization;
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
    /// The other region's PostgreSQL nodes, host:port each: a demoted cluster replicates from whichever of them takes
    /// writes (Patroni adds target_session_attrs=read-write when there are several).
    /// </summary>
    public IList<string> OtherRegionNodes { get; } = [];

    /// <summary>Patroni's use_pg_rewind: a demoted former primary rewinds to the other region's timeline instead of a new copy.</summary>
    public bool UsePgRewind { get; set; } = true;

    /// <summary>The limit of each call to Patroni's REST API.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a promotion or demotion may take until the cluster has the new role (a pg_rewind included).</summary>
    public TimeSpan RoleChangeTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>How often the cluster's role is asked while a promotion or demotion is under way.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    public bool IsConfigured => RestUrls.Count > 0;

    /// <summary>The other region's nodes as Patroni's standby_cluster wants them: hosts, and ports in the same order.</summary>
    internal (string Hosts, string Ports) OtherRegionHostsAndPorts()
    {
        var nodes = OtherRegionNodes.Select(ParseNode).ToList();
        var ports = nodes.Select(n => n.Port).Distinct().Count() == 1
            ? nodes[0].Port.ToString(CultureInfo.InvariantCulture)
            : string.Join(',', nodes.Select(n => n.Port.ToString(CultureInfo.InvariantCulture)));
        return (string.Join(',', nodes.Select(n => n.Host)), ports);
    }

    internal static (string Host, int Port) ParseNode(string node)
    {
        var colon = node.LastIndexOf(':');
        return colon > 0 && int.TryParse(node.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536
            ? (node[..colon], port)
            : throw new FormatException($"'{node}' is not host:port.");
    }
}

/// <summary>Reports every mistake in Stratus:Region:Patroni at start, at once.</summary>
internal sealed class PatroniRegionStoreOptionsValidator : IValidateOptions<PatroniRegionStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, PatroniRegionStoreOptions options)
    {
        var errors = new List<string>();
        foreach (var url in options.RestUrls)
        {
            if (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https"))
            {
                errors.Add($"{PatroniRegionStoreOptions.Section}:RestUrls: '{url}' is not an http(s) URL of a Patroni node's REST API.");
            }
        }

        if (options.IsConfigured && options.OtherRegionNodes.Count == 0)
        {
            errors.Add($"{PatroniRegionStoreOptions.Section}:OtherRegionNodes is empty: list the other region's PostgreSQL nodes (host:port), which this region replicates from when it is not the writable one.");
        }

        foreach (var node in options.OtherRegionNodes)
        {
            try
            {
                PatroniRegionStoreOptions.ParseNode(node);
            }
            catch (FormatException e)
            {
                errors.Add($"{PatroniRegionStoreOptions.Section}:OtherRegionNodes: {e.Message}");
            }
        }

        if (options.CallTimeout <= TimeSpan.Zero || options.RoleChangeTimeout <= TimeSpan.Zero || options.PollInterval <= TimeSpan.Zero)
        {
            errors.Add($"{PatroniRegionStoreOptions.Section}: CallTimeout, RoleChangeTimeout and PollInterval must be positive.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
