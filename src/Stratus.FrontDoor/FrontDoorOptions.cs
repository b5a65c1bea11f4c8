using Microsoft.Extensions.Options;

namespace Stratus.FrontDoor;

/// <summary>
/// Stratus:FrontDoor. Each region lists its instances' base URLs; each instance serves every path of the control
/// plane (a `stratus run --targets all` per zone, or a region's own path router in front of its services), so the
/// front door picks a region and an instance, never a service.
/// </summary>
public sealed class FrontDoorOptions
{
    public const string Section = "Stratus:FrontDoor";

    public List<RegionOptions> Regions { get; set; } = [];

    /// <summary>The region that is writable on the very first start (no decision file yet); the first region when empty.</summary>
    public string? InitialWritableRegion { get; set; }

    /// <summary>Where reads (GET, HEAD, OPTIONS, WebSockets) go while it is healthy; the writable region when empty.</summary>
    public string? PreferredReadRegion { get; set; }

    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long every instance of the writable region must have failed before another region is made writable.</summary>
    public TimeSpan FailoverDelay { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A probe of /readyz that has not answered in this long counts as a failure.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(3);

    public RegionOptions? Find(string name) => Regions.FirstOrDefault(r => r.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
}

public sealed class RegionOptions
{
    public string Name { get; set; } = "";

    /// <summary>Base URLs of the region's instances (one per zone), such as http://10.0.1.5:8080.</summary>
    public List<Uri> Instances { get; set; } = [];
}

/// <summary>Every mistake in the configuration at once, at start.</summary>
internal sealed class FrontDoorOptionsValidator : IValidateOptions<FrontDoorOptions>
{
    public ValidateOptionsResult Validate(string? name, FrontDoorOptions options)
    {
        var errors = new List<string>();
        if (options.Regions.Count < 2)
        {
            errors.Add($"{FrontDoorOptions.Section}:Regions needs at least two regions, each with a Name and Instances (base URLs).");
        }

        foreach (var (region, index) in options.Regions.Select((r, i) => (r, i)))
        {
            if (string.IsNullOrWhiteSpace(region.Name))
            {
                errors.Add($"{FrontDoorOptions.Section}:Regions:{index}:Name is empty.");
            }

            if (region.Instances.Count == 0 || region.Instances.Any(u => !u.IsAbsoluteUri || (u.Scheme != Uri.UriSchemeHttp && u.Scheme != Uri.UriSchemeHttps)))
            {
                errors.Add($"{FrontDoorOptions.Section}:Regions:{index}:Instances must list one or more http(s) base URLs.");
            }
        }

        if (options.Regions.GroupBy(r => r.Name, StringComparer.OrdinalIgnoreCase).Any(g => g.Count() > 1))
        {
            errors.Add($"{FrontDoorOptions.Section}:Regions: two regions have the same name.");
        }

        foreach (var (key, value) in new[] { ("InitialWritableRegion", options.InitialWritableRegion), ("PreferredReadRegion", options.PreferredReadRegion) })
        {
            if (!string.IsNullOrEmpty(value) && options.Find(value) is null)
            {
                errors.Add($"{FrontDoorOptions.Section}:{key} '{value}' is not one of the regions.");
            }
        }

        if (options.LeaseDuration <= TimeSpan.Zero || options.ProbeInterval <= TimeSpan.Zero || options.ProbeTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{FrontDoorOptions.Section}: LeaseDuration, ProbeInterval and ProbeTimeout must be positive.");
        }

        // A failover before the lease ran out would have to wait for it anyway; a delay shorter than it only hides flapping.
        if (options.FailoverDelay <= options.LeaseDuration)
        {
            errors.Add($"{FrontDoorOptions.Section}:FailoverDelay ({options.FailoverDelay}) must be longer than LeaseDuration ({options.LeaseDuration}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
