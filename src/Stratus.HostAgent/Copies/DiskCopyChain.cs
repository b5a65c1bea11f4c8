using System.Text.Json;
using System.Text.Json.Serialization;

namespace Stratus.HostAgent.Copies;

public enum DiskCopyKind
{
    /// <summary>A standalone qcow2 of the whole disk.</summary>
    Full,

    /// <summary>A qcow2 holding only the clusters written since the copy before it (its backing, once restored).</summary>
    Incremental,
}

/// <summary>One file of a chain: its object key, what it holds and when it was taken.</summary>
public sealed record DiskCopyEntry(string Key, DiskCopyKind Kind, long Bytes, string Sha256, DateTimeOffset TakenAt, long DiskBytes);

/// <summary>
/// A VM's chain in a store (vms/{vmId}/chain.json): a full copy first, then at most MaxIncrements increments, oldest
/// first. <see cref="NextSequence"/> only grows, so that an object key is never written twice with different content.
/// </summary>
public sealed record DiskCopyManifest(int FormatVersion, string VmId, long NextSequence, IReadOnlyList<DiskCopyEntry> Copies)
{
    public const int CurrentFormatVersion = 1;

    public DiskCopyEntry Latest => Copies[^1];

    public int IncrementCount => Copies.Count(c => c.Kind == DiskCopyKind.Incremental);
}

