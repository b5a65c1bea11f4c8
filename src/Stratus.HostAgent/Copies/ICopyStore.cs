namespace Stratus.HostAgent.Copies;

/// <summary>
/// Where a Cloud PC's disk copies live, off its host: a folder on a mount the zone or region shares (NFS, CephFS,
/// GlusterFS) or an S3-compatible bucket. Objects are named by relative keys of lower-case letters, digits, '-', '.',
/// '_' and '/' (no "..", no leading '/'); a put is atomic (a reader sees the old object or the whole new one, never a
/// part) and its SHA-256 is kept with it, so that every read can be checked.
/// </summary>
public interface ICopyStore
{
    /// <summary>The store's address as configured (file:///PATH or s3://BUCKET/PREFIX?endpoint=URL), credentials never included.</summary>
    string Uri { get; }

    /// <summary>Writes the object from a local file and returns what was stored (its size and SHA-256, computed while sending).</summary>
    Task<CopyObject> PutFileAsync(string key, string sourcePath, CancellationToken cancellationToken = default);

    /// <summary>Writes a small object (a chain manifest) in one piece.</summary>
    Task<CopyObject> PutBytesAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads the object into a local file (written aside, then renamed) and checks its SHA-256 against the stored one:
    /// <see cref="CopyStoreCorruptException"/> when they differ, <see cref="CopyObjectNotFoundException"/> when there is none.
    /// </summary>
    Task<CopyObject> GetFileAsync(string key, string destinationPath, CancellationToken cancellationToken = default);

    /// <summary>The object's content (a manifest), checked like <see cref="GetFileAsync"/>; null when there is none.</summary>
    Task<byte[]?> GetBytesAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>The keys under a prefix, with sizes and checksums.</summary>
    Task<IReadOnlyList<CopyObject>> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Removes the object; gone already: no-op.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Free space in bytes where the store can tell (a file system), else null.</summary>
    Task<long?> FreeBytesAsync(CancellationToken cancellationToken = default);
}

public sealed record CopyObject(string Key, long Bytes, string Sha256, DateTimeOffset StoredAt);

public class CopyStoreException(string message, Exception? inner = null) : Exception(message, inner);

public sealed class CopyObjectNotFoundException(string key) : CopyStoreException($"The copy store has no object '{key}'.");

public sealed class CopyStoreCorruptException(string key, string expectedSha256, string actualSha256)
    : CopyStoreException($"The copy store's object '{key}' does not match its checksum (stored {expectedSha256}, read {actualSha256}).");
