using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;

namespace Stratus.Bench;

/// <summary>
/// Provisioning at scale: `stratus up` with simulated hosts, a tenant whose policy gives a group a plan, then
/// COUNT users created, added to the group and licensed through the public API. It measures the time from the
/// first of those directory changes until every Cloud PC is provisioned, and checks what the run left behind:
/// failed Cloud PCs, dead letters, and exactly one VM per Cloud PC.
/// </summary>
internal static class ProvisionBenchmark
{
    private const string PlanId = "5c1a0000-0000-4000-8000-000000010108";
    private const string ImageId = "bench-image";
    private const string Domain = "bench.test";
    private const string AdminPassword = "bench-admin-password-1";
    private const string UserPassword = "bench-user-password-1";

    // `up` runs one embedded host in each of its two default regions.
    private const int Hosts = 2;
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(5);

    public static async Task<int> RunAsync(string? binaryOption, int count, int concurrency, TimeSpan timeout, bool keep, CancellationToken cancellationToken)
    {
        var root = BootBenchmark.RepositoryRoot();
        var binary = binaryOption ?? Path.Combine(root, "src", "Stratus", "bin", "Release", "net10.0", "stratus");
        if (!File.Exists(binary))
        {
            Console.Error.WriteLine($"No stratus binary at {binary}: build it first with `dotnet build src/Stratus -c Release`.");
            return 2;
        }

        var commit = await CommitAsync(root, cancellationToken);
        var data = Path.Combine(Path.GetTempPath(), $"stratus-bench-{Guid.NewGuid().ToString("N")[..8]}");
        var loadBefore = Machine.LoadAverage();
        StratusChild? stratus = null;
        try
        {
            // The simulated driver never reads the image; the policy only needs the gallery to list it.
            await WriteImageAsync(Path.Combine(data, "images", "gallery", ImageId), cancellationToken);
            var operatorPassword = $"bench-operator-{Guid.NewGuid():N}";
            stratus = StratusChild.Start(binary, data, "simulated", new Dictionary<string, string>
            {
                ["STRATUS_BOOTSTRAP_PASSWORD"] = operatorPassword,
                // Room for every VM: the figures are the control plane's, not the hosts' capacity.
                ["Stratus__EmbeddedHosts__VCpus"] = "100000",
                ["Stratus__EmbeddedHosts__MemoryMiB"] = "100000000",
                ["Stratus__EmbeddedHosts__DiskGiB"] = "100000000",
            });
            Console.Error.WriteLine($"stratus up --hosts simulated (pid {stratus.Id}) on {stratus.BaseAddress}, data in {data}; {count} Cloud PCs, client concurrency {concurrency}; load {loadBefore}");
            await WaitUntilReadyAsync(stratus, cancellationToken);
            using var operatorApi = await StratusApi.SignInAsync(stratus.BaseAddress, "operator", operatorPassword, cancellationToken);
            await WaitForHostsAsync(operatorApi, stratus, cancellationToken);
            var (admin, groupId) = await SetUpTenantAsync(operatorApi, stratus.BaseAddress, count, cancellationToken);
            using (admin)
            {
                var figures = await MeasureAsync(stratus, admin, groupId, count, concurrency, timeout, cancellationToken);
                await CheckAsync(figures, admin, operatorApi, cancellationToken);
                figures.PeakMemoryMiB = Math.Max(figures.PeakMemoryMiB, stratus.Memory().PeakMiB);
                figures.Print(Console.Out, count, concurrency, commit, loadBefore, Machine.LoadAverage());
                return figures.Complete ? 0 : 1;
            }
        }
        catch (Exception exception)
        {
            return StratusChild.Stopped(exception, stratus, cancellationToken);
        }
        finally
        {
            if (stratus is not null)
            {
                await stratus.DisposeAsync();
            }

            if (keep)
            {
                Console.Error.WriteLine($"Kept the data folder (databases, stratus.log): {data}");
            }
            else if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }

    /// <summary>The directory changes and the wait for every Cloud PC, timed from the first change.</summary>
    internal static async Task<ProvisionFigures> MeasureAsync(StratusChild stratus, StratusApi admin, Guid groupId, int count, int concurrency,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        var figures = new ProvisionFigures();
        var cpuBefore = stratus.CpuTime();
        var started = Stopwatch.GetTimestamp();
        var usersDone = 0;
        // The first refused change stops the other clients too: the run has failed, and the reason is that change's.
        using var directoryFailed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var directory = Task.Run(async () =>
        {
            var next = 0;
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
            {
                try
                {
                    for (var i = Interlocked.Increment(ref next); i <= count; i = Interlocked.Increment(ref next))
                    {
                        await AddUserAsync(admin, groupId, i, directoryFailed.Token);
                        Interlocked.Increment(ref usersDone);
                    }
                }
                catch (Exception) when (!directoryFailed.IsCancellationRequested)
                {
                    await directoryFailed.CancelAsync();
                    throw;
                }
            }));
            return Stopwatch.GetElapsedTime(started);
        }, cancellationToken);

