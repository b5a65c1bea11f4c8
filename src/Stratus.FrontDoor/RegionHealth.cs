using Microsoft.Extensions.Options;

namespace Stratus.FrontDoor;

/// <summary>One instance of a region as the front door last saw it: by its /readyz (active) and by the requests it failed (passive).</summary>
public sealed class InstanceHealth(string region, Uri url)
{
    public string Region { get; } = region;

    public Uri Url { get; } = url;

    public bool Healthy { get; private set; }

    /// <summary>When its /readyz last answered 2xx.</summary>
    public DateTimeOffset? LastSeen { get; private set; }

    public string? LastError { get; private set; }

    internal void Succeeded(DateTimeOffset at)
    {
        Healthy = true;
        LastSeen = at;
        LastError = null;
    }

    /// <summary>Avoided until its next good probe.</summary>
    internal void Failed(string error)
    {
        Healthy = false;
        LastError = error;
    }
}

/// <summary>
/// The health of every configured instance, grouped by region. A region is healthy while one of its instances is; it
/// has been unhealthy since its last instance was last seen (or since the front door started, if none ever was).
/// </summary>
public sealed class RegionHealth
{
    private readonly Dictionary<string, InstanceHealth[]> regions;
    private readonly DateTimeOffset startedAt;
    private int next;

    public RegionHealth(IOptions<FrontDoorOptions> options, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clock);
        regions = options.Value.Regions.ToDictionary(r => r.Name, r => r.Instances.Select(u => new InstanceHealth(r.Name, u)).ToArray(), StringComparer.OrdinalIgnoreCase);
        startedAt = clock.GetUtcNow();
    }

    public IEnumerable<InstanceHealth> All => regions.Values.SelectMany(i => i);

    public IReadOnlyList<InstanceHealth> Instances(string region) => regions[region];

    public bool IsHealthy(string region) => regions[region].Any(i => i.Healthy);

    public DateTimeOffset? LastSeen(string region) => regions[region].Max(i => i.LastSeen);

    public DateTimeOffset UnhealthySince(string region) => LastSeen(region) ?? startedAt;

    /// <summary>
    /// A healthy instance of the region, in turn; when none is healthy, any of them ("healthy or panic", as YARP's
    /// health policies do): an answer from an instance that may have come back beats a refusal from the front door.
    /// </summary>
    public InstanceHealth Pick(string region)
    {
        var all = regions[region];
        var healthy = all.Where(i => i.Healthy).ToArray();
        var candidates = healthy.Length > 0 ? healthy : all;
        return candidates[(int)((uint)Interlocked.Increment(ref next) % (uint)candidates.Length)];
    }
}
