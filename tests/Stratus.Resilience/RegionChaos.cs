using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Stratus.Platform.Regions;

namespace Stratus.Resilience;

/// <summary>One region fault's figures.</summary>
/// <param name="Rto">From the fault (or the switchover request) to the first write acknowledged through the front door by the region that took over.</param>
/// <param name="LostWindow">How long before the fault the oldest lost write was acknowledged (zero when none was lost).</param>
/// <param name="WriterChanges">How many times the region taking writes changed during the fault (straight at the instances).</param>
/// <param name="Orphans">Cloud PCs without a VM and VMs without a Cloud PC once the region converged after the fault (<see cref="Invariants"/>).</param>
/// <param name="CloudPcsUnaffected">Region B's Cloud PCs whose VM stayed running on the same host at the same generation through the fault.</param>
public sealed record RegionFaultResult(string Fault, TimeSpan Window, int Requests, double Availability, TimeSpan? Rto, int Acknowledged,
    int Lost, TimeSpan LostWindow, int Duplicates, int WriterChanges, int Orphans, int CloudPcsUnaffected, int CloudPcs, string Note);

/// <summary>
/// Issue 19's harness: deploy/local-regions/up.sh with Stratus instances in both regions (simulated hosts in each) and
/// the front door; a tenant set up through the front door; writers creating users through it, each acknowledged
/// user in the ledger; and the region faults one after the other, each checked against the writable region's
/// database: loss of region A (all its processes stopped: a cut), failback (A rejoins as B's standby, then a planned
/// switchover back), a planned switchover A to B, a partition between the regions (deploy/local-regions/partition.sh).
/// Region B's Cloud PCs (<see cref="RegionCloudPcs"/>) run on B's simulated hosts through all of it and must stay so.
/// </summary>
public sealed class RegionChaos(RegionChaosProfile profile, Action<string> log)
{
    private const int BasePort = 24000;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(180);
    private static readonly TimeSpan ConvergeTimeout = TimeSpan.FromMinutes(3);

    private readonly Ledger ledger = new();
    private readonly ConcurrentDictionary<Guid, TimeSpan> acknowledgedAt = new();
    private readonly List<RegionFaultResult> results = [];
    private readonly HashSet<Guid> lostBefore = [];
    private RegionPair pair = null!;
    private FrontDoor door = null!;
    private Workload workload = null!;
    private RegionWrites writes = null!;
    private ChaosTenant tenant = null!;
    private RegionCloudPcs cloudPcs = null!;
    private string operatorToken = "";

    public IReadOnlyList<RegionFaultResult> Results => results;

    public TimeSpan LabStart { get; private set; }

    public async Task RunAsync()
    {
        // The gallery of both regions' image stores (the tiny image; B's simulated hosts only need a policy to name it).
        var gallery = Path.Combine(Path.GetTempPath(), $"stratus-regions-images-{Guid.NewGuid():N}"[..32]);
        try
        {
            await Stratus.Testing.TinyImageFolder.InstallIntoAsync(gallery);
            await RunLabAsync(Path.Combine(gallery, "images", "gallery"));
        }
        finally
        {
            Directory.Delete(gallery, recursive: true);
        }
    }

