using System.Net.Http.Json;
using Stratus.HostAgent.Drivers;

namespace Stratus.HostAgent.Agent;

/// <summary>Reports: what the driver has, per VM, sent after each pass and at every heartbeat.</summary>
public sealed partial class HostAgentService
{
    private async Task HeartbeatLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(options.HeartbeatInterval, clock, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            try
            {
                await ReportAsync(cancellationToken);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                LogControlPlaneUnreachable(logger, e.Message, 0);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // A heartbeat loop that ended here would leave the host "down" while its VMs run.
                LogPassFailed(logger, e, 0);
            }
        }
    }

    private async Task ReportAsync(CancellationToken cancellationToken)
    {
        await reporting.WaitAsync(cancellationToken);
        try
        {
            var desired = lastDesired;
            var vms = await driver.ListAsync(cancellationToken);

            // A VM compute wants or marked deleted is reported as its own (a deleted one until it is gone); any
            // other is unmanaged. Before the first desired state there is nothing to tell them apart by.
            var known = desired?.Vms.Select(v => v.Id).Concat(desired.DeletedVmIds ?? []).ToHashSet();
            var reported = new List<ReportedVm>();
            var unmanaged = new List<UnmanagedVm>();
            foreach (var vm in vms)
            {
                var vmId = Guid.ParseExact(vm.Id, "N");
                var state = vm.PowerState.ToString().ToLowerInvariant();
                if (known is null || known.Contains(vmId))
                {
                    var outcome = outcomes.GetValueOrDefault(vmId);
                    reported.Add(new ReportedVm(vmId, fenced.ContainsKey(vm.Id) ? "fenced" : state, vm.Ready, outcome?.Generation ?? 0, outcome?.Error, copies.For(vmId),
                        vm.Spec.Nic?.NetworkId));
                }
                else
                {
                    unmanaged.Add(new UnmanagedVm(vmId, state, Path.GetFileName(vm.Spec.ImagePath.TrimEnd('/')), vm.Spec.Size.VCpus, vm.Spec.Size.MemoryMiB, vm.Spec.Size.DiskGiB));
                }
            }

            // A VM this host had and no longer has, which compute did not ask to delete: its disk is lost.
            var listed = reported.Select(v => v.Id).ToHashSet();
            foreach (var lost in desired?.Vms.Where(v => v.Created && !v.Delete && !listed.Contains(v.Id) && driver.DisksOutliveTheAgent) ?? [])
            {
                reported.Add(new ReportedVm(lost.Id, "missing", false, lost.Generation, "The VM's disk is not on this host any more."));
            }

            var report = new AgentReport(accelerator, AgentVersion, reported, journal.Results, known is null ? null : unmanaged,
                desired?.Networks is null ? null
                    : networks.Reported(desired.Networks, driver.Name == "simulated" ? "A simulated host realizes no networks." : "Not realized yet."),
                Networks.HostNetworks.UplinkCandidates());
            using var response = await http.PostAsJsonAsync("/api/v1/agent/report", report, Json, cancellationToken);

            // 409 means the host changed while reporting; the next report carries the same facts.
            if (!response.IsSuccessStatusCode && (int)response.StatusCode != 409)
            {
                LogReportRefused(logger, (int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
            }
        }
        finally
        {
            reporting.Release();
        }
    }
}
