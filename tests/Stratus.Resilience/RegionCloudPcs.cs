using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.Resilience;

/// <summary>What a Cloud PC's VM was when a fault began: it must stay so through the fault.</summary>
public sealed record VmSnapshot(Guid VmId, Guid HostId, long Generation);

/// <summary>
/// Region B's Cloud PCs in the two-region lab: a tenant of their own with a policy in region-2 and licensed users
/// (the zone harness's <see cref="Workload"/> and <see cref="Invariants"/>, with a ledger of their own, so that the
/// directory writers' lost users do not count here). Their VMs run on B's simulated hosts, whose agents no region
/// fault touches: the data plane must not depend on which region's control plane takes writes. Before each fault
/// their VMs are recorded; during it they are read every 2 s from B's own instances, past the front door (B answers
/// reads from its database whichever region writes), and after it, once the region converged, they must be the same
/// VMs on the same hosts, running, at the same generation, and reported again by their agents after the fault.
/// </summary>
public sealed class RegionCloudPcs(RegionPair pair, FrontDoor door, HttpClient http, string operatorToken, Action<string> log)
{
    private readonly Ledger ledger = new();
    private ChaosTenant tenant = null!;
    private Invariants invariants = null!;

    public int Count { get; private set; }

    /// <summary>The tenant, its policy in region-2, and <paramref name="count"/> licensed users; returns once their Cloud PCs run.</summary>
    public async Task SetUpAsync(int count, TimeSpan timeout)
    {
        var workload = new Workload(door, ledger, log);
        tenant = await workload.CreateTenantAsync(operatorToken, "regionpcs", "region-2", seats: count);
        for (var i = 0; i < count; i++)
        {
            Assert.True(await workload.AddLicensedUserAsync(tenant), "a licensed user of region B's tenant was refused; see the log");
        }

        Count = count;
        invariants = new Invariants(null, door, ledger, [tenant], operatorToken);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var verdict = await invariants.ConvergeAsync(timeout, log);
        Assert.True(verdict.Converged, $"region B's {count} Cloud PCs did not run within {timeout.TotalSeconds:F0} s: {verdict.Describe()}");
        log($"region B's {count} Cloud PCs provisioned and running in {clock.Elapsed.TotalSeconds:F0} s");
    }

    /// <summary>The tenant's VMs as region B's own instances list them; null when none answered.</summary>
    public async Task<List<JsonElement>?> VmsInSecondRegionAsync()
    {
        foreach (var instance in pair.Second.Instances.Values)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(instance, "/api/v1/vms"));
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", operatorToken);
                using var response = await http.SendAsync(request);
                if (response.IsSuccessStatusCode)
                {
                    return (await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray()
                        .Where(v => v.GetProperty("tenantId").ValueKind == JsonValueKind.String && v.GetProperty("tenantId").GetGuid() == tenant.Id).ToList();
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // That instance does not answer: the other zone's.
            }
        }

        return null;
    }

    /// <summary>Each Cloud PC's VM before the fault; every one running.</summary>
    public async Task<IReadOnlyList<VmSnapshot>> SnapshotAsync()
    {
        var vms = await VmsInSecondRegionAsync() ?? throw new InvalidOperationException("no instance of region-2 listed the VMs before the fault");
        Assert.True(vms.Count == Count && vms.All(IsRunning), $"before the fault, region B's {Count} Cloud PCs' VMs were not all running: {string.Join(", ", vms.Select(Describe))}");
        return vms.Select(v => new VmSnapshot(v.GetProperty("id").GetGuid(), v.GetProperty("hostId").GetGuid(), v.GetProperty("generation").GetInt64())).ToList();
    }

    /// <summary>Reads B's VMs every 2 s until <paramref name="stop"/>; the ids of those seen changed at least once, and how many reads answered.</summary>
    public async Task<(HashSet<Guid> Affected, int Reads)> WatchAsync(IReadOnlyList<VmSnapshot> before, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(before);
        var affected = new HashSet<Guid>();
        var reads = 0;
        while (!stop.IsCancellationRequested)
        {
            if (await VmsInSecondRegionAsync() is { } vms)
            {
                reads++;
                affected.UnionWith(Changed(before, vms, reportedAfter: null));
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(2), stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return (affected, reads);
    }

    /// <summary>
    /// Once the region converged (the existing invariants: every Cloud PC provisioned and running on a VM, no VM
    /// without one): the orphans it counts, and the Cloud PCs that changed, including any not yet reported again by
    /// its agent after <paramref name="faultEnded"/> (the proof its host still runs it).
    /// </summary>
    public async Task<(int Orphans, HashSet<Guid> Affected, string Problems)> AfterAsync(IReadOnlyList<VmSnapshot> before, DateTimeOffset faultEnded, TimeSpan timeout)
    {
        var verdict = await invariants.ConvergeAsync(timeout, log);
        var affected = new HashSet<Guid>();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var vms = await VmsInSecondRegionAsync();
            affected = vms is null ? before.Select(b => b.VmId).ToHashSet() : Changed(before, vms, faultEnded);
            if (affected.Count == 0 || waited.Elapsed > timeout)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        foreach (var vm in affected)
        {
            log($"  region B's VM {vm} was affected by the fault");
        }

        return (verdict.Orphans.Count, affected, verdict.Converged ? "" : verdict.Describe());
    }

    /// <summary>The VMs of <paramref name="before"/> that are gone, moved, not running, or at another generation (a restart or a new disk).</summary>
    private static HashSet<Guid> Changed(IReadOnlyList<VmSnapshot> before, List<JsonElement> vms, DateTimeOffset? reportedAfter)
    {
        var now = vms.ToDictionary(v => v.GetProperty("id").GetGuid());
        return before.Where(b => !now.TryGetValue(b.VmId, out var vm) || !IsRunning(vm)
                || vm.GetProperty("hostId").GetGuid() != b.HostId || vm.GetProperty("generation").GetInt64() != b.Generation
                || (reportedAfter is { } after && !(vm.GetProperty("reportedDateTime").ValueKind == JsonValueKind.String && vm.GetProperty("reportedDateTime").GetDateTimeOffset() > after)))
            .Select(b => b.VmId).ToHashSet();
    }

    private static bool IsRunning(JsonElement vm) =>
        vm.GetProperty("state").ValueKind == JsonValueKind.String && vm.GetProperty("state").GetString() == "running"
        && vm.GetProperty("desiredPower").GetString() == "running" && !vm.GetProperty("deleteRequested").GetBoolean();

    private static string Describe(JsonElement vm) => $"{vm.GetProperty("id")} {vm.GetProperty("state")}/{vm.GetProperty("desiredPower")}";
}
