using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Stratus.Testing;

namespace Stratus.Resilience;

/// <summary>One fault's figures, as the harness prints them.</summary>
public sealed record FaultResult(string Fault, TimeSpan Window, int Requests, double Availability, TimeSpan TimeToRecover, TimeSpan? ConvergedAfter,
    int AcceptedWrites, int Lost, int Duplicates, int Orphans, int Failed, IReadOnlyList<string> Abandoned, string Problems);

/// <summary>
/// The fault-injection run: starts the region (deploy/local-region/up.sh in network namespaces, one process per
/// service), drives the mixed load, injects one fault at a time and checks the ledger after each.
/// </summary>
public sealed class ChaosRun(ChaosProfile profile, Action<string> log)
{
    private const int BasePort = 27000;

    private readonly List<FaultResult> results = [];
    private Region region = null!;
    private FrontDoor door = null!;
    private Workload workload = null!;
    private readonly Ledger ledger = new();
    private readonly List<LatencyProxy> proxies = [];
    private readonly List<ChaosTenant> loadTenants = [];
    private readonly List<ChaosTenant> allTenants = [];
    private Invariants invariants = null!;
    private string operatorToken = "";

    public IReadOnlyList<FaultResult> Results => results;

    public async Task RunAsync()
    {
        if (profile.FaultFilter is { } filter && !Faults().Any(f => f.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)))
        {
            throw new ArgumentException($"STRATUS_CHAOS_FAULTS='{filter}' matches no fault; the faults are: {string.Join("; ", Faults().Select(f => f.Name))}.");
        }

