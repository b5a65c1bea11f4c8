using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Stratus.HostAgent.Confinement;

namespace Stratus.HostAgent.Drivers.Qemu;

/// <summary>
/// Runs VMs with qemu-system-x86_64 on this host. Each VM is a QEMU process started confined and detached
/// (ConfinedLaunch), so it is not the agent's child and outlives an agent restart or crash; the agent controls it over QMP (a unix
/// socket in the VM's folder) and finds it again from the pid file QEMU writes. One driver owns a data
/// folder at a time (a lock file), and operations on one VM are serialized.
/// </summary>
public sealed partial class QemuDriver : IVmDriver, IDisposable
{
    private const string DiskNode = "disk0";
    private const long GiB = 1024L * 1024 * 1024;
    private const string PartialSuffix = ".partial";

    private readonly QemuDriverOptions _options;
    private readonly Accelerator _accelerator;
    private readonly ILogger<QemuDriver> _logger;
    private readonly TimeProvider _time;
    private readonly string _vmsRoot;
    private readonly FileStream _ownership;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _vmLocks = new(StringComparer.Ordinal);
    private readonly HostConfinement _confinement;

    public QemuDriver(QemuDriverOptions options, Accelerator accelerator, ILogger<QemuDriver> logger, TimeProvider time)
    {
        var data = Path.GetFullPath(options.DataDirectory).TrimEnd('/');
        if (data.Length > QemuDriverOptions.MaxDataDirectoryLength || data.Contains(',', StringComparison.Ordinal))
        {
            throw new VmDriverException(
                $"The data folder '{data}' must be at most {QemuDriverOptions.MaxDataDirectoryLength} characters without ',': QEMU's unix sockets live under it.");
        }

        _options = options with { DataDirectory = data };
        _accelerator = accelerator;
        _logger = logger;
        _time = time;
        _vmsRoot = Path.Combine(data, "vms");
        Directory.CreateDirectory(_vmsRoot);
        // QEMU runs as the guest user: it passes through (never lists) the data folder to its VM's own folder.
        GuestUser.MakePassable(data);
        GuestUser.MakePassable(_vmsRoot);
        _confinement = new HostConfinement(_options.Confinement, logger);
        try
        {
            // An exclusive lock (flock) that the kernel drops when the process dies, even by kill -9.
            _ownership = new FileStream(Path.Combine(data, "driver.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException exception)
        {
            throw new VmDriverException($"Another host agent uses {data}: one driver per data folder.", exception);
        }
    }

    public string Name => "qemu";

    public async Task<IReadOnlyList<VmInfo>> AdoptAsync(CancellationToken cancellationToken = default)
    {
        foreach (var partial in Directory.EnumerateDirectories(_vmsRoot, "*" + PartialSuffix))
        {
            // A create that died before its atomic rename: no one knows of this VM yet.
            Directory.Delete(partial, recursive: true);
            LogRemovedPartial(_logger, partial);
        }

        KillOrphans();
        try
        {
            await _confinement.EnsureAsync(cancellationToken);
        }
        catch (VmDriverException)
        {
            // Set up at the agent's start; a failure (logged) keeps VMs from starting, not the agent from running.
        }

        var adopted = new List<VmInfo>();
        foreach (var folder in Folders())
        {
            await using var _ = await LockAsync(folder.Id, cancellationToken);
            var info = Describe(folder);
            if (info.PowerState == VmPowerState.Running)
            {
                try
                {
                    await QmpAsync(folder, "query-status", null, cancellationToken);
                    LogAdopted(_logger, folder.Id, info.ProcessId ?? 0);
                }
                catch (Exception exception) when (exception is VmDriverException or TimeoutException)
                {
                    info = info with { PowerState = VmPowerState.Unresponsive };
                    LogUnresponsive(_logger, folder.Id, exception.Message);
                }
            }
            else if (info.PowerState == VmPowerState.Crashed)
            {
                LogCrashed(_logger, folder.Id);
            }

            adopted.Add(info);
        }

        return adopted;
    }

    public Task<IReadOnlyList<VmInfo>> ListAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<VmInfo>>(Folders().Select(Describe).ToList());

    public Task<VmInfo?> GetAsync(string vmId, CancellationToken cancellationToken = default)
    {
        var folder = FolderOf(vmId);
        return Task.FromResult(folder.Exists ? Describe(folder) : null);
    }

    public async Task<VmInfo> CreateAsync(VmSpec spec, CancellationToken cancellationToken = default)
    {
        ValidateSize(spec.Size);
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

        var image = await GalleryImage.LoadAsync(spec.ImagePath, verify: true, cancellationToken);
        var baseSize = await VirtualSizeAsync(image.BaseDiskPath, cancellationToken);
        var diskSize = spec.Size.DiskGiB * GiB;
        if (diskSize < baseSize)
        {
            throw new VmConflictException($"A {spec.Size.DiskGiB} GiB disk is smaller than image '{image.Name}' ({baseSize / GiB} GiB).");
        }

        // Built aside and renamed in one step: a crash leaves a .partial folder (removed on adoption), never half a VM.
        var partial = new VmFolder(folder.Path + PartialSuffix);
        if (Directory.Exists(partial.Path))
        {
            Directory.Delete(partial.Path, recursive: true);
        }

        Directory.CreateDirectory(partial.Path);
        try
        {
            await QemuImgAsync(["create", "-q", "-f", "qcow2", "-b", image.BaseDiskPath, "-F", "qcow2", partial.DiskFile,
                diskSize.ToString(CultureInfo.InvariantCulture)], cancellationToken);
            partial.WriteRecord(new VmRecord(VmRecord.CurrentFormatVersion, spec, _time.GetUtcNow()));
            Directory.Move(partial.Path, folder.Path);
        }
        catch
        {
            Directory.Delete(partial.Path, recursive: true);
            throw;
        }

        LogCreated(_logger, spec.Id, image.Name, spec.Size.DiskGiB);
        return Describe(folder);
    }

    public async Task<VmInfo> StartAsync(string vmId, CancellationToken cancellationToken = default)
    {
        var folder = Existing(vmId);
        await using var _ = await LockAsync(vmId, cancellationToken);
        await StartCoreAsync(folder, cancellationToken);
        return Describe(folder);
    }

    public async Task<VmInfo> StopAsync(string vmId, TimeSpan? gracePeriod = null, CancellationToken cancellationToken = default)
    {
        var folder = Existing(vmId);
        await using var _ = await LockAsync(vmId, cancellationToken);
        await StopCoreAsync(folder, gracePeriod ?? _options.GracefulStopTimeout, cancellationToken);
        return Describe(folder);
    }

    public async Task<VmInfo> RestartAsync(string vmId, CancellationToken cancellationToken = default)
    {
        var folder = Existing(vmId);
        await using var _ = await LockAsync(vmId, cancellationToken);
        await StopCoreAsync(folder, _options.GracefulStopTimeout, cancellationToken);
        await StartCoreAsync(folder, cancellationToken);
        return Describe(folder);
    }

    public async Task DeleteAsync(VmTombstone tombstone, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tombstone);
        var vmId = tombstone.VmId;
        var folder = FolderOf(vmId);
        await using var _ = await LockAsync(vmId, cancellationToken);
        if (Directory.Exists(folder.Path))
        {
            // No grace: the disk goes too, so there is nothing for the guest to save.
            await StopCoreAsync(folder, TimeSpan.Zero, cancellationToken);
            Directory.Delete(folder.Path, recursive: true);
            _confinement.Current?.Cgroups.Remove(CgroupName(vmId));
            LogDeleted(_logger, vmId);
        }

        if (Directory.Exists(folder.Path + PartialSuffix))
        {
            Directory.Delete(folder.Path + PartialSuffix, recursive: true);
        }
    }

    public async Task<VmInfo> ResizeAsync(string vmId, VmSize size, CancellationToken cancellationToken = default)
    {
        ValidateSize(size);
        var folder = Existing(vmId);
        await using var _ = await LockAsync(vmId, cancellationToken);
        var record = folder.ReadRecord();
        if (size.DiskGiB < record.Spec.Size.DiskGiB)
        {
            throw new VmConflictException($"VM '{vmId}' has a {record.Spec.Size.DiskGiB} GiB disk: disks grow, never shrink.");
        }

        var bytes = size.DiskGiB * GiB;
        if (size.DiskGiB > record.Spec.Size.DiskGiB)
        {
            // The disk first: a crash before the record is written leaves a bigger disk, and a retry grows it to the same size.
            if (folder.RunningPid() is not null)
            {
                await QmpAsync(folder, "block_resize", new JsonObject { ["node-name"] = DiskNode, ["size"] = bytes }, cancellationToken);
            }
            else
            {
                await QemuImgAsync(["resize", "-q", folder.DiskFile, bytes.ToString(CultureInfo.InvariantCulture)], cancellationToken);
            }
        }

        folder.WriteRecord(record with { Spec = record.Spec with { Size = size } });
        LogResized(_logger, vmId, size.VCpus, size.MemoryMiB, size.DiskGiB);
        return Describe(folder);
    }

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

    public Task<string> ReadSerialLogTailAsync(string vmId, int lines = 40, CancellationToken cancellationToken = default) =>
        Task.FromResult(SerialLog.Tail(Existing(vmId).ReadSerialLog(), lines));

    public void Dispose()
    {
        _ownership.Dispose();
        foreach (var gate in _vmLocks.Values)
        {
            gate.Dispose();
        }
    }

    private async Task StartCoreAsync(VmFolder folder, CancellationToken cancellationToken)
    {
        var record = folder.ReadRecord();
        var image = await GalleryImage.LoadAsync(record.Spec.ImagePath, verify: false, cancellationToken);
        if (folder.RunningPid() is { } runningPid)
        {
            // Already running (perhaps adopted while booting): only wait for it to be ready.
            await WaitUntilReadyAsync(folder, runningPid, image.ReadyMarker, _time.GetTimestamp(), cancellationToken);
            return;
        }

        var accelerator = await _accelerator.ResolveAsync(image, cancellationToken);
        var confined = await _confinement.EnsureAsync(cancellationToken);
        folder.ClearRunFiles(includingRuntime: true);
        folder.RotateSerialLog();
        var cgroupProcs = await PrepareConfinedAsync(folder, record.Spec, image, confined, cancellationToken);
        var started = _time.GetTimestamp();
        int pid;
        try
        {
            pid = await ConfinedLaunch.StartAsync(_options.QemuSystem, QemuArguments(folder, record.Spec, image, accelerator, _options.Confinement),
                folder, confined.User, cgroupProcs, _time, cancellationToken);
        }
        catch (VmDriverException)
        {
            folder.ClearRunFiles(includingRuntime: true);
            throw;
        }

        folder.WriteRuntime(new VmRuntime(pid, accelerator.Name, record.Spec.Size, _time.GetUtcNow()));
        LogStarting(_logger, folder.Id, pid, accelerator.Name, record.Spec.Size.VCpus, record.Spec.Size.MemoryMiB);
        await WaitUntilReadyAsync(folder, pid, image.ReadyMarker, started, cancellationToken);
    }

    private async Task WaitUntilReadyAsync(VmFolder folder, int pid, string? marker, long started, CancellationToken cancellationToken)
    {
        var readiness = GuestReadiness.ForMarker(marker);
        string? failure = null;
        while (failure is null)
        {
            var log = folder.ReadSerialLog();
            if (readiness.IsReady(log))
            {
                LogReady(_logger, folder.Id, _time.GetElapsedTime(started).TotalSeconds);
                return;
            }

            if (log.Contains("Kernel panic - not syncing", StringComparison.Ordinal))
            {
                // A panicked kernel never comes back: no point in waiting out the timeout.
                failure = "its kernel panicked";
            }
            else if (!HostProcess.IsRunning(pid, folder.ProcessMark))
            {
                failure = "its QEMU process ended while it booted";
            }
            else if (_time.GetElapsedTime(started) > _options.ReadyTimeout)
            {
                failure = readiness.NotReadyWithin(_options.ReadyTimeout);
            }
            else
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), _time, cancellationToken);
            }
        }

