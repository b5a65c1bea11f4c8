using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Stratus.HostAgent.Copies;

namespace Stratus.HostAgent.Drivers.Qemu;

/// <summary>
/// Disk copies to a store (a chain of a full copy and increments, made by QEMU from a persistent dirty bitmap per
/// store) and VMs made from them.
/// </summary>
public sealed partial class QemuDriver
{
    private const string CopyStateFile = "copies.json";

    public async Task<DiskCopyResult> CopyDiskAsync(string vmId, ICopyStore store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var folder = Existing(vmId);
        var bitmap = BitmapName(store.Uri);
        var chain = new DiskCopyChain(store, vmId, ChainTools());
        // One copy per VM and store at a time; the VM's own lock only while QEMU copies, not while the file uploads.
        await using var copying = await LockAsync($"copy:{vmId}:{bitmap}", cancellationToken);
        var manifest = await chain.ReadAsync(cancellationToken);
        var state = ReadCopyState(folder);
        // The bitmap counts writes since the copy this host last stored: only an increment on that very copy is right.
        var chainMatches = manifest is not null && state.TryGetValue(bitmap, out var lastKey) && lastKey == manifest.Latest.Key;
        var target = Path.Combine(folder.Path, $"copy-{bitmap}.qcow2");
        File.Delete(target);
        try
        {
            var (full, diskBytes, takenAt) = await BackupAsync(folder, bitmap, target, chainMatches, cancellationToken);
            // Until the chain holds this copy, the bitmap (already cleared) does not match it: a failure from here on
            // must make the next copy full.
            ForgetCopy(folder, bitmap);
            var appended = await chain.AppendAsync(full ? null : manifest, target, full ? DiskCopyKind.Full : DiskCopyKind.Incremental,
                diskBytes, takenAt, _options.DiskCopyMaxIncrements, folder.Path, cancellationToken);
            RememberCopy(folder, bitmap, appended.Latest.Key);
            var latest = appended.Latest;
            LogCopied(_logger, vmId, full ? "full" : "incremental", latest.Bytes, diskBytes, appended.Copies.Count, store.Uri);
            return new DiskCopyResult(store.Uri, full, latest.Bytes, diskBytes, appended.Copies.Count, takenAt, latest.Sha256);
        }
        finally
        {
            File.Delete(target);
        }
    }

    public async Task<VmInfo> CreateFromCopyAsync(VmSpec spec, ICopyStore store, string sourceVmId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ValidateSize(spec.Size);
        ValidateId(sourceVmId);
        spec = spec with { ImagePath = Path.GetFullPath(spec.ImagePath) };
        var folder = FolderOf(spec.Id);
        await using var _ = await LockAsync(spec.Id, cancellationToken);
        if (folder.Exists)
        {
            var existing = folder.ReadRecord().Spec;
            return existing == spec
                ? Describe(folder)
                : throw new VmConflictException($"VM '{spec.Id}' exists with another spec ({existing}).");
        }

        // The image still boots the VM (its kernel); only the disk comes from the copy.
        var image = await GalleryImage.LoadAsync(spec.ImagePath, verify: true, cancellationToken);
        var partial = new VmFolder(folder.Path + PartialSuffix);
        if (Directory.Exists(partial.Path))
        {
            Directory.Delete(partial.Path, recursive: true);
        }

        Directory.CreateDirectory(partial.Path);
        try
        {
            var manifest = await new DiskCopyChain(store, sourceVmId, ChainTools()).MaterializeAsync(partial.DiskFile, partial.Path, cancellationToken);
            var copyBytes = await VirtualSizeAsync(partial.DiskFile, cancellationToken);
            var diskSize = spec.Size.DiskGiB * GiB;
            if (diskSize < copyBytes)
            {
                throw new VmConflictException($"A {spec.Size.DiskGiB} GiB disk is smaller than the copy of VM '{sourceVmId}' ({copyBytes} bytes).");
            }

            if (diskSize > copyBytes)
            {
                await QemuImgAsync(["resize", "-q", partial.DiskFile, diskSize.ToString(CultureInfo.InvariantCulture)], cancellationToken);
            }

            partial.WriteRecord(new VmRecord(VmRecord.CurrentFormatVersion, spec, _time.GetUtcNow()));
            Directory.Move(partial.Path, folder.Path);
            LogRestored(_logger, spec.Id, sourceVmId, manifest.Copies.Count, manifest.Latest.TakenAt, store.Uri);
        }
        catch
        {
            Directory.Delete(partial.Path, recursive: true);
            throw;
        }

        LogCreated(_logger, spec.Id, image.Name, spec.Size.DiskGiB);
        return Describe(folder);
    }