        var lastProgress = TimeSpan.Zero;
        while (true)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            if (directory.IsFaulted)
            {
                // Its reason is the benchmark's: the awaited task throws the first client's failure.
                await directory;
            }

            var elapsed = Stopwatch.GetElapsedTime(started);
            figures.Provisioned = await CountAsync(admin, "provisioned", cancellationToken);
            var memory = stratus.Memory();
            figures.PeakMemoryMiB = Math.Max(figures.PeakMemoryMiB, memory.PeakMiB);
            var finished = figures.Provisioned >= count;
            if (finished || elapsed - lastProgress >= ProgressInterval || elapsed >= timeout)
            {
                lastProgress = elapsed;
                figures.Failed = await CountAsync(admin, "failed", cancellationToken);
                var records = await CountAsync(admin, null, cancellationToken);
                Console.Error.WriteLine(
                    $"{elapsed.TotalSeconds,6:0} s: users {Volatile.Read(ref usersDone)}/{count}, Cloud PCs {records} (provisioned {figures.Provisioned}, failed {figures.Failed}); stratus RSS {memory.CurrentMiB:0} MiB; load {Machine.LoadAverage()}");
                if (stratus.HasExited)
                {
                    throw new InvalidOperationException("stratus exited during the run.");
                }
            }

            if (finished || (directory.IsCompleted && figures.Provisioned + figures.Failed >= count) || elapsed >= timeout)
            {
                figures.Total = elapsed;
                figures.Complete = finished;
                if (!finished)
                {
                    Console.Error.WriteLine(elapsed >= timeout
                        ? $"Stopped waiting after {timeout.TotalMinutes:0} minutes with {figures.Provisioned} of {count} Cloud PCs provisioned."
                        : $"Every Cloud PC is provisioned or failed: {figures.Failed} failed.");
                }

                break;
            }
        }

        figures.CpuTime = stratus.CpuTime() - cpuBefore;
        figures.Directory = directory.IsCompleted ? await directory : null;
        return figures;
    }

    /// <summary>One user, as an administrator would add them: created, put in the group, licensed.</summary>
    private static async Task AddUserAsync(StratusApi admin, Guid groupId, int number, CancellationToken cancellationToken)
    {
        var userId = await admin.CreateAsync("/api/v1/users", new
        {
            userPrincipalName = $"user{number:D5}@{Domain}",
            displayName = $"Bench user {number}",
            accountEnabled = true,
            passwordProfile = new { password = UserPassword },
        }, cancellationToken);
        await admin.SendAsync(HttpMethod.Post, $"/api/v1/groups/{groupId}/members", new { id = userId }, cancellationToken);
        await admin.SendAsync(HttpMethod.Post, $"/api/v1/users/{userId}/assignLicense",
            new { addLicenses = new[] { new { skuId = Guid.Parse(PlanId) } }, removeLicenses = Array.Empty<Guid>() }, cancellationToken);
    }

    /// <summary>What the run left behind: failures, dead letters, VMs, and how long each Cloud PC took.</summary>
    private static async Task CheckAsync(ProvisionFigures figures, StratusApi admin, StratusApi operatorApi, CancellationToken cancellationToken)
    {
        figures.Failed = await CountAsync(admin, "failed", cancellationToken);
        var deadLetters = await operatorApi.GetAsync<Page<DeadLetterItem>>("/api/v1/deadLetters?$top=10", cancellationToken);
        figures.DeadLetters = deadLetters.TotalCount;
        foreach (var letter in deadLetters.Value)
        {
            Console.Error.WriteLine($"dead letter: {letter.MessageType} on {letter.Queue} after {letter.Attempts} attempts: {letter.LastError}");
        }

        var vms = await operatorApi.GetAsync<List<VmItem>>("/api/v1/vms", cancellationToken);
        figures.Vms = vms.Count(v => !v.DeleteRequested);
        figures.VmsReady = vms.Count(v => !v.DeleteRequested && v.Ready);
        figures.VmsBeingDeleted = vms.Count(v => v.DeleteRequested);
        figures.VmsPerHost = (await operatorApi.GetAsync<List<HostItem>>("/api/v1/hosts", cancellationToken)).Select(h => h.VmCount).ToList();

        // The service's own clock: the record's creation (the evaluation that wanted it) to its last change
        // (the report that made it provisioned, unless something touched it later).
        for (var skip = 0; ; skip += 1000)
        {
            var page = await admin.GetAsync<Page<CloudPcItem>>($"/api/v1/cloudPCs?$top=1000&$skip={skip}", cancellationToken);
            figures.EachCloudPc.AddRange(page.Value.Where(p => p.Status == "provisioned").Select(p => p.LastModifiedDateTime - p.CreatedDateTime));
            if (page.Value.Count == 0 || skip + page.Value.Count >= page.TotalCount)
            {
                break;
            }
        }
    }

    private static async Task<int> CountAsync(StratusApi admin, string? status, CancellationToken cancellationToken)
    {
        var filter = status is null ? "" : "&$filter=" + Uri.EscapeDataString($"status eq '{status}'");
        return (await admin.GetAsync<Page<JsonElement>>($"/api/v1/cloudPCs?$top=1{filter}", cancellationToken)).TotalCount;
    }

    internal static async Task WaitUntilReadyAsync(StratusChild stratus, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = stratus.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromMinutes(2))
        {
            if (stratus.HasExited)
            {
                throw new InvalidOperationException("stratus exited before it was ready.");
            }

            try
            {
                using var response = await http.GetAsync("/readyz", cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200, cancellationToken);
        }

        throw new TimeoutException("stratus was not ready (/readyz) within 2 minutes.");
    }

    internal static async Task WaitForHostsAsync(StratusApi operatorApi, StratusChild stratus, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromMinutes(2))
        {
            var hosts = await operatorApi.GetAsync<List<HostItem>>("/api/v1/hosts", cancellationToken);
            if (hosts.Count(h => h is { State: "ready", Driver: "simulated" }) >= Hosts)
            {
                Console.Error.WriteLine($"Hosts ready: {string.Join(", ", hosts.Select(h => $"{h.Name} ({h.Region})"))}");
                return;
            }

            if (stratus.HasExited)
            {
                throw new InvalidOperationException("stratus exited before its hosts were ready.");
            }

            await Task.Delay(500, cancellationToken);
        }

        throw new TimeoutException($"The {Hosts} embedded hosts were not ready within 2 minutes.");
    }

    /// <summary>A tenant with seats for every user, a group, and a policy that gives the group the plan (in one region when given).</summary>
    internal static async Task<(StratusApi Admin, Guid GroupId)> SetUpTenantAsync(StratusApi operatorApi, Uri baseAddress, int count, CancellationToken cancellationToken,
        string? region = null)
    {
        var tenant = await operatorApi.SendAsync<JsonElement>(HttpMethod.Post, "/api/v1/tenants",
            new { displayName = "Bench", domain = Domain, admin = new { userName = $"admin@{Domain}", password = AdminPassword } }, cancellationToken);
        var tenantId = tenant.GetProperty("tenant").GetProperty("id").GetGuid();
        await operatorApi.SendAsync(HttpMethod.Put, $"/api/v1/tenants/{tenantId}/subscribedSkus/{PlanId}", new { prepaidUnits = count }, cancellationToken);
        var admin = await StratusApi.SignInAsync(baseAddress, $"admin@{Domain}", AdminPassword, cancellationToken);
        try
        {
            var groupId = await admin.CreateAsync("/api/v1/groups", new { displayName = "Cloud PC users" }, cancellationToken);
            object policy = region is null
                ? new { displayName = "Bench policy", imageId = ImageId, imageType = "gallery" }
                : new { displayName = "Bench policy", imageId = ImageId, imageType = "gallery", regionNames = new[] { region } };
            var policyId = await admin.CreateAsync("/api/v1/provisioningPolicies", policy, cancellationToken);
            await admin.SendAsync(HttpMethod.Post, $"/api/v1/provisioningPolicies/{policyId}/assign",
                new { assignments = new[] { new { target = new { groupId, servicePlanId = Guid.Parse(PlanId) } } } }, cancellationToken);
            return (admin, groupId);
        }
        catch
        {
            admin.Dispose();
            throw;
        }
    }

    /// <summary>An image folder as the tiny image's, with small stand-in files: enough for the gallery to list it.</summary>
    internal static async Task WriteImageAsync(string folder, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var contents = new Dictionary<string, string>
        {
            ["vmlinux"] = "not a kernel: the simulated driver boots nothing",
            ["initrd.img"] = "not an initrd",
            ["disk.qcow2"] = "not a disk",
        };
        var files = new Dictionary<string, object>();
        foreach (var (name, text) in contents)
        {
            await File.WriteAllTextAsync(Path.Combine(folder, name), text, cancellationToken);
            var bytes = System.Text.Encoding.UTF8.GetBytes(text);
            files[name] = new { sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)), size = bytes.Length };
        }

        var manifest = new
        {
            formatVersion = 1,
            name = "Stratus Bench Image",
            version = "1.0.0",
            kernel = "vmlinux",
            initrd = "initrd.img",
            disk = "disk.qcow2",
            cmdline = "console=ttyS0",
            readyMarker = "STRATUS-READY",
            files,
        };
        await File.WriteAllTextAsync(Path.Combine(folder, "manifest.json"), JsonSerializer.Serialize(manifest), cancellationToken);
    }

    internal static async Task<string> CommitAsync(string root, CancellationToken cancellationToken)
    {
        try
        {
            var commit = (await Machine.RunAsync("git", ["-C", root, "rev-parse", "--short", "HEAD"], TimeSpan.FromSeconds(30), cancellationToken)).Trim();
            var changed = await Machine.RunAsync("git", ["-C", root, "status", "--porcelain", "--", "src"], TimeSpan.FromSeconds(30), cancellationToken);
            return changed.Length > 0 ? $"{commit} with uncommitted changes in src" : commit;
        }
        catch (Exception exception) when (exception is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return "unknown (no git)";
        }
    }

    private sealed record Page<T>(List<T> Value, int TotalCount);

    private sealed record CloudPcItem(Guid Id, string Status, DateTimeOffset CreatedDateTime, DateTimeOffset LastModifiedDateTime);

    private sealed record HostItem(Guid Id, string Name, string Region, string State, string Driver, int VmCount);

    private sealed record VmItem(Guid Id, bool Ready, bool DeleteRequested);

    private sealed record DeadLetterItem(string Queue, string MessageType, int Attempts, string? LastError);
}