        var folder = Path.Combine(Path.GetTempPath(), $"stratus-chaos-{Guid.NewGuid():N}"[..24]);
        Directory.CreateDirectory(folder);
        var labImages = Path.Combine(Path.GetTempPath(), $"stratus-chaos-images-{Guid.NewGuid():N}"[..30]);
        try
        {
            await TinyImageFolder.InstallIntoAsync(labImages);
            await StartRegionAsync(folder, Path.Combine(labImages, "images", "gallery"));
            await using (region)
            {
                try
                {
                    await SetUpTenantsAsync();
                    for (var round = 1; round <= profile.Rounds && results.All(r => r.ConvergedAfter is not null); round++)
                    {
                        foreach (var fault in Faults().Where(f => profile.FaultFilter is null || f.Name.Contains(profile.FaultFilter, StringComparison.OrdinalIgnoreCase)))
                        {
                            await RunFaultAsync(profile.Rounds == 1 ? fault : fault with { Name = $"{fault.Name} (round {round})" });
                            if (results[^1].ConvergedAfter is null)
                            {
                                // The region did not heal: the faults after this one would measure that, not
                                // themselves, and the run would outlast the test's hang timeout and leave the region.
                                log("stopping: the region did not converge after this fault");
                                break;
                            }
                        }
                    }
                }
                finally
                {
                    foreach (var proxy in proxies)
                    {
                        await proxy.DisposeAsync();
                    }

                    door?.Dispose();
                    CopyLogs(folder);
                }
            }
        }
        finally
        {
            if (Directory.Exists(labImages))
            {
                Directory.Delete(labImages, recursive: true);
            }
        }
    }

    private async Task StartRegionAsync(string folder, string labImages)
    {
        var bridge = IPAddress.Parse(Region.BridgeAddress(BasePort));
        var environment = new Dictionary<string, string>
        {
            ["STRATUS_REGION_QEMU_IMAGES"] = labImages,
            ["STRATUS_REGION_DB_HOSTS"] = $"{bridge}:{BasePort + 40},{bridge}:{BasePort + 41}",
            // A host is down after 15 s without a heartbeat (not 30): faults are short here.
            ["Stratus__Compute__HeartbeatTimeout"] = "00:00:15",
            ["Stratus__Compute__LongPollTimeout"] = "00:00:05",
        };
        var up = Stopwatch.StartNew();
        var starting = Region.StartAsync(folder, BasePort, environment, log);
        // The proxies listen on the zones' bridge, which up.sh makes first, long before it starts Stratus.
        while (!starting.IsCompleted && proxies.Count == 0)
        {
            try
            {
                proxies.Add(new LatencyProxy(new IPEndPoint(bridge, BasePort + 40), new IPEndPoint(IPAddress.Parse(Region.ZoneAddress(BasePort, "a")), BasePort + 10)));
                proxies.Add(new LatencyProxy(new IPEndPoint(bridge, BasePort + 41), new IPEndPoint(IPAddress.Parse(Region.ZoneAddress(BasePort, "b")), BasePort + 11)));
            }
            catch (System.Net.Sockets.SocketException)
            {
                foreach (var proxy in proxies)
                {
                    await proxy.DisposeAsync();
                }

                proxies.Clear();
                await Task.Delay(200);
            }
        }

        region = await starting;
        log($"region up in {up.Elapsed.TotalSeconds:F0} s: {region.Instances.Count} service instances, 3 host agents");
        door = new FrontDoor(region);
        workload = new Workload(door, ledger, log);
    }

    private async Task SetUpTenantsAsync()
    {
        operatorToken = await Workload.SignInAsync(door, "operator", Region.OperatorPassword);
        for (var i = 0; i < profile.Tenants; i++)
        {
            var tenant = await workload.CreateTenantAsync(operatorToken, $"load{i}", "region-1", seats: 2000);
            loadTenants.Add(tenant);
            for (var u = 0; u < profile.UsersAtStart; u++)
            {
                Assert.True(await workload.AddLicensedUserAsync(tenant), "a user of the initial load was refused; see the log");
            }
        }

        var lab = await workload.CreateTenantAsync(operatorToken, "lab", "lab-1", seats: profile.RealVms);
        for (var u = 0; u < profile.RealVms; u++)
        {
            Assert.True(await workload.AddLicensedUserAsync(lab), "a user of the lab tenant was refused; see the log");
        }

        allTenants.AddRange(loadTenants);
        allTenants.Add(lab);
        invariants = new Invariants(region, door, ledger, allTenants, operatorToken);
        var clock = Stopwatch.StartNew();
        var verdict = await ConvergeAsync(TimeSpan.FromMinutes(6));
        Assert.True(verdict.Converged, $"the initial {ledger.Licensed.Count} Cloud PCs ({profile.RealVms} on real QEMU VMs) did not converge: {verdict.Describe()}");
        log($"initial load converged in {clock.Elapsed.TotalSeconds:F0} s: {ledger.Licensed.Count} Cloud PCs, {profile.RealVms} of them real QEMU VMs");
    }

    private sealed record Fault(string Name, Func<Task> InjectAsync, TimeSpan Window, Func<Task> HealAsync);

    private IEnumerable<Fault> Faults()
    {
        var zone = "a";
        foreach (var service in Region.ServiceNames)
        {
            var name = $"{service}-{zone}";
            yield return new Fault($"kill -9 {name}", () => region.KillAsync(name), profile.KillDowntime, () => region.StartAsync(name));
            zone = zone == "a" ? "b" : "a";
        }

        string? lostZone = null;
        yield return new Fault("loss of the primary's zone", async () =>
        {
            lostZone = await region.PrimaryZoneAsync(Http) ?? "a";
            log($"zone {lostZone} goes: {string.Join(", ", region.ProcessesOf(lostZone))}");
            foreach (var process in region.ProcessesOf(lostZone))
            {
                await region.KillAsync(process);
            }
        }, profile.FaultWindow, async () =>
        {
            // Back in order: its etcd member, its database node (a replica now), its services and host agents.
            var processes = region.ProcessesOf(lostZone!);
            foreach (var process in processes.OrderBy(p => p.StartsWith("etcd", StringComparison.Ordinal) ? 0 : p.StartsWith("patroni", StringComparison.Ordinal) ? 1 : 2))
            {
                await region.StartAsync(process);
            }
        });

        string? primary = null;
        yield return new Fault("stop of the PostgreSQL primary", async () =>
        {
            primary = await region.PrimaryZoneAsync(Http) ?? "a";
            await region.KillAsync($"patroni-{primary}");
        }, profile.FaultWindow, () => region.StartAsync($"patroni-{primary}"));

        string? cut = null;
        yield return new Fault($"{profile.PartitionWindow.TotalSeconds:F0} s partition of the primary's zone", async () =>
        {
            cut = await region.PrimaryZoneAsync(Http) ?? "a";
            await region.CutOffAsync(cut);
        }, profile.PartitionWindow, () => region.ReconnectAsync(cut!));

        yield return new Fault($"slow database (+{profile.DatabaseDelay.TotalMilliseconds:F0} ms each way)", () =>
        {
            proxies.ForEach(p => p.Delay = profile.DatabaseDelay);
            return Task.CompletedTask;
        }, profile.SlowDatabaseWindow, () =>
        {
            proxies.ForEach(p => p.Delay = TimeSpan.Zero);
            return Task.CompletedTask;
        });
    }

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(3) };

    private async Task RunFaultAsync(Fault fault)
    {
        log($"--- {fault.Name}");
        var acceptedBefore = ledger.Users.Count + ledger.Actions.Count;
        var abandonedBefore = ledger.Abandoned.ToHashSet();
        var givenUpBefore = ledger.GivenUp.Count;
        using var stopLoad = new CancellationTokenSource();
        var load = StartLoad(stopLoad.Token);
        await Task.Delay(TimeSpan.FromSeconds(2));
        var injected = door.Now;
        await fault.InjectAsync();
        await Task.Delay(fault.Window);
        await fault.HealAsync();
        var healed = door.Now;
        log($"healed after {(healed - injected).TotalSeconds:F0} s");
        await Task.Delay(TimeSpan.FromSeconds(3));
        await stopLoad.CancelAsync();
        await load;
        var accepted = ledger.Users.Count + ledger.Actions.Count - acceptedBefore;

        var verdict = await ConvergeAsync(profile.ConvergeTimeout);
        var convergedAt = door.Now;
        var during = door.SamplesBetween(injected, healed);
        var failures = door.SamplesBetween(injected, convergedAt).Where(s => !s.Ok).ToList();
        var recover = failures.Count == 0 ? TimeSpan.Zero : failures.Max(s => s.Answered) - injected;
        var result = new FaultResult(fault.Name, healed - injected, during.Count,
            during.Count == 0 ? 1 : during.Count(s => s.Ok) / (double)during.Count, recover,
            verdict.Converged ? convergedAt - healed : null, accepted,
            verdict.Lost.Count, verdict.Duplicates.Count, verdict.Orphans.Count, verdict.Failed.Count,
            ledger.Abandoned.Where(a => !abandonedBefore.Contains(a)).ToList(), verdict.Converged ? "" : verdict.Describe());
        results.Add(result);
        foreach (var abandoned in result.Abandoned)
        {
            log($"  never answered within the give-up time: {abandoned}");
        }

        foreach (var failure in failures.Take(5))
        {
            log($"  failed at +{(failure.At - injected).TotalSeconds:F1} s: {failure.What}");
        }

        if (ledger.GivenUp.Count > givenUpBefore)
        {
            log($"  {ledger.GivenUp.Count - givenUpBefore} restarts failed on purpose, retryable (host declared down or deadline passed)");
        }

        log($"{fault.Name}: {Row(result)}");
    }

    /// <summary>Per load tenant: one client changing the directory, one restarting Cloud PCs, one reading.</summary>
    private Task StartLoad(CancellationToken stop)
    {
        var workers = new List<Task>();
        foreach (var tenant in loadTenants)
        {
            var random = new Random(tenant.Id.GetHashCode());
            workers.Add(Loop(() => workload.AddLicensedUserAsync(tenant), profile.LoadPause * 1.5, stop));
            workers.Add(Loop(() => workload.RestartOneAsync(tenant, random), profile.LoadPause, stop));
            workers.Add(Loop(() => workload.ReadSomeAsync(tenant), profile.LoadPause / 4, stop));
        }

        return Task.WhenAll(workers);
    }

    private static async Task Loop(Func<Task> step, TimeSpan pause, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await step();
            try
            {
                await Task.Delay(pause, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private Task<Verdict> ConvergeAsync(TimeSpan timeout) => invariants.ConvergeAsync(timeout, log);

    private void CopyLogs(string folder)
    {
        // The region's logs outlive it in artifacts/, for a failed run.
        var target = Path.Combine(StratusProcess.RepositoryRoot, "artifacts", "chaos", "logs");
        try
        {
            Directory.CreateDirectory(target);
            foreach (var file in Directory.GetFiles(Path.Combine(folder, "logs")))
            {
                File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
            }
        }
        catch (IOException e)
        {
            log($"could not keep the logs: {e.Message}");
        }
    }

    public static string Row(FaultResult r) => string.Create(CultureInfo.InvariantCulture,
        $"| {r.Fault} | {r.Window.TotalSeconds:F0} | {r.Requests} | {r.Availability * 100:F1} % | {r.TimeToRecover.TotalSeconds:F1} | {(r.ConvergedAfter is { } c ? $"{c.TotalSeconds:F0}" : "no")} | {r.AcceptedWrites} | {r.Lost} | {r.Duplicates} | {r.Orphans} |");

    public string Table()
    {
        var text = new StringBuilder();
        text.AppendLine("| fault | fault lasted (s) | requests during it | answered without error | time to recover (s) | converged after heal (s) | writes accepted | lost | duplicates | orphans |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var result in results)
        {
            text.AppendLine(Row(result));
        }

        return text.ToString();
    }
}
