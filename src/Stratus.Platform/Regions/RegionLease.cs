namespace Stratus.Platform.Regions;

/// <summary>
/// The front door's answer to an instance of a region: whether that region may take writes, until when. The front
/// door (in a third location, ADR 0017) is the one place that decides which region is writable; an instance whose
/// lease ran out stops writing before the front door may make another region writable, so that a partition between
/// the regions never gives two writable control planes.
/// </summary>
/// <param name="Region">The region that asked.</param>
/// <param name="Writable">True when <paramref name="Region"/> is the writable region and this lease lets it write.</param>
/// <param name="WritableRegion">The region that takes writes now (the asker's own or the other).</param>
/// <param name="Epoch">Goes up by one at each change of writable region; a store promoted for epoch N never obeys N-1.</param>
/// <param name="ValidUntil">Until when the asker may act on this answer without asking again.</param>
public sealed record RegionLease(string Region, bool Writable, string WritableRegion, long Epoch, DateTimeOffset ValidUntil);

/// <summary>The lease endpoint of the front door and the scope a caller's token needs for it.</summary>
public static class RegionLeaseApi
{
    /// <summary>GET {front door}/frontdoor/v1/lease?region=NAME, with a service token holding <see cref="Scope"/>.</summary>
    public const string Path = "/frontdoor/v1/lease";

    public const string Scope = "regions.lease";
}

/// <summary>The role of a region's database in the pair of regions.</summary>
public enum StoreRole
{
    /// <summary>Takes writes: the region's cluster leads.</summary>
    Primary,

    /// <summary>Replicates from the other region and is read-only (a Patroni standby cluster).</summary>
    Standby,

    /// <summary>Could not be told (the database does not answer).</summary>
    Unknown,
}

/// <summary>
/// A region's database cluster as a whole, which the region's instances promote when the front door makes their
/// region writable and demote (to replicate from the other region) when it makes the other one writable.
/// The single-machine form (SQLite, one region) has no such thing and registers none.
/// </summary>
public interface IRegionStore
{
    Task<StoreRole> RoleAsync(CancellationToken cancellationToken);

    /// <summary>Makes the region's cluster take writes; idempotent.</summary>
    Task PromoteAsync(long epoch, CancellationToken cancellationToken);

    /// <summary>Makes the region's cluster replicate from the writable region's (rewinding it where needed); idempotent.</summary>
    Task DemoteAsync(long epoch, CancellationToken cancellationToken);
}
