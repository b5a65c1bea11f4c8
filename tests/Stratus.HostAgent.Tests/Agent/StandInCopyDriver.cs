using System.Collections.Concurrent;
using System.Text;
using Stratus.HostAgent.Copies;
using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Drivers.Simulated;

namespace Stratus.HostAgent.Tests.Agent;

/// <summary>
/// The simulated driver with a stand-in for disk copies, for the agent's scheduler and fencing tests: the drivers'
/// copies (qcow2 chains) are helper diskcopy's work on another branch and do not exist on this one yet. A copy puts
/// one small object into the real store (so a store that fails makes the copy fail); a create from a copy records
/// its source and creates as the simulated driver does.
/// </summary>
internal sealed class StandInCopyDriver(TimeProvider clock) : IVmDriver
{
    private readonly SimulatedDriver inner = new(new SimulatedDriverOptions(), clock);
    private int copies;

    public ConcurrentQueue<(string VmId, string SourceVmId, string StoreUri)> Restores { get; } = new();

    public int Copies => Volatile.Read(ref copies);

    /// <summary>Awaited at the start of each copy, before anything is stored: a test holds a copy in progress with it.</summary>
    public Func<string, Task>? BeforeCopy { get; set; }

    public string Name => inner.Name;

    public bool DisksOutliveTheAgent => inner.DisksOutliveTheAgent;

    public async Task<DiskCopyResult> CopyDiskAsync(string vmId, ICopyStore store, CancellationToken cancellationToken = default)
    {
        _ = await inner.GetAsync(vmId, cancellationToken) ?? throw new VmNotFoundException(vmId);
        if (BeforeCopy is { } hold)
        {
            await hold(vmId);
        }

        var sequence = Interlocked.Increment(ref copies);
        var stored = await store.PutBytesAsync($"vms/{vmId}/{sequence:D8}.stand-in", Encoding.UTF8.GetBytes($"copy {sequence}"), cancellationToken);
        return new DiskCopyResult(store.Uri, sequence == 1, stored.Bytes, 8L << 30, sequence, clock.GetUtcNow(), stored.Sha256);
    }

    public Task<VmInfo> CreateFromCopyAsync(VmSpec spec, ICopyStore store, string sourceVmId, CancellationToken cancellationToken = default)
    {
        Restores.Enqueue((spec.Id, sourceVmId, store.Uri));
        return inner.CreateAsync(spec, cancellationToken);
    }

    public Task<IReadOnlyList<VmInfo>> AdoptAsync(CancellationToken cancellationToken = default) => inner.AdoptAsync(cancellationToken);

    public Task<IReadOnlyList<VmInfo>> ListAsync(CancellationToken cancellationToken = default) => inner.ListAsync(cancellationToken);

    public Task<VmInfo?> GetAsync(string vmId, CancellationToken cancellationToken = default) => inner.GetAsync(vmId, cancellationToken);

    public Task<VmInfo> CreateAsync(VmSpec spec, CancellationToken cancellationToken = default) => inner.CreateAsync(spec, cancellationToken);

    public Task<VmInfo> StartAsync(string vmId, CancellationToken cancellationToken = default) => inner.StartAsync(vmId, cancellationToken);

    public Task<VmInfo> StopAsync(string vmId, TimeSpan? gracePeriod = null, CancellationToken cancellationToken = default) => inner.StopAsync(vmId, gracePeriod, cancellationToken);

    public Task<VmInfo> RestartAsync(string vmId, CancellationToken cancellationToken = default) => inner.RestartAsync(vmId, cancellationToken);

    public Task DeleteAsync(VmTombstone tombstone, CancellationToken cancellationToken = default) => inner.DeleteAsync(tombstone, cancellationToken);

    public Task<VmInfo> ResizeAsync(string vmId, VmSize size, CancellationToken cancellationToken = default) => inner.ResizeAsync(vmId, size, cancellationToken);

    public Task<VmSnapshot> CreateSnapshotAsync(string vmId, string snapshotName, CancellationToken cancellationToken = default) => inner.CreateSnapshotAsync(vmId, snapshotName, cancellationToken);

    public Task<IReadOnlyList<VmSnapshot>> ListSnapshotsAsync(string vmId, CancellationToken cancellationToken = default) => inner.ListSnapshotsAsync(vmId, cancellationToken);

    public Task<VmInfo> RevertSnapshotAsync(string vmId, string snapshotName, CancellationToken cancellationToken = default) => inner.RevertSnapshotAsync(vmId, snapshotName, cancellationToken);

    public Task DeleteSnapshotAsync(string vmId, string snapshotName, CancellationToken cancellationToken = default) => inner.DeleteSnapshotAsync(vmId, snapshotName, cancellationToken);

    public Task ExportSnapshotAsync(string vmId, string snapshotName, string destinationPath, CancellationToken cancellationToken = default) =>
        inner.ExportSnapshotAsync(vmId, snapshotName, destinationPath, cancellationToken);

    public Task<string> ReadSerialLogTailAsync(string vmId, int lines = 40, CancellationToken cancellationToken = default) => inner.ReadSerialLogTailAsync(vmId, lines, cancellationToken);
}
