using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Stratus.HostAgent.Copies;
using Stratus.HostAgent.Drivers;

namespace Stratus.HostAgent.Agent;

/// <summary>Issue 18: disk copies on schedule and on demand, VMs made from a copy, and fencing by epoch.</summary>
public sealed partial class HostAgentService
{
    /// <summary>CopyDisk operations under way, by id: they run beside the converge pass (StartCopyOperation).</summary>
    private readonly ConcurrentDictionary<Guid, bool> copyOperations = new();

    private async Task CopyLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(options.CopyCheckInterval, clock, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (lastDesired is not { } desired || cancellationToken.IsCancellationRequested)
            {
                continue;
            }

            try
            {
                var here = (await driver.ListAsync(cancellationToken)).Select(v => v.Id).Where(id => !fenced.ContainsKey(id)).ToHashSet();
                await copies.RunDueAsync(desired, here, cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // The copies must go on: a driver that failed to list its VMs once is asked again at the next tick.
                LogPassFailed(logger, e, 0);
            }
        }
    }

    /// <summary>
    /// Runs a CopyDisk operation in the background, once however many passes list it while it runs: its result is
    /// journaled (as every operation's, before it is reported) and reported as soon as it is known. An agent that stops
    /// mid-copy journals nothing and copies again after its restart.
    /// </summary>
    private void StartCopyOperation(DesiredOperation operation, CancellationToken cancellationToken)
    {
        if (!copyOperations.TryAdd(operation.Id, true))
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                ReportedOperation result;
                try
                {
                    result = new ReportedOperation(operation.Id, true, await CopyDiskNowAsync(operation, cancellationToken));
                }
                catch (VmDriverException e)
                {
                    result = new ReportedOperation(operation.Id, false, e.Message);
                }

                await journal.AddAsync(result, cancellationToken);
                await ReportAsync(cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // A journal or report that failed: a later pass finds the operation neither journaled nor running, and runs it again.
                LogPassFailed(logger, e, 0);
            }
            finally
            {
                copyOperations.TryRemove(operation.Id, out _);
            }
        }, CancellationToken.None);
    }

    /// <summary>The CopyDisk operation: a copy now to the store compute named, or to each of the VM's stores.</summary>
    private async Task<string> CopyDiskNowAsync(DesiredOperation operation, CancellationToken cancellationToken)
    {
        var stores = operation.Argument is { } uri ? [uri] : lastDesired?.Vms.FirstOrDefault(v => v.Id == operation.VmId)?.Copies?.StoreUris ?? [];
        if (stores.Count == 0)
        {
            throw new VmDriverException("The VM has no copy store to copy its disk to.");
        }

        var results = new List<DiskCopyResult>();
        foreach (var store in stores)
        {
            results.Add(await copies.CopyNowAsync(operation.VmId, store, cancellationToken));
        }

        return results.Count == 1 ? JsonSerializer.Serialize(results[0], Json) : JsonSerializer.Serialize(results, Json);
    }

    /// <summary>The VM's disk made from the latest copy of the source VM's disk in the store, instead of from its image.</summary>
    private async Task<VmInfo> CreateFromCopyAsync(VmSpec spec, DesiredRestore restore, CancellationToken cancellationToken)
    {
        LogRestoring(logger, spec.Id, DriverId(restore.SourceVmId), CopyStores.Redact(restore.StoreUri));
        ICopyStore? store = null;
        try
        {
            store = CopyStores.Open(restore.StoreUri, options.CopyStores, clock);
            return await driver.CreateFromCopyAsync(spec, store, DriverId(restore.SourceVmId), cancellationToken);
        }
        catch (Exception e) when (e is ArgumentException or CopyStoreException or NotSupportedException or IOException)
        {
            throw new VmDriverException($"Making the VM from its copy in {CopyStores.Redact(restore.StoreUri)} failed: {e.Message}", e);
        }
        finally
        {
            (store as IDisposable)?.Dispose();
        }
    }

    /// <summary>
    /// Fencing: true when the VM's disk here was made for an older epoch than compute's, i.e. compute made the VM
    /// again on another host since. Without a copy to make it from, it is stopped and reported fenced; with one
    /// (RestoreFrom), its stale disk is deleted, compute's higher epoch being the order, and made again from the copy.
    /// </summary>
    private async Task<Fencing> FenceAsync(DesiredVm desired, VmInfo actual, CancellationToken cancellationToken)
    {
        var recorded = epochs.Recorded(actual.Id);
        if (recorded >= desired.Epoch)
        {
            fenced.TryRemove(actual.Id, out _);
            return Fencing.Current;
        }

        if (fenced.TryAdd(actual.Id, true))
        {
            LogFenced(logger, actual.Id, recorded, desired.Epoch, desired.RestoreFrom is null ? "kept stopped" : "made again from its copy");
        }

        if (actual.PowerState != VmPowerState.Stopped)
        {
            await driver.StopAsync(actual.Id, null, cancellationToken);
        }

        if (desired.RestoreFrom is null)
        {
            return Fencing.Fenced;
        }

        await driver.DeleteAsync(VmTombstone.Issue(actual.Id), cancellationToken);
        epochs.Forget(actual.Id);
        fenced.TryRemove(actual.Id, out _);
        return Fencing.StaleDiskDeleted;
    }

    private enum Fencing
    {
        /// <summary>The disk was made for compute's epoch (or a later one): converge as usual.</summary>
        Current,

        /// <summary>A stale disk and no copy to make it from: kept stopped, never started.</summary>
        Fenced,

        /// <summary>A stale disk, deleted: the VM is made again from its copy.</summary>
        StaleDiskDeleted,
    }

    [LoggerMessage(EventId = 4022, Level = LogLevel.Information, Message = "Making VM {VmId} from the latest copy of VM {SourceVmId}'s disk in {Store}")]
    private static partial void LogRestoring(ILogger logger, string vmId, string sourceVmId, string store);

    [LoggerMessage(EventId = 4023, Level = LogLevel.Warning,
        Message = "VM {VmId}'s disk here was made for epoch {Recorded} and compute's is {Desired}: the VM was made again elsewhere since; its stale disk is never started ({Action})")]
    private static partial void LogFenced(ILogger logger, string vmId, long recorded, long desired, string action);
}
