using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace Stratus.HostAgent.Drivers.Qemu;

/// <summary>Internal qcow2 snapshots of a VM's disk: taken by the running QEMU over QMP, or by qemu-img when stopped.</summary>
public sealed partial class QemuDriver
{
    public async Task<VmSnapshot> CreateSnapshotAsync(string vmId, string snapshotName, CancellationToken cancellationToken = default)
    {
        ValidateSnapshotName(snapshotName);
        var folder = Existing(vmId);
        await using var _ = await LockAsync(vmId, cancellationToken);
        if ((await SnapshotsAsync(folder, cancellationToken)).FirstOrDefault(s => s.Name == snapshotName) is { } existing)
        {
            return existing;
        }

        if (folder.RunningPid() is not null)
        {
            // Disk only, taken atomically by the running QEMU: crash-consistent, no pause, no copy of the RAM
            // (savevm would store the whole memory in every restore point and needs HMP).
            await QmpAsync(folder, "blockdev-snapshot-internal-sync", new JsonObject { ["device"] = DiskNode, ["name"] = snapshotName }, cancellationToken);
        }
        else
        {
            await QemuImgAsync(["snapshot", "-c", snapshotName, folder.DiskFile], cancellationToken);
        }

        LogSnapshot(_logger, vmId, snapshotName, "created");
        return (await SnapshotsAsync(folder, cancellationToken)).First(s => s.Name == snapshotName);
    }

    public async Task<IReadOnlyList<VmSnapshot>> ListSnapshotsAsync(string vmId, CancellationToken cancellationToken = default)
    {
        var folder = Existing(vmId);
        await using var _ = await LockAsync(vmId, cancellationToken);
        return await SnapshotsAsync(folder, cancellationToken);
    }

    public async Task<VmInfo> RevertSnapshotAsync(string vmId, string snapshotName, CancellationToken cancellationToken = default)
    {
        ValidateSnapshotName(snapshotName);
        var folder = Existing(vmId);
        await using var _ = await LockAsync(vmId, cancellationToken);
        await RequireSnapshotAsync(folder, snapshotName, cancellationToken);
        // QEMU cannot swap a running disk's contents under the guest: the guest is shut down, the disk reverted offline.
        var wasRunning = folder.RunningPid() is not null;
        if (wasRunning)
        {
            await StopCoreAsync(folder, _options.GracefulStopTimeout, cancellationToken);
        }

        // A revert rewrites the disk behind the copies' dirty bitmaps, and qemu-img refuses it while the disk has any
        // ("Device has active dirty bitmaps"): they go, and the next copy to each store is a full one.
        await RemoveCopyBitmapsAsync(folder, cancellationToken);
        await QemuImgAsync(["snapshot", "-a", snapshotName, folder.DiskFile], cancellationToken);
        // A snapshot keeps the disk size it was taken at; the plan's disk may have grown since.
        var planBytes = folder.ReadRecord().Spec.Size.DiskGiB * GiB;
        if (await VirtualSizeAsync(folder.DiskFile, cancellationToken) < planBytes)
        {
            await QemuImgAsync(["resize", "-q", folder.DiskFile, planBytes.ToString(CultureInfo.InvariantCulture)], cancellationToken);
        }

        LogSnapshot(_logger, vmId, snapshotName, "reverted to");
        if (wasRunning)
        {
            await StartCoreAsync(folder, cancellationToken);
        }

        return Describe(folder);
    }

    public async Task DeleteSnapshotAsync(string vmId, string snapshotName, CancellationToken cancellationToken = default)
    {
        ValidateSnapshotName(snapshotName);
        var folder = Existing(vmId);
        await using var _ = await LockAsync(vmId, cancellationToken);
        if ((await SnapshotsAsync(folder, cancellationToken)).All(s => s.Name != snapshotName))
        {
            return;
        }

        if (folder.RunningPid() is not null)
        {
            await QmpAsync(folder, "blockdev-snapshot-delete-internal-sync", new JsonObject { ["device"] = DiskNode, ["name"] = snapshotName }, cancellationToken);
        }
        else
        {
            await QemuImgAsync(["snapshot", "-d", snapshotName, folder.DiskFile], cancellationToken);
        }

        LogSnapshot(_logger, vmId, snapshotName, "deleted");
    }

    public async Task ExportSnapshotAsync(string vmId, string snapshotName, string destinationPath, CancellationToken cancellationToken = default)
    {
        ValidateSnapshotName(snapshotName);
        var folder = Existing(vmId);
        var destination = Path.GetFullPath(destinationPath);
        await using var _ = await LockAsync(vmId, cancellationToken);
        await RequireSnapshotAsync(folder, snapshotName, cancellationToken);
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        var partial = destination + PartialSuffix;
        // convert reads through the backing chain, so the copy stands alone. A running VM holds the image's
        // write lock; -U reads beside it, which is safe for a snapshot: its clusters are never written again.
        List<string> arguments = ["convert", "-O", "qcow2", "-l", $"snapshot.name={snapshotName}", folder.DiskFile, partial];
        if (folder.RunningPid() is not null)
        {
            arguments.Insert(1, "-U");
        }

        try
        {
            await QemuImgAsync(arguments, cancellationToken);
            File.Move(partial, destination, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
        }

        LogSnapshot(_logger, vmId, snapshotName, $"exported to {destination}");
    }

    private async Task<IReadOnlyList<VmSnapshot>> SnapshotsAsync(VmFolder folder, CancellationToken cancellationToken)
    {
        JsonElement list;
        if (folder.RunningPid() is not null)
        {
            // The running QEMU has the image open for writing: ask it, not the file.
            var devices = await QmpAsync(folder, "query-block", null, cancellationToken);
            var disk = devices.EnumerateArray().FirstOrDefault(d =>
                d.TryGetProperty("inserted", out var inserted) && inserted.GetProperty("node-name").GetString() == DiskNode);
            if (disk.ValueKind == JsonValueKind.Undefined
                || !disk.GetProperty("inserted").GetProperty("image").TryGetProperty("snapshots", out list))
            {
                return [];
            }
        }
        else
        {
            var info = await QemuImgAsync(["info", "--output=json", folder.DiskFile], cancellationToken);
            using var document = JsonDocument.Parse(info.StandardOutput);
            if (!document.RootElement.TryGetProperty("snapshots", out list))
            {
                return [];
            }

            list = list.Clone();
        }

        return list.EnumerateArray()
            .Select(s => new VmSnapshot(
                s.GetProperty("name").GetString() ?? "",
                DateTimeOffset.FromUnixTimeSeconds(s.GetProperty("date-sec").GetInt64())))
            .ToList();
    }

    private async Task RequireSnapshotAsync(VmFolder folder, string snapshotName, CancellationToken cancellationToken)
    {
        if ((await SnapshotsAsync(folder, cancellationToken)).All(s => s.Name != snapshotName))
        {
            throw new SnapshotNotFoundException(folder.Id, snapshotName);
        }
    }

    private static void ValidateSnapshotName(string name)
    {
        if (!SnapshotNamePattern().IsMatch(name))
        {
            throw new ArgumentException($"'{name}' is not a snapshot name: letters, digits, '.', '_' and '-', at most 64 characters.", nameof(name));
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex SnapshotNamePattern();

    [LoggerMessage(EventId = 6012, Level = LogLevel.Information, Message = "VM {VmId}: snapshot {Snapshot} {Action}")]
    private static partial void LogSnapshot(ILogger logger, string vmId, string snapshot, string action);
}
