using System.Collections.Concurrent;
using System.Text;
using Stratus.HostAgent.Copies;

namespace Stratus.HostAgent.Drivers.Simulated;

/// <summary>Latencies and failure rate of the simulated driver.</summary>
public sealed record SimulatedDriverOptions
{
    public TimeSpan CreateLatency { get; init; } = TimeSpan.FromMilliseconds(50);

    public TimeSpan BootLatency { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan StopLatency { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Share of boots that fail, 0 to 1, to exercise the control plane's retries.</summary>
    public double BootFailureRate { get; init; }
}

/// <summary>
/// A driver that fakes VMs in memory, for scale tests of the control plane (like Kubernetes' kwok). It is
/// never the default; a host that runs it enrolls with driver "simulated" and says so everywhere.
/// </summary>
public sealed class SimulatedDriver(SimulatedDriverOptions options, TimeProvider clock) : IVmDriver
{
    private readonly ConcurrentDictionary<string, SimulatedVm> vms = new();

    public string Name => "simulated";

    public bool DisksOutliveTheAgent => false;

    public Task<IReadOnlyList<VmInfo>> AdoptAsync(CancellationToken cancellationToken = default) => ListAsync(cancellationToken);

    public Task<IReadOnlyList<VmInfo>> ListAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<VmInfo>>(vms.Values.Select(v => v.Info()).OrderBy(v => v.Id, StringComparer.Ordinal).ToList());

    public Task<VmInfo?> GetAsync(string vmId, CancellationToken cancellationToken = default) =>
        Task.FromResult(vms.TryGetValue(vmId, out var vm) ? vm.Info() : null);

    public async Task<VmInfo> CreateAsync(VmSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (vms.TryGetValue(spec.Id, out var existing))
        {
            return existing.Spec == spec ? existing.Info() : throw new VmConflictException($"VM '{spec.Id}' exists with another spec.");
        }

        await Task.Delay(options.CreateLatency, clock, cancellationToken);
        return vms.GetOrAdd(spec.Id, _ => new SimulatedVm(spec)).Info();
    }

    public async Task<VmInfo> StartAsync(string vmId, CancellationToken cancellationToken = default)
    {
        var vm = Find(vmId);
        if (vm.Power == VmPowerState.Running)
        {
            return vm.Info();
        }

        await Task.Delay(options.BootLatency, clock, cancellationToken);
#pragma warning disable CA5394 // Simulated failures need no cryptographic randomness.
        if (Random.Shared.NextDouble() < options.BootFailureRate)
#pragma warning restore CA5394
        {
            throw new VmBootFailedException(vmId, "simulated boot failure", "(simulated VM: no serial console)");
        }

        vm.Power = VmPowerState.Running;
        vm.BootedSize = vm.Spec.Size;
        vm.StartedAt = clock.GetUtcNow();
        return vm.Info();
    }

    public async Task<VmInfo> StopAsync(string vmId, TimeSpan? gracePeriod = null, CancellationToken cancellationToken = default)
    {
        var vm = Find(vmId);
        if (vm.Power != VmPowerState.Stopped)
        {
            await Task.Delay(options.StopLatency, clock, cancellationToken);
            vm.Power = VmPowerState.Stopped;
            vm.BootedSize = null;
        }

        return vm.Info();
    }

    public async Task<VmInfo> RestartAsync(string vmId, CancellationToken cancellationToken = default)
    {
        await StopAsync(vmId, null, cancellationToken);
        return await StartAsync(vmId, cancellationToken);
    }

    public Task DeleteAsync(VmTombstone tombstone, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tombstone);
        vms.TryRemove(tombstone.VmId, out _);
        return Task.CompletedTask;
    }

    public Task<VmInfo> ResizeAsync(string vmId, VmSize size, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(size);
        var vm = Find(vmId);
        if (size.DiskGiB < vm.Spec.Size.DiskGiB)
        {
            throw new VmConflictException($"VM '{vmId}' has a {vm.Spec.Size.DiskGiB} GiB disk; disks never shrink.");
        }

        vm.Spec = vm.Spec with { Size = size };
        return Task.FromResult(vm.Info());
    }

    public Task<VmInfo> SetNicAsync(string vmId, VmNic? nic, CancellationToken cancellationToken = default)
    {
        var vm = Find(vmId);
        vm.Spec = vm.Spec with { Nic = nic };
        return Task.FromResult(vm.Info());
    }

    public Task<VmSnapshot> CreateSnapshotAsync(string vmId, string snapshotName, CancellationToken cancellationToken = default)
    {
        var vm = Find(vmId);
        var snapshot = vm.Snapshots.GetOrAdd(snapshotName, name => new VmSnapshot(name, clock.GetUtcNow()));
        return Task.FromResult(snapshot);
    }

    public Task<IReadOnlyList<VmSnapshot>> ListSnapshotsAsync(string vmId, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<VmSnapshot>>(Find(vmId).Snapshots.Values.OrderBy(s => s.CreatedAt).ToList());

    public Task<VmInfo> RevertSnapshotAsync(string vmId, string snapshotName, CancellationToken cancellationToken = default)
    {
        var vm = Find(vmId);
        return vm.Snapshots.ContainsKey(snapshotName) ? Task.FromResult(vm.Info()) : throw new SnapshotNotFoundException(vmId, snapshotName);
    }

    public Task DeleteSnapshotAsync(string vmId, string snapshotName, CancellationToken cancellationToken = default)
    {
        Find(vmId).Snapshots.TryRemove(snapshotName, out _);
        return Task.CompletedTask;
    }

    public Task ExportSnapshotAsync(string vmId, string snapshotName, string destinationPath, CancellationToken cancellationToken = default) =>
        Find(vmId).Snapshots.ContainsKey(snapshotName)
            ? Task.CompletedTask
            : throw new SnapshotNotFoundException(vmId, snapshotName);

    public Task<string> ReadSerialLogTailAsync(string vmId, int lines = 40, CancellationToken cancellationToken = default) =>
        Task.FromResult("(simulated VM: no serial console)");

    /// <summary>
    /// Stores a small object standing for the disk, in the same chain layout as the QEMU driver (a full copy first,
    /// then increments, a new full every <see cref="MaxIncrements"/>+1 copies in place of compaction), so that a scale
    /// test counts copies and restores from them as with real disks.
    /// </summary>
    public async Task<DiskCopyResult> CopyDiskAsync(string vmId, ICopyStore store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var vm = Find(vmId);
        var chain = new DiskCopyChain(store, vmId, new DiskCopyChainTools("qemu-img", TimeSpan.FromMinutes(1)));
        var manifest = await chain.ReadAsync(cancellationToken);
        var full = manifest is null || manifest.IncrementCount >= MaxIncrements;
        var takenAt = clock.GetUtcNow();
        var diskBytes = vm.Spec.Size.DiskGiB * (1L << 30);
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, $"simulated disk of VM {vmId} ({diskBytes} bytes) at {takenAt:o}", Encoding.UTF8, cancellationToken);
            var appended = await chain.AppendAsync(full ? null : manifest, file, full ? DiskCopyKind.Full : DiskCopyKind.Incremental,
                diskBytes, takenAt, MaxIncrements, Path.GetTempPath(), cancellationToken);
            return new DiskCopyResult(store.Uri, full, appended.Latest.Bytes, diskBytes, appended.Copies.Count, takenAt, appended.Latest.Sha256);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Creates the VM as <see cref="CreateAsync"/> does, once the source's chain is in the store.</summary>
    public async Task<VmInfo> CreateFromCopyAsync(VmSpec spec, ICopyStore store, string sourceVmId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(store);
        if (!vms.ContainsKey(spec.Id))
        {
            var chain = new DiskCopyChain(store, sourceVmId, new DiskCopyChainTools("qemu-img", TimeSpan.FromMinutes(1)));
            _ = await chain.ReadAsync(cancellationToken) ?? throw new CopyObjectNotFoundException(chain.ManifestKey);
        }

        return await CreateAsync(spec, cancellationToken);
    }

    private const int MaxIncrements = 12;

    private SimulatedVm Find(string vmId) => vms.TryGetValue(vmId, out var vm) ? vm : throw new VmNotFoundException(vmId);

    private sealed class SimulatedVm(VmSpec spec)
    {
        public VmSpec Spec { get; set; } = spec;

        public VmPowerState Power { get; set; } = VmPowerState.Stopped;

        public VmSize? BootedSize { get; set; }

        public DateTimeOffset? StartedAt { get; set; }

        public ConcurrentDictionary<string, VmSnapshot> Snapshots { get; } = new();

        public VmInfo Info() => new()
        {
            Id = Spec.Id,
            PowerState = Power,
            Spec = Spec,
            Ready = Power == VmPowerState.Running,
            BootedSize = BootedSize,
            Accelerator = Power == VmPowerState.Running ? "simulated" : null,
            StartedAt = StartedAt,
            Console = new VmConsoleEndpoints("", "", ""),
        };
    }
}
