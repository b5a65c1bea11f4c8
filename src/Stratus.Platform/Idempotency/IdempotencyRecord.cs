namespace Stratus.Platform.Idempotency;

public enum IdempotencyState
{
    /// <summary>Reserved: the request that holds the lease is running.</summary>
    Processing,

    /// <summary>The request succeeded; its response is replayed to every repeat.</summary>
    Completed,
}

/// <summary>
/// One Idempotency-Key of one caller (platform.idempotency_records): reserved while its request runs, then the
/// response to replay. Only successful requests leave a record; a refused or failed one is deleted.
/// </summary>
public sealed class IdempotencyRecord
{
    /// <summary>The caller: its tenant and account, so that a key never crosses either.</summary>
    public required string Scope { get; init; }

    public required string Key { get; init; }

    /// <summary>Hex SHA-256 of the method, path, query and body (its length instead, for a large body).</summary>
    public required string Fingerprint { get; init; }

    /// <summary>The method and path of the request, for the answer to a key reused for another one.</summary>
    public required string RequestMethod { get; init; }

    public required string RequestPath { get; init; }

    public IdempotencyState State { get; set; }

    /// <summary>The request that holds a processing record; it renews the lease while it runs.</summary>
    public Guid? LeaseOwner { get; set; }

    public DateTimeOffset? LeaseUntil { get; set; }

    /// <summary>
    /// The epoch of the region lease the holder wrote under (issue 19); null in a single region. A holder in a region
    /// that has since lost the writable region cannot commit or release any more, so a later epoch takes it over at once.
    /// </summary>
    public long? RegionEpoch { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; set; }

    public int? ResponseStatus { get; set; }

    public string? ResponseContentType { get; set; }

    public string? ResponseLocation { get; set; }

    public byte[]? ResponseBody { get; set; }
}