    private async Task RunLabAsync(string gallery)
    {
        var environment = new Dictionary<string, string>
        {
            ["STRATUS_REGIONS_INSTANCES"] = "all",
            ["STRATUS_BIN"] = Stratus.Testing.StratusProcess.BinaryPath,
            ["STRATUS_BOOTSTRAP_PASSWORD"] = Region.OperatorPassword,
            // Each region in a cgroup of its own: partition.sh cuts them apart (nftables), both still reach the front door.
            ["STRATUS_REGIONS_CGROUPS"] = "1",
            ["STRATUS_FRONT_DOOR_FAILOVER_DELAY"] = RegionChaosProfile.FailoverDelay.ToString("c", CultureInfo.InvariantCulture),
            ["STRATUS_REGIONS_GALLERY"] = gallery,
        };
        var started = System.Diagnostics.Stopwatch.StartNew();
        pair = await RegionPair.StartAsync(BasePort, log, environment, "regions-logs");
        LabStart = started.Elapsed;
        await using (pair)
        {
            using (door = new FrontDoor(new Uri($"https://127.0.0.1:{BasePort + 2000}/"), pair.First))
            using (writes = new RegionWrites(pair, door, ledger, acknowledgedAt))
            {
                log($"two regions and the front door up in {LabStart.TotalSeconds:F0} s");
                workload = new Workload(door, ledger, log);
                operatorToken = await Workload.SignInAsync(door, "operator", Region.OperatorPassword);
                // The directory only: users are what the ledger counts exactly; the Cloud PCs are another tenant's.
                tenant = await workload.CreateDirectoryTenantAsync(operatorToken, "regions", "region-1", seats: 10);
                cloudPcs = new RegionCloudPcs(pair, door, writes.Http, operatorToken, log);
                await cloudPcs.SetUpAsync(profile.CloudPcs, ConvergeTimeout);
                await RunFaultAsync("loss of region A (every process SIGSTOPped: a cut)", LoseFirstRegionAsync, allowedChanges: 1);
                await RunFaultAsync("failback: A rejoins as B's standby (pg_rewind), then switchover to A", FailBackAsync, allowedChanges: 1);
                await RunFaultAsync("planned switchover A to B under load", () => SwitchOverAsync("region-2"), allowedChanges: 1);
                await RunFaultAsync($"{profile.PartitionWindow.TotalSeconds:F0} s partition between the regions (both reach the front door)", PartitionAsync, allowedChanges: 0);
            }
        }
    }

    /// <summary>Inject, wait until the new region took writes, return (RTO, what else was measured).</summary>
    private async Task RunFaultAsync(string name, Func<Task<(TimeSpan? Rto, string Note)>> fault, int allowedChanges)
    {
        log($"--- {name}");
        var vmsBefore = await cloudPcs.SnapshotAsync();
        using var stopWatching = new CancellationTokenSource();
        var watch = cloudPcs.WatchAsync(vmsBefore, stopWatching.Token);
        using var stop = new CancellationTokenSource();
        var load = StartLoad(stop.Token);
        await Task.Delay(profile.LoadBefore);
        var acknowledgedBefore = acknowledgedAt.Count;
        var injected = door.Now;
        var (rto, note) = await fault();
        var ended = door.Now;
        await Task.Delay(TimeSpan.FromSeconds(3));
        await stop.CancelAsync();
        await load;
        await stopWatching.CancelAsync();
        var (affectedDuring, reads) = await watch;
        var checking = door.Now;
        var (orphans, affectedAfter, notConverged) = await cloudPcs.AfterAsync(vmsBefore, TimeProvider.System.GetUtcNow(), ConvergeTimeout);
        log(string.Create(CultureInfo.InvariantCulture, $"  region B's VMs read {reads} times from B's instances during the fault; {affectedDuring.Count} changed then, " +
            $"{affectedAfter.Count} after it (converged and every VM reported again by its agent in {(door.Now - checking).TotalSeconds:F0} s){(notConverged.Length > 0 ? $"; not converged: {notConverged}" : "")}"));

        var during = door.SamplesBetween(injected, ended);
        var writable = await WritableRegionAsync();
        var users = await writes.UsersInAsync(writable == "region-1" ? pair.First : pair.Second, tenant);
        var present = users.Select(u => u.Id).ToHashSet();
        var lost = acknowledgedAt.Where(a => !present.Contains(a.Key) && !lostBefore.Contains(a.Key)).ToList();
        lostBefore.UnionWith(lost.Select(l => l.Key));
        var lostWindow = lost.Count == 0 ? TimeSpan.Zero : injected - lost.Min(l => l.Value);
        var duplicates = users.GroupBy(u => u.UserPrincipalName, StringComparer.OrdinalIgnoreCase).Count(g => g.Count() > 1);
        var result = new RegionFaultResult(name, ended - injected, during.Count, during.Count == 0 ? 1 : during.Count(s => s.Ok) / (double)during.Count,
            rto, acknowledgedAt.Count - acknowledgedBefore, lost.Count, lostWindow, duplicates, writes.WriterChangesBetween(injected, door.Now), orphans,
            cloudPcs.Count - affectedDuring.Union(affectedAfter).Count(), cloudPcs.Count, note);
        results.Add(result);
        log($"{name}: {Row(result)}");
        // What the failed requests met (a 503 while no region was writable, a timeout at a stopped instance, a 409 for a
        // key whose claim the lost region made): the availability column in words.
        foreach (var outcome in during.Where(s => !s.Ok).GroupBy(s => s.What).OrderByDescending(g => g.Count()).Take(5))
        {
            log($"  {outcome.Count()} x {outcome.Key}");
        }

        foreach (var (id, at) in lost.Take(5))
        {
            log($"  lost: user {id} acknowledged at {(at - injected).TotalSeconds:F1} s from the fault");
        }

        // Not converged: a Cloud PC not running, a VM being deleted, a host of B not ready, or a restart nobody asked for.
        Assert.True(notConverged.Length == 0, $"{name}: region B's Cloud PCs did not converge after it: {notConverged}");
        Assert.True(result.WriterChanges <= allowedChanges, $"{name}: the region taking writes changed {result.WriterChanges} times (at most {allowedChanges}): two writable regions");
    }

