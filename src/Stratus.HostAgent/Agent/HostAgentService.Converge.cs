using Stratus.HostAgent.Drivers;

namespace Stratus.HostAgent.Agent;

/// <summary>The converge pass: the driver's VMs made like the desired state, then tombstones and operations.</summary>
public sealed partial class HostAgentService
{
    private async Task ConvergeAsync(DesiredState desired, CancellationToken cancellationToken)
    {
        // Set before anything is created: a heartbeat during the pass must count a VM it creates as wanted.
        lastDesired = desired;
        var actual = (await driver.ListAsync(cancellationToken)).ToDictionary(v => v.Id);
        var deletions = desired.Deletions();
        var deleted = deletions.Select(t => t.VmId).ToHashSet();
        var wanted = desired.Vms.Where(v => !v.Delete).ToList();
        var wantedIds = desired.Vms.Select(v => DriverId(v.Id)).ToHashSet();

        // Anything else on this disk is not compute's to lose: a host enrolled again over its old data, a store
        // restored from an older backup, a confused instance's empty answer. Kept, stopped, reported unmanaged.
        var unmanaged = actual.Values.Where(vm => !wantedIds.Contains(vm.Id) && !deleted.Contains(vm.Id)).ToList();

        // The networks before the VMs: a VM's tap is a port of its connection's bridge. A simulated host (scale tests,
        // many of them on one machine) makes no bridges: they would be the machine's, shared by every simulated host.
        if (driver.Name != "simulated")
        {
            await networks.RealizeAsync(desired.Networks, desired.Vms, cancellationToken);
        }
        using var gate = new SemaphoreSlim(options.Parallelism);
        async Task GatedAsync(Func<Task> step)
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                await step();
            }
            finally
            {
                gate.Release();
            }
        }

        await Task.WhenAll(wanted.Select(vm => GatedAsync(() => ConvergeVmAsync(vm, actual.GetValueOrDefault(DriverId(vm.Id)), cancellationToken)))
            .Concat(unmanaged.Select(vm => GatedAsync(() => KeepUnmanagedAsync(vm, cancellationToken)))));

        foreach (var tombstone in deletions)
        {
            if (actual.ContainsKey(tombstone.VmId))
            {
                LogDeleting(logger, tombstone.VmId);
            }

            await driver.DeleteAsync(tombstone, cancellationToken);
            outcomes.TryRemove(Guid.ParseExact(tombstone.VmId, "N"), out _);
            epochs.Forget(tombstone.VmId);
            await copies.ForgetAsync(Guid.ParseExact(tombstone.VmId, "N"), cancellationToken);
            unmanagedSeen.TryRemove(tombstone.VmId, out _);
        }

        // After the VMs: a VM moved off a connection has left its bridge by now.
        if (driver.Name != "simulated")
        {
            await networks.TearDownUnlistedAsync(desired.Networks, cancellationToken);
        }

        foreach (var operation in desired.Operations)
        {
            await RunOperationAsync(operation, cancellationToken);
        }

        // Forget finished operations the control plane no longer lists: it has their results.
        await journal.RetainAsync(desired.Operations.Select(o => o.Id).ToHashSet(), cancellationToken);
    }

    private async Task KeepUnmanagedAsync(VmInfo vm, CancellationToken cancellationToken)
    {
        if (unmanagedSeen.TryAdd(vm.Id, true))
        {
            LogUnmanaged(logger, vm.Id, vm.PowerState.ToString().ToLowerInvariant());
        }

        if (vm.PowerState == VmPowerState.Stopped)
        {
            return;
        }

        try
        {
            // Nobody may use a VM compute does not know: its console, its size and its owner are unchecked.
            await driver.StopAsync(vm.Id, null, cancellationToken);
        }
        catch (VmDriverException e)
        {
            LogConvergeFailed(logger, e, vm.Id);
        }
    }

    private async Task ConvergeVmAsync(DesiredVm desired, VmInfo? actual, CancellationToken cancellationToken)
    {
        var id = DriverId(desired.Id);
        try
        {
            unmanagedSeen.TryRemove(id, out _);
            var size = new VmSize(desired.VCpuCount, desired.MemoryMiB, desired.DiskGiB);
            switch (actual is null ? Fencing.Current : await FenceAsync(desired, actual, cancellationToken))
            {
                case Fencing.Fenced:
                    outcomes[desired.Id] = new VmOutcome(desired.Generation, $"Fenced: this disk was made for an older epoch than compute's {desired.Epoch}; the VM lives on another host.");
                    return;
                case Fencing.StaleDiskDeleted:
                    actual = null;
                    break;
                case Fencing.Current:
                    break;
            }

            if (actual is null && desired.RestoreFrom is null && desired.Created && driver.DisksOutliveTheAgent)
            {
                // Its disk was here and is gone (a lost or replaced data disk): a new, empty one in its place would
                // hide the loss from its user and their administrator. It is reported missing instead (ReportAsync).
                if (missingSeen.TryAdd(id, true))
                {
                    LogMissing(logger, id);
                }

                return;
            }

            missingSeen.TryRemove(id, out _);
            var nic = NicOf(desired, lastDesired?.Networks);
            if (actual is null)
            {
                // The epoch first: a crash between the two leaves a record without a disk, never a disk of no epoch.
                await epochs.RecordAsync(id, desired.Epoch, cancellationToken);
                var spec = new VmSpec { Id = id, ImagePath = Path.Combine(options.ImagesFolder, desired.ImageId), Size = size, Nic = nic };
                actual = desired.RestoreFrom is { } restore
                    ? await CreateFromCopyAsync(spec, restore, cancellationToken)
                    : await driver.CreateAsync(spec, cancellationToken);
            }

            if (actual.Spec.Size != size)
            {
                actual = await driver.ResizeAsync(id, size, cancellationToken);
            }

            if (actual.Spec.Nic != nic)
            {
                // Compute moved the VM to another connection (or to the hosted network): a running one restarts on it.
                actual = await driver.SetNicAsync(id, nic, cancellationToken);
            }

            var wantRunning = desired.Power == "running";
            if (wantRunning && (actual.PowerState != VmPowerState.Running || !actual.Ready))
            {
                actual = await driver.StartAsync(id, cancellationToken);
            }
            else if (!wantRunning && actual.PowerState != VmPowerState.Stopped)
            {
                actual = await driver.StopAsync(id, null, cancellationToken);
                if (desired.Copies is { } policy)
                {
                    copies.DueNow(desired.Id, policy.StoreUris);
                }
            }

            outcomes[desired.Id] = new VmOutcome(desired.Generation, null);
        }
        catch (VmDriverException e)
        {
            LogConvergeFailed(logger, e, id);
            outcomes[desired.Id] = new VmOutcome(desired.Generation, e.Message);
        }
    }

    /// <summary>The VM's NIC as the driver makes it: its tap on the connection's bridge, its MAC; null: the hosted network.</summary>
    private VmNic? NicOf(DesiredVm desired, IReadOnlyList<DesiredNetwork>? networks)
    {
        if (desired.Nic is not { } nic)
        {
            return null;
        }

        var network = networks?.FirstOrDefault(n => n.Id == nic.NetworkConnectionId)
            ?? throw new VmDriverException($"The VM's network connection {nic.NetworkConnectionId} is not in this host's desired state.");
        return new VmNic(network.Id, this.networks.Names.Tap(desired.Id), Networks.NetworkNames.MacAddress(desired.Id),
            this.networks.Names.Bridge(network.Id), network.Mtu);
    }

    private async Task RunOperationAsync(DesiredOperation operation, CancellationToken cancellationToken)
    {
        if (journal.Contains(operation.Id))
        {
            return;
        }

        if (operation.Kind == "CopyDisk")
        {
            // A copy can take minutes (and waits for a scheduled copy under way): beside the pass, never inside it,
            // so that no other VM's start or stop waits for it.
            StartCopyOperation(operation, cancellationToken);
            return;
        }

        var id = DriverId(operation.VmId);
        ReportedOperation result;
        try
        {
            var detail = operation.Kind switch
            {
                "Restart" => (await driver.RestartAsync(id, cancellationToken)).PowerState.ToString(),
                "CreateSnapshot" => (await driver.CreateSnapshotAsync(id, operation.Argument!, cancellationToken)).Name,
                "RevertSnapshot" => (await driver.RevertSnapshotAsync(id, operation.Argument!, cancellationToken)).PowerState.ToString(),
                "DeleteSnapshot" => await DeleteSnapshotAsync(id, operation.Argument!, cancellationToken),
                "ExportSnapshot" => await ExportAsync(id, operation.Argument!, cancellationToken),
                _ => throw new VmDriverException($"This agent does not know the operation '{operation.Kind}'."),
            };
            result = new ReportedOperation(operation.Id, true, detail);
        }
        catch (VmDriverException e)
        {
            result = new ReportedOperation(operation.Id, false, e.Message);
        }

        // Journaled before it is reported: a restart between the two reports it again, and never runs it twice.
        await journal.AddAsync(result, cancellationToken);
    }

    private async Task<string> DeleteSnapshotAsync(string vmId, string name, CancellationToken cancellationToken)
    {
        await driver.DeleteSnapshotAsync(vmId, name, cancellationToken);
        return name;
    }

    private async Task<string> ExportAsync(string vmId, string argument, CancellationToken cancellationToken)
    {
        var (snapshot, destination) = ExportFolder.Target(options.ExportsFolder, argument);
        await driver.ExportSnapshotAsync(vmId, snapshot, destination, cancellationToken);
        return destination;
    }
}
