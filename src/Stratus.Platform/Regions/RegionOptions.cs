using Microsoft.Extensions.Options;

namespace Stratus.Platform.Regions;

/// <summary>
/// Stratus:Region: which region this instance belongs to and where the front door that leases it writes is. Neither
/// set (one region, `stratus up`): the instance is always writable and asks no one.
/// </summary>
public sealed class RegionOptions
{
    public const string Section = "Stratus:Region";

    /// <summary>This instance's region, as the front door names it ("A", "eu-west").</summary>
    public string? Name { get; set; }

    /// <summary>
    /// The front door's URLs, asked in turn until one answers. Each entry may itself be a comma-separated list, so
    /// that one environment variable (Stratus__Region__FrontDoorUrls=URL1,URL2) serves as well as indexed entries.
    /// </summary>
    public List<string> FrontDoorUrls { get; } = [];

    /// <summary>The service client whose credentials ask for the lease token; default: the one that reads revocations.</summary>
    public string? Client { get; set; }

    /// <summary>How often the lease is renewed; unset: a third of the lease's remaining validity (clamped to 0.1-10 s).</summary>
    public TimeSpan? RenewInterval { get; set; }

    /// <summary>How soon to ask again after no front door answered (or the store could not be promoted).</summary>
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The deadline of one ask of one front door URL.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The deadline of one promotion or demotion of the region's store.</summary>
    public TimeSpan StoreTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Writes stop this long before the lease's end by this instance's clock: the front door's clock and ours may
    /// differ by this much, and the front door makes the other region writable only after the lease's end by its own.
    /// </summary>
    public TimeSpan ClockSkewMargin { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>True when this instance follows a front door's lease (a region of several).</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(Name) || FrontDoorUrls.Count > 0;

    /// <summary>The front door URLs, every comma-separated entry split.</summary>
    public IReadOnlyList<Uri> FrontDoors() =>
        [.. FrontDoorUrls.SelectMany(u => u.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(u => new Uri(u))];
}

/// <summary>Reports every mistake in Stratus:Region at once, at start.</summary>
internal sealed class RegionOptionsValidator : IValidateOptions<RegionOptions>
{
    public ValidateOptionsResult Validate(string? name, RegionOptions options)
    {
        if (!options.IsConfigured)
        {
            return ValidateOptionsResult.Success;
        }

        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Name))
        {
            errors.Add($"{RegionOptions.Section}:Name is required when {RegionOptions.Section}:FrontDoorUrls is set: name this instance's region.");
        }

        var urls = options.FrontDoorUrls.SelectMany(u => u.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (urls.Count == 0)
        {
            errors.Add($"{RegionOptions.Section}:FrontDoorUrls is required when {RegionOptions.Section}:Name is set: the front door's URLs, comma-separated.");
        }

        errors.AddRange(urls.Where(u => !Uri.TryCreate(u, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            .Select(u => $"{RegionOptions.Section}:FrontDoorUrls: '{u}' is not an absolute http or https URL."));
        if (options.RenewInterval is { } renew && renew <= TimeSpan.Zero)
        {
            errors.Add($"{RegionOptions.Section}:RenewInterval must be positive, for example 00:00:03.");
        }

        foreach (var (key, value) in new[] { ("RetryInterval", options.RetryInterval), ("RequestTimeout", options.RequestTimeout), ("StoreTimeout", options.StoreTimeout) })
        {
            if (value <= TimeSpan.Zero)
            {
                errors.Add($"{RegionOptions.Section}:{key} must be positive, for example 00:00:01.");
            }
        }

        if (options.ClockSkewMargin < TimeSpan.Zero)
        {
            errors.Add($"{RegionOptions.Section}:ClockSkewMargin must be zero or more.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