        // A guest that cannot boot is turned off rather than left spinning; its log stays for diagnosis.
        var tail = SerialLog.Tail(folder.ReadSerialLog(), 40);
        await StopCoreAsync(folder, TimeSpan.Zero, CancellationToken.None);
        LogBootFailed(_logger, folder.Id, failure);
        throw new VmBootFailedException(folder.Id, failure, tail);
    }

    private async Task StopCoreAsync(VmFolder folder, TimeSpan gracePeriod, CancellationToken cancellationToken)
    {
        if (folder.RunningPid() is not { } pid)
        {
            folder.ClearRunFiles(includingRuntime: true);
            return;
        }

        var how = "forced";
        if (gracePeriod > TimeSpan.Zero)
        {
            try
            {
                await QmpAsync(folder, "system_powerdown", null, cancellationToken);
                if (await HostProcess.WaitForExitAsync(pid, folder.ProcessMark, gracePeriod, _time, cancellationToken))
                {
                    how = "graceful (ACPI power-off)";
                }
            }
            catch (Exception exception) when (exception is VmDriverException or TimeoutException)
            {
                LogPowerdownFailed(_logger, folder.Id, exception.Message);
            }
        }

        if (HostProcess.IsRunning(pid, folder.ProcessMark))
        {
            // quit lets QEMU flush the disk's metadata; SIGKILL only if QEMU itself is stuck.
            string? quitError = null;
            try
            {
                await QmpAsync(folder, "quit", null, cancellationToken, TimeSpan.FromSeconds(5));
            }
            catch (Exception exception) when (exception is VmDriverException or TimeoutException)
            {
                // QEMU may close the connection before its answer to quit: only a process that stays counts.
                quitError = exception.Message;
            }

            if (!await HostProcess.WaitForExitAsync(pid, folder.ProcessMark, TimeSpan.FromSeconds(10), _time, cancellationToken))
            {
                LogPowerdownFailed(_logger, folder.Id, quitError ?? "quit was answered but QEMU still runs");
                HostProcess.Kill(pid, folder.ProcessMark);
                how = "killed";
                if (!await HostProcess.WaitForExitAsync(pid, folder.ProcessMark, TimeSpan.FromSeconds(10), _time, cancellationToken))
                {
                    throw new VmDriverException($"QEMU process {pid} of VM '{folder.Id}' survives SIGKILL.");
                }
            }
        }

        folder.ClearRunFiles(includingRuntime: true);
        _confinement.Current?.Cgroups.Remove(CgroupName(folder.Id));
        LogStopped(_logger, folder.Id, how);
    }

    /// <summary>The VM's cgroup: the id, prefixed by this data folder's, as two agents of one machine may share ids.</summary>
    private string CgroupName(string vmId) =>
        $"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(_vmsRoot)))[..8]}-{vmId}";

    private VmInfo Describe(VmFolder folder)
    {
        var spec = folder.ReadRecord().Spec;
        var runtime = folder.ReadRuntime();
        if (folder.RunningPid() is { } pid)
        {
            var marker = ReadyMarkerOf(spec);
            return new VmInfo
            {
                Id = folder.Id,
                PowerState = VmPowerState.Running,
                Spec = spec,
                Ready = GuestReadiness.ForMarker(marker).IsReady(folder.ReadSerialLog()),
                BootedSize = runtime?.BootedSize,
                ProcessId = pid,
                Accelerator = runtime?.Accelerator,
                StartedAt = runtime?.StartedAt,
                Console = folder.Console,
            };
        }

        // Meant to run but no process: a crash, unless the guest powered itself off.
        var state = runtime is not null && !SerialLog.EndsWithPowerOff(folder.ReadSerialLog())
            ? VmPowerState.Crashed
            : VmPowerState.Stopped;
        return new VmInfo { Id = folder.Id, PowerState = state, Spec = spec, Console = folder.Console };
    }

    /// <summary>As <see cref="GalleryImage.ReadyMarker"/>: null for an image that boots from its disk and names no marker.</summary>
    private static string? ReadyMarkerOf(VmSpec spec)
    {
        try
        {
            using var stream = File.OpenRead(Path.Combine(spec.ImagePath, GalleryImage.ManifestFileName));
            using var manifest = JsonDocument.Parse(stream);
            if (manifest.RootElement.TryGetProperty("readyMarker", out var marker) && marker.GetString() is { } named)
            {
                return named;
            }

            return manifest.RootElement.TryGetProperty("kernel", out _) ? GalleryImage.DefaultReadyMarker : null;
        }
        catch (Exception exception) when (exception is IOException or JsonException or UnauthorizedAccessException)
        {
            return GalleryImage.DefaultReadyMarker;
        }
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

    private async Task<JsonElement> QmpAsync(VmFolder folder, string command, JsonObject? arguments, CancellationToken cancellationToken,
        TimeSpan? timeout = null)
    {
        var budget = timeout ?? _options.QmpTimeout;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(budget);
        try
        {
            await using var qmp = await QmpClient.ConnectAsync(folder.QmpSocket, budget, deadline.Token);
            return await qmp.ExecuteAsync(command, arguments, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"QMP {command} on VM '{folder.Id}' took longer than {budget.TotalSeconds:0.#} s.");
        }
        catch (Exception exception) when (exception is IOException or System.Net.Sockets.SocketException)
        {
            throw new VmDriverException($"QMP {command} on VM '{folder.Id}' failed: {exception.Message}", exception);
        }
    }

    private async Task<long> VirtualSizeAsync(string disk, CancellationToken cancellationToken)
    {
        var info = await QemuImgAsync(["info", "--output=json", disk], cancellationToken);
        using var document = JsonDocument.Parse(info.StandardOutput);
        return document.RootElement.GetProperty("virtual-size").GetInt64();
    }

    private Task<CommandResult> QemuImgAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        CommandRunner.RunCheckedAsync(_options.QemuImg, arguments, _options.QemuImgTimeout, cancellationToken);

    /// <summary>What the guest user must read (the image) and own (the VM's folder), and the VM's cgroups.</summary>
    private async Task<IReadOnlyList<string>> PrepareConfinedAsync(VmFolder folder, VmSpec spec, GalleryImage image, HostConfinement.Ready confined,
        CancellationToken cancellationToken)
    {
        foreach (var file in new[] { image.KernelPath, image.InitrdPath, image.BaseDiskPath }.OfType<string>())
        {
            confined.User.RequireReadable(file);
        }

        // The folder itself is the user's (below); the folders above it must let the user through.
        confined.User.RequirePassable(Path.GetDirectoryName(folder.Path)!);
        await confined.User.OwnAsync(folder.Path, [folder.DiskFile, folder.SerialLog, folder.PreviousSerialLog], cancellationToken);
        return confined.Cgroups.Prepare(CgroupName(folder.Id), spec.Size.VCpus, _confinement.MemoryLimitBytes(spec.Size.MemoryMiB));
    }

    private static List<string> QemuArguments(VmFolder folder, VmSpec spec, GalleryImage image, AcceleratorChoice accelerator,
        GuestConfinementOptions confinement)
    {
        // A gallery image boots its kernel directly; a custom image boots from its disk (the firmware's first boot device).
        var commandLine = $"{image.KernelCommandLine} stratus.hostname={spec.HostName ?? spec.Id} {spec.KernelArguments}".Trim();
        string[] boot = image.KernelPath is { } kernel
            ? ["-kernel", kernel, "-initrd", image.InitrdPath!, "-append", commandLine]
            : [];
        var disk = image.KernelPath is null ? $"virtio-blk-pci,drive={DiskNode},id=vd0,bootindex=0" : $"virtio-blk-pci,drive={DiskNode},id=vd0";
        return
        [
            "-name", $"guest={spec.Id},process=stratus-{spec.Id}",
            "-nodefaults", "-no-user-config",
            "-machine", "q35",
            "-accel", accelerator.Name == "tcg" ? $"tcg,tb-size={confinement.TranslationCacheMiB.ToString(CultureInfo.InvariantCulture)}" : accelerator.Name,
            // seccomp: no obsolete syscalls, no setuid, no fork/exec, no scheduler or cgroup changes (docs/adr/0007).
            "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
            "-smp", spec.Size.VCpus.ToString(CultureInfo.InvariantCulture),
            "-m", spec.Size.MemoryMiB.ToString(CultureInfo.InvariantCulture),
            .. boot,
            "-blockdev", $"driver=qcow2,node-name={DiskNode},file.driver=file,file.filename={folder.DiskFile}",
            "-device", disk,
            // Hosted network: QEMU's user-mode NAT. romfile= because Debian's QEMU ships no iPXE ROM without ipxe-qemu.
            "-netdev", "user,id=net0", "-device", "virtio-net-pci,netdev=net0,romfile=",
            "-device", "VGA",
            // The serial console: a socket to type on, and a log QEMU writes whether or not anyone is connected.
            "-chardev", $"socket,id=serial0,path={folder.SerialSocket},server=on,wait=off,logfile={folder.SerialLog},logappend=on",
            "-serial", "chardev:serial0",
            "-chardev", $"socket,id=qmp,path={folder.QmpSocket},server=on,wait=off",
            "-mon", "chardev=qmp,mode=control",
            "-vnc", $"unix:{folder.VncSocket}",
            "-display", "none",
            // Detached from the agent by ConfinedLaunch (its own session, stdio on /dev/null): an agent restart leaves VMs running.
            "-pidfile", folder.PidFile,
        ];
    }

    private IEnumerable<VmFolder> Folders() =>
        Directory.EnumerateDirectories(_vmsRoot)
            .Where(path => !path.EndsWith(PartialSuffix, StringComparison.Ordinal))
            .Select(path => new VmFolder(path))
            .Where(folder => folder.Exists)
            .OrderBy(folder => folder.Id, StringComparer.Ordinal);

    /// <summary>QEMU processes of this data folder whose VM folder is gone (deleted by hand, or a delete cut short).</summary>
    private void KillOrphans()
    {
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid))
            {
                continue;
            }

            string commandLine;
            try
            {
                commandLine = File.ReadAllText(Path.Combine(entry, "cmdline"));
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            var arguments = commandLine.Split('\0');
            var pidFile = Array.IndexOf(arguments, "-pidfile") is var index and >= 0 && index + 1 < arguments.Length ? arguments[index + 1] : null;
            if (pidFile is not null && Path.GetDirectoryName(Path.GetDirectoryName(pidFile)) == _vmsRoot
                && !File.Exists(Path.Combine(Path.GetDirectoryName(pidFile)!, "vm.json")))
            {
                HostProcess.Kill(pid, pidFile);
                LogKilledOrphan(_logger, pid, pidFile);
            }
        }
    }

    private VmFolder FolderOf(string vmId)
    {
        ValidateId(vmId);
        return new VmFolder(Path.Combine(_vmsRoot, vmId));
    }

    private VmFolder Existing(string vmId)
    {
        var folder = FolderOf(vmId);
        return folder.Exists ? folder : throw new VmNotFoundException(vmId);
    }

    private async Task<Releaser> LockAsync(string vmId, CancellationToken cancellationToken)
    {
        var gate = _vmLocks.GetOrAdd(vmId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        return new Releaser(gate);
    }

    private readonly struct Releaser(SemaphoreSlim gate) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            gate.Release();
            return ValueTask.CompletedTask;
        }
    }

    private static void ValidateId(string vmId)
    {
        if (!VmIdPattern().IsMatch(vmId))
        {
            throw new ArgumentException($"'{vmId}' is not a VM id: lower-case letters, digits and '-', at most 40 characters.", nameof(vmId));
        }
    }

    private static void ValidateSnapshotName(string name)
    {
        if (!SnapshotNamePattern().IsMatch(name))
        {
            throw new ArgumentException($"'{name}' is not a snapshot name: letters, digits, '.', '_' and '-', at most 64 characters.", nameof(name));
        }
    }

    private static void ValidateSize(VmSize size)
    {
        if (size.VCpus is < 1 or > 64 || size.MemoryMiB is < 128 or > 1024 * 1024 || size.DiskGiB is < 1 or > 64 * 1024)
        {
            throw new ArgumentException($"{size} is not a VM size: 1-64 vCPUs, at least 128 MiB of memory, at least 1 GiB of disk.", nameof(size));
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,39}$")]
    private static partial Regex VmIdPattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex SnapshotNamePattern();

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Created VM {VmId} from image {Image} with a {DiskGiB} GiB disk")]
    private static partial void LogCreated(ILogger logger, string vmId, string image, int diskGiB);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Information, Message = "Started VM {VmId} (pid {Pid}, {Accelerator}, {VCpus} vCPU, {MemoryMiB} MiB)")]
    private static partial void LogStarting(ILogger logger, string vmId, int pid, string accelerator, int vCpus, int memoryMiB);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Information, Message = "VM {VmId} is ready, {Seconds:0.0} s after its start")]
    private static partial void LogReady(ILogger logger, string vmId, double seconds);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Warning, Message = "VM {VmId} failed to boot: {Reason}")]
    private static partial void LogBootFailed(ILogger logger, string vmId, string reason);

    [LoggerMessage(EventId = 6006, Level = LogLevel.Information, Message = "Stopped VM {VmId}: {How}")]
    private static partial void LogStopped(ILogger logger, string vmId, string how);

    [LoggerMessage(EventId = 6007, Level = LogLevel.Information, Message = "Deleted VM {VmId} and its disk")]
    private static partial void LogDeleted(ILogger logger, string vmId);

    [LoggerMessage(EventId = 6008, Level = LogLevel.Information, Message = "Adopted running VM {VmId} (pid {Pid})")]
    private static partial void LogAdopted(ILogger logger, string vmId, int pid);

    [LoggerMessage(EventId = 6009, Level = LogLevel.Warning, Message = "VM {VmId} was running and its process is gone: crashed")]
    private static partial void LogCrashed(ILogger logger, string vmId);

    [LoggerMessage(EventId = 6010, Level = LogLevel.Warning, Message = "Removed {Path}, left by an interrupted create")]
    private static partial void LogRemovedPartial(ILogger logger, string path);

    [LoggerMessage(EventId = 6011, Level = LogLevel.Warning, Message = "Killed QEMU process {Pid} ({PidFile}): its VM folder is gone")]
    private static partial void LogKilledOrphan(ILogger logger, int pid, string pidFile);

    [LoggerMessage(EventId = 6012, Level = LogLevel.Information, Message = "VM {VmId}: snapshot {Snapshot} {Action}")]
    private static partial void LogSnapshot(ILogger logger, string vmId, string snapshot, string action);

    [LoggerMessage(EventId = 6013, Level = LogLevel.Information, Message = "Resized VM {VmId} to {VCpus} vCPU, {MemoryMiB} MiB, {DiskGiB} GiB")]
    private static partial void LogResized(ILogger logger, string vmId, int vCpus, int memoryMiB, int diskGiB);

    [LoggerMessage(EventId = 6014, Level = LogLevel.Warning, Message = "VM {VmId} runs but its QMP does not answer: {Error}")]
    private static partial void LogUnresponsive(ILogger logger, string vmId, string error);

    [LoggerMessage(EventId = 6015, Level = LogLevel.Warning, Message = "VM {VmId}: QMP request failed while stopping: {Error}")]
    private static partial void LogPowerdownFailed(ILogger logger, string vmId, string error);
}
