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
            var nic = folder.Exists ? folder.ReadRecord().Spec.Nic : null;
            Directory.Delete(folder.Path, recursive: true);
            _confinement.Current?.Cgroups.Remove(CgroupName(vmId));
            if (nic is not null)
            {
                await Networks.TapDevice.DeleteAsync(nic.TapName, cancellationToken);
            }

            LogDeleted(_logger, vmId);
        }

        if (Directory.Exists(folder.Path + PartialSuffix))
        {
            Directory.Delete(folder.Path + PartialSuffix, recursive: true);
        }
    }

    public async Task<VmInfo> SetNicAsync(string vmId, VmNic? nic, CancellationToken cancellationToken = default)
    {
        var folder = Existing(vmId);
        await using var _ = await LockAsync(vmId, cancellationToken);
        var record = folder.ReadRecord();
        if (record.Spec.Nic == nic)
        {
            return Describe(folder);
        }

        // A restart, not a QMP hot swap: the guest must ask the new network's DHCP server, which its init does at boot.
        var running = folder.RunningPid() is not null;
        if (running)
        {
            await StopCoreAsync(folder, _options.GracefulStopTimeout, cancellationToken);
        }

        folder.WriteRecord(record with { Spec = record.Spec with { Nic = nic } });
        if (record.Spec.Nic is { } old && old.TapName != nic?.TapName)
        {
            await Networks.TapDevice.DeleteAsync(old.TapName, cancellationToken);
        }

        if (running)
        {
            await StartCoreAsync(folder, cancellationToken);
        }

        return Describe(folder);
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

    private static void ValidateSize(VmSize size)
    {
        if (size.VCpus is < 1 or > 64 || size.MemoryMiB is < 128 or > 1024 * 1024 || size.DiskGiB is < 1 or > 64 * 1024)
        {
            throw new ArgumentException($"{size} is not a VM size: 1-64 vCPUs, at least 128 MiB of memory, at least 1 GiB of disk.", nameof(size));
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,39}$")]
    private static partial Regex VmIdPattern();

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Created VM {VmId} from image {Image} with a {DiskGiB} GiB disk")]
    private static partial void LogCreated(ILogger logger, string vmId, string image, int diskGiB);

    [LoggerMessage(EventId = 6007, Level = LogLevel.Information, Message = "Deleted VM {VmId} and its disk")]
    private static partial void LogDeleted(ILogger logger, string vmId);

    [LoggerMessage(EventId = 6013, Level = LogLevel.Information, Message = "Resized VM {VmId} to {VCpus} vCPU, {MemoryMiB} MiB, {DiskGiB} GiB")]
    private static partial void LogResized(ILogger logger, string vmId, int vCpus, int memoryMiB, int diskGiB);
}