/// <summary>
/// Reads and writes a VM's chain of disk copies in a copy store. The manifest is written only after the objects it
/// names are stored, and objects it no longer names are deleted only after it is written: a crash at any point leaves
/// a manifest whose every object exists (at worst with an unnamed object left over, removed by the next full copy).
/// </summary>
public sealed class DiskCopyChain(ICopyStore store, string vmId, DiskCopyChainTools tools)
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public ICopyStore Store => store;

    public string ManifestKey => $"vms/{vmId}/chain.json";

    public string ObjectKey(long sequence) => $"vms/{vmId}/{sequence:D8}.qcow2";

    /// <summary>The chain, or null when the store has none for this VM.</summary>
    public async Task<DiskCopyManifest?> ReadAsync(CancellationToken cancellationToken = default)
    {
        var bytes = await store.GetBytesAsync(ManifestKey, cancellationToken);
        if (bytes is null)
        {
            return null;
        }

        var manifest = JsonSerializer.Deserialize<DiskCopyManifest>(bytes, JsonOptions)
            ?? throw new CopyStoreException($"The chain manifest '{ManifestKey}' is empty.");
        if (manifest.FormatVersion != DiskCopyManifest.CurrentFormatVersion || manifest.Copies.Count == 0
            || manifest.Copies[0].Kind != DiskCopyKind.Full)
        {
            throw new CopyStoreException($"The chain manifest '{ManifestKey}' is not one this agent reads (format {manifest.FormatVersion}, {manifest.Copies.Count} copies).");
        }

        return manifest;
    }

    /// <summary>
    /// Stores the file as the chain's next copy and writes the manifest. A full copy starts a new chain (the old one's
    /// objects are deleted after); an incremental extends <paramref name="expected"/>, the chain the copy was taken
    /// against. Beyond <paramref name="maxIncrements"/> increments, the full and the oldest increment are merged.
    /// </summary>
    public async Task<DiskCopyManifest> AppendAsync(DiskCopyManifest? expected, string file, DiskCopyKind kind, long diskBytes,
        DateTimeOffset takenAt, int maxIncrements, string workFolder, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxIncrements, 1);
        if (kind == DiskCopyKind.Incremental && expected is null)
        {
            throw new InvalidOperationException("An incremental copy extends a chain: there is none.");
        }

        var sequence = Math.Max(expected?.NextSequence ?? 1, (await HighestSequenceAsync(cancellationToken)) + 1);
        var stored = await store.PutFileAsync(ObjectKey(sequence), file, cancellationToken);
        var entry = new DiskCopyEntry(stored.Key, kind, stored.Bytes, stored.Sha256, takenAt, diskBytes);
        var copies = kind == DiskCopyKind.Full ? [entry] : expected!.Copies.Append(entry).ToList();
        var manifest = new DiskCopyManifest(DiskCopyManifest.CurrentFormatVersion, vmId, sequence + 1, copies);
        await WriteAsync(manifest, cancellationToken);
        await DeleteUnnamedAsync(manifest, cancellationToken);
        while (manifest.IncrementCount > maxIncrements)
        {
            manifest = await CompactAsync(manifest, workFolder, cancellationToken);
        }

        return manifest;
    }

    /// <summary>
    /// Merges the full copy and the oldest increment into a new full (qemu-img: the increment rebased onto the full,
    /// converted to one standalone qcow2), stores it, rewrites the manifest, then deletes the two objects it replaces.
    /// </summary>
    public async Task<DiskCopyManifest> CompactAsync(DiskCopyManifest manifest, string workFolder, CancellationToken cancellationToken = default)
    {
        var scratch = Directory.CreateDirectory(Path.Combine(workFolder, $"compact-{Guid.NewGuid():N}")).FullName;
        try
        {
            var full = manifest.Copies[0];
            var oldest = manifest.Copies[1];
            var fullFile = Path.Combine(scratch, "0.qcow2");
            var incrementFile = Path.Combine(scratch, "1.qcow2");
            await store.GetFileAsync(full.Key, fullFile, cancellationToken);
            await store.GetFileAsync(oldest.Key, incrementFile, cancellationToken);
            await tools.RebaseUnsafeAsync(incrementFile, fullFile, cancellationToken);
            var merged = Path.Combine(scratch, "merged.qcow2");
            await tools.ConvertAsync(incrementFile, merged, cancellationToken);

            var sequence = manifest.NextSequence;
            var stored = await store.PutFileAsync(ObjectKey(sequence), merged, cancellationToken);
            var entry = new DiskCopyEntry(stored.Key, DiskCopyKind.Full, stored.Bytes, stored.Sha256, oldest.TakenAt, oldest.DiskBytes);
            var compacted = manifest with { NextSequence = sequence + 1, Copies = [entry, .. manifest.Copies.Skip(2)] };
            await WriteAsync(compacted, cancellationToken);
            await store.DeleteAsync(full.Key, cancellationToken);
            await store.DeleteAsync(oldest.Key, cancellationToken);
            return compacted;
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>
    /// Makes one standalone qcow2 at <paramref name="destination"/> of the disk as at the chain's latest copy: every
    /// object downloaded (each checked against its SHA-256 by the store), each increment rebased onto the file before
    /// it, the top converted. Returns the manifest it used.
    /// </summary>
    public async Task<DiskCopyManifest> MaterializeAsync(string destination, string workFolder, CancellationToken cancellationToken = default)
    {
        var manifest = await ReadAsync(cancellationToken)
            ?? throw new CopyObjectNotFoundException(ManifestKey);
        var scratch = Directory.CreateDirectory(Path.Combine(workFolder, $"restore-{Guid.NewGuid():N}")).FullName;
        try
        {
            string? previous = null;
            for (var index = 0; index < manifest.Copies.Count; index++)
            {
                var file = Path.Combine(scratch, $"{index:D4}.qcow2");
                var got = await store.GetFileAsync(manifest.Copies[index].Key, file, cancellationToken);
                if (got.Sha256 != manifest.Copies[index].Sha256)
                {
                    throw new CopyStoreCorruptException(got.Key, manifest.Copies[index].Sha256, got.Sha256);
                }

                if (previous is not null)
                {
                    await tools.RebaseUnsafeAsync(file, previous, cancellationToken);
                }

                previous = file;
            }

            await tools.ConvertAsync(previous!, destination, cancellationToken);
            return manifest;
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private Task WriteAsync(DiskCopyManifest manifest, CancellationToken cancellationToken) =>
        store.PutBytesAsync(ManifestKey, JsonSerializer.SerializeToUtf8Bytes(manifest, JsonOptions), cancellationToken);

    /// <summary>Objects of this VM the manifest does not name: an older chain, or a copy whose manifest write was lost.</summary>
    private async Task DeleteUnnamedAsync(DiskCopyManifest manifest, CancellationToken cancellationToken)
    {
        var named = manifest.Copies.Select(c => c.Key).Append(ManifestKey).ToHashSet(StringComparer.Ordinal);
        foreach (var stale in (await store.ListAsync($"vms/{vmId}/", cancellationToken)).Where(o => !named.Contains(o.Key)))
        {
            await store.DeleteAsync(stale.Key, cancellationToken);
        }
    }

    /// <summary>The highest sequence of any object of this VM: a copy stored before a crash kept its manifest from naming it.</summary>
    private async Task<long> HighestSequenceAsync(CancellationToken cancellationToken) =>
        (await store.ListAsync($"vms/{vmId}/", cancellationToken))
            .Select(o => Path.GetFileNameWithoutExtension(o.Key))
            .Select(name => long.TryParse(name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0)
            .DefaultIfEmpty(0)
            .Max();
}