    private async Task<(TimeSpan?, string)> LoseFirstRegionAsync()
    {
        var injected = door.Now;
        await pair.First.SignalEveryProcessAsync("STOP", _ => true);
        var taken = await FirstWriteByAsync("region-2", injected);
        await Task.Delay(profile.HoldAfterFailover);
        return (taken - injected, $"front door failover delay {RegionChaosProfile.FailoverDelay.TotalSeconds:F0} s");
    }

    private async Task<(TimeSpan?, string)> FailBackAsync()
    {
        var back = door.Now;
        // The cut ends: etcd first, then zone a's database node (the last primary) before zone b's (RegionPair), then
        // the instances and host agents, whose lease now names B: they demote A's cluster to a standby of B.
        await pair.First.SignalEveryProcessAsync("CONT", n => n.StartsWith("etcd-", StringComparison.Ordinal));
        await RegionPair.ReconnectDatabasesAsync(pair.First, pair.FirstStore, Deadline);
        await pair.First.SignalEveryProcessAsync("CONT", n => !n.StartsWith("etcd-", StringComparison.Ordinal) && !n.StartsWith("patroni-", StringComparison.Ordinal));
        await EventuallyAsync("region A's cluster a standby of B", async () => await RoleAsync(pair.FirstStore) == StoreRole.Standby);
        var rejoined = door.Now - back;
        // Everything B acknowledged is on A's standby before A takes writes again: the switchover waits for nothing else.
        var newest = acknowledgedAt.MaxBy(a => a.Value).Key;
        await EventuallyAsync("B's newest user on A's standby", async () => (await writes.UsersInAsync(pair.First, tenant)).Any(u => u.Id == newest));
        var caughtUp = door.Now - back;
        var (gap, _) = await SwitchOverAsync("region-1");
        return (gap, string.Create(CultureInfo.InvariantCulture,
            $"A a standby of B {rejoined.TotalSeconds:F0} s after the cut ended, caught up at {caughtUp.TotalSeconds:F0} s; switchover gap {gap!.Value.TotalSeconds:F1} s"));
    }

    /// <summary>
    /// The regions cannot reach each other; both reach the front door, which keeps the writable one. Only it may take
    /// writes (the probe straight at both regions' instances shows it), and the standby must not have seen the
    /// partition's writes before the heal (else nothing was cut), and must have them all after it.
    /// </summary>
    private async Task<(TimeSpan?, string)> PartitionAsync()
    {
        var writable = await WritableRegionAsync();
        var standby = writable == "region-1" ? pair.Second : pair.First;
        var cut = door.Now;
        await PartitionScriptAsync("cut");
        await Task.Delay(profile.PartitionWindow);
        var during = writes.TakenBetween(cut, door.Now);
        var newest = acknowledgedAt.MaxBy(a => a.Value);
        Assert.True(newest.Value > cut + TimeSpan.FromSeconds(2), "no write was acknowledged during the partition");
        var seenAcross = (await writes.UsersInAsync(standby, tenant)).Any(u => u.Id == newest.Key);
        await PartitionScriptAsync("heal");
        var healed = door.Now;
        Assert.False(seenAcross, "the standby region had the partition's newest write before the heal: the regions were not cut apart");
        await EventuallyAsync("the partition's newest write on the standby region", async () => (await writes.UsersInAsync(standby, tenant)).Any(u => u.Id == newest.Key));
        Assert.Equal(writable, await WritableRegionAsync());
        return (null, string.Create(CultureInfo.InvariantCulture,
            $"{writable} stayed writable; writes taken straight at the instances: {string.Join(", ", during.GroupBy(w => w.Region).Select(g => $"{g.Key} {g.Count()}"))}; standby caught up {(door.Now - healed).TotalSeconds:F0} s after the heal"));
    }