    /// <summary>
    /// Runs the backup in the QEMU that holds the disk: the VM's own when it runs, else a storage daemon (also for a
    /// crashed VM, whose bitmap then loads inconsistent and the copy is full). Returns whether it was full, the disk's
    /// size and the copy's point in time.
    /// </summary>
    private async Task<(bool Full, long DiskBytes, DateTimeOffset TakenAt)> BackupAsync(VmFolder folder, string bitmap, string target,
        bool chainMatches, CancellationToken cancellationToken)
    {
        await using var _ = await LockAsync(folder.Id, cancellationToken);
        if (folder.RunningPid() is not null)
        {
            await using var qmp = await QmpClient.ConnectAsync(folder.QmpSocket, _options.QmpTimeout, cancellationToken);
            return await BackupWithAsync(qmp, folder, bitmap, target, chainMatches, runningAs: _confinement.Current?.User, cancellationToken);
        }

        await using var daemon = await StorageDaemon.StartAsync(_options.QemuStorageDaemon, folder.DiskFile, DiskNode,
            Path.Combine(folder.Path, "copy.sock"), _options.QmpTimeout, _time, cancellationToken);
        var result = await BackupWithAsync(daemon.Qmp, folder, bitmap, target, chainMatches, runningAs: null, cancellationToken);
        // The bitmap is written into the qcow2 when the daemon closes it: only a clean quit keeps it for the next increment.
        await daemon.QuitAsync(_options.QmpTimeout, cancellationToken);
        return result;
    }

    private async Task<(bool Full, long DiskBytes, DateTimeOffset TakenAt)> BackupWithAsync(QmpClient qmp, VmFolder folder, string bitmap,
        string target, bool chainMatches, Confinement.GuestUser? runningAs, CancellationToken cancellationToken)
    {
        var state = await DiskBackup.InspectAsync(qmp, DiskNode, bitmap, chainMatches, cancellationToken);
        await ChainTools().CreateAsync(target, state.VirtualBytes, cancellationToken);
        if (runningAs is not null)
        {
            // A confined QEMU runs as the guest user: it must be able to write the copy it opens.
            await runningAs.OwnAsync(folder.Path, [target], cancellationToken);
        }

        var takenAt = _time.GetUtcNow();
        var full = !state.BitmapUsable;
        await DiskBackup.RunAsync(qmp, DiskNode, bitmap, target, full, _options.QemuImgTimeout, _time, cancellationToken);
        return (full, state.VirtualBytes, takenAt);
    }

    private DiskCopyChainTools ChainTools() => new(_options.QemuImg, _options.QemuImgTimeout);

    /// <summary>One bitmap per store, named from its URI (a QEMU bitmap name is at most 1023 bytes; this is short).</summary>
    internal static string BitmapName(string storeUri) =>
        "stratus-copy-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(storeUri)))[..16];

    /// <summary>Removes every persistent dirty bitmap from a stopped VM's disk and forgets the copies they counted from.</summary>
    private async Task RemoveCopyBitmapsAsync(VmFolder folder, CancellationToken cancellationToken)
    {
        var info = await QemuImgAsync(["info", "--output=json", folder.DiskFile], cancellationToken);
        using var document = JsonDocument.Parse(info.StandardOutput);
        if (!document.RootElement.TryGetProperty("format-specific", out var specific)
            || !specific.TryGetProperty("data", out var data)
            || !data.TryGetProperty("bitmaps", out var bitmaps))
        {
            return;
        }

        foreach (var name in bitmaps.EnumerateArray().Select(b => b.GetProperty("name").GetString()).OfType<string>().ToList())
        {
            await QemuImgAsync(["bitmap", "--remove", folder.DiskFile, name], cancellationToken);
            ForgetCopy(folder, name);
        }
    }

    /// <summary>Per bitmap, the key of the copy it counts writes since (VM folder's copies.json).</summary>
    private static Dictionary<string, string> ReadCopyState(VmFolder folder)
    {
        var file = Path.Combine(folder.Path, CopyStateFile);
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(file)) ?? [];
        }
        catch (Exception exception) when (exception is FileNotFoundException or JsonException)
        {
            return [];
        }
    }

    private static void RememberCopy(VmFolder folder, string bitmap, string key)
    {
        var state = ReadCopyState(folder);
        state[bitmap] = key;
        WriteCopyState(folder, state);
    }

    private static void ForgetCopy(VmFolder folder, string bitmap)
    {
        var state = ReadCopyState(folder);
        if (state.Remove(bitmap))
        {
            WriteCopyState(folder, state);
        }
    }

    private static void WriteCopyState(VmFolder folder, Dictionary<string, string> state)
    {
        var file = Path.Combine(folder.Path, CopyStateFile);
        File.WriteAllText(file + ".tmp", JsonSerializer.Serialize(state));
        File.Move(file + ".tmp", file, overwrite: true);
    }

    [LoggerMessage(EventId = 6016, Level = LogLevel.Information,
        Message = "VM {VmId}: {Kind} disk copy of {Bytes} bytes (disk {DiskBytes} bytes), chain of {ChainLength} in {Store}")]
    private static partial void LogCopied(ILogger logger, string vmId, string kind, long bytes, long diskBytes, int chainLength, string store);

    [LoggerMessage(EventId = 6017, Level = LogLevel.Information,
        Message = "VM {VmId}: disk made from VM {SourceVmId}'s chain of {ChainLength} copies (latest taken {TakenAt:o}) in {Store}")]
    private static partial void LogRestored(ILogger logger, string vmId, string sourceVmId, int chainLength, DateTimeOffset takenAt, string store);
}