    private Task PartitionScriptAsync(string action) =>
        Stratus.Testing.ProcessRunner.RunCheckedAsync("bash", [Path.Combine(Stratus.Testing.StratusProcess.RepositoryRoot, "deploy", "local-regions", "partition.sh"), pair.Folder, action], TimeSpan.FromSeconds(20));

    /// <summary>A planned switchover through the front door's API; the gap is from the request to the first write the new region acknowledged.</summary>
    private async Task<(TimeSpan?, string)> SwitchOverAsync(string to)
    {
        var asked = door.Now;
        using (var request = new HttpRequestMessage(HttpMethod.Post, FrontDoorApi("switchover")) { Content = JsonContent.Create(new { region = to }) })
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", operatorToken);
            using var response = await writes.Http.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode, $"switchover to {to}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        var taken = await FirstWriteByAsync(to, asked);
        // The old region's cluster is demoted by its instances once they see the new epoch; the next fault starts from there.
        var old = to == "region-1" ? pair.SecondStore : pair.FirstStore;
        await EventuallyAsync($"the cluster of the region before {to} a standby", async () => await RoleAsync(old) == StoreRole.Standby);
        return (taken - asked, "");
    }

    private async Task<TimeSpan> FirstWriteByAsync(string region, TimeSpan after)
    {
        TimeSpan? answered = null;
        await EventuallyAsync($"a write acknowledged by {region} through the front door", () =>
        {
            answered = door.SamplesBetween(TimeSpan.Zero, TimeSpan.MaxValue)
                .Where(s => s.IsWrite && s.Ok && s.Region == region && s.Answered > after).Select(s => (TimeSpan?)s.Answered).Min();
            return Task.FromResult(answered is not null);
        });
        log($"  {region} took writes through the front door {(answered!.Value - after).TotalSeconds:F1} s after {after.TotalSeconds:F1} s");
        return answered.Value;
    }

    private async Task<string> WritableRegionAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, FrontDoorApi("regions"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", operatorToken);
        using var response = await writes.Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("writableRegion").GetString()!;
    }

    private Uri FrontDoorApi(string path) => new($"https://127.0.0.1:{BasePort + 2000}/frontdoor/v1/{path}");

    private static async Task<StoreRole?> RoleAsync(PatroniRegionStore store)
    {
        try
        {
            return await store.RoleAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The writers through the front door and the probe straight at each region's instances.</summary>
    private Task StartLoad(CancellationToken stop)
    {
        var workers = Enumerable.Range(0, profile.Writers).Select(_ => WriteLoopAsync(stop)).ToList();
        workers.Add(writes.ProbeUntilAsync(tenant, stop));
        return Task.WhenAll(workers);
    }

    private async Task WriteLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            if (await workload.AddUserAsync(tenant) is { } id)
            {
                acknowledgedAt[id] = door.Now;
            }

            try
            {
                await Task.Delay(profile.WriterPause, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static async Task EventuallyAsync(string what, Func<Task<bool>> condition)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(waited.Elapsed < Deadline, $"Not seen within {Deadline.TotalSeconds:0} s: {what}.");
            await Task.Delay(200);
        }
    }

    public static string Row(RegionFaultResult r) => string.Create(CultureInfo.InvariantCulture,
        $"| {r.Fault} | {r.Window.TotalSeconds:F0} | {r.Requests} | {r.Availability * 100:F1} % | {(r.Rto is { } rto ? $"{rto.TotalSeconds:F1}" : "-")} | {r.Acknowledged} | {r.Lost} | {r.LostWindow.TotalSeconds:F1} | {r.Duplicates} | {r.WriterChanges} | {r.Orphans} | {r.CloudPcsUnaffected} of {r.CloudPcs} | {r.Note} |");

    public string Table()
    {
        var text = new StringBuilder();
        text.AppendLine("| fault | lasted (s) | requests through the front door | answered without error | writes accepted again after (s) | writes acknowledged | lost | oldest lost write before the fault (s) | duplicates | changes of the region taking writes | orphans | B's Cloud PCs unaffected | |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var result in results)
        {
            text.AppendLine(Row(result));
        }

        return text.ToString();
    }
}
