using System.Diagnostics;
using System.Text.Json;
using Stratus.HostAgent.Drivers;

using Stratus.Testing;

namespace Stratus.Bench;

/// <summary>
/// Host loss of one real Cloud PC (issue 18): `stratus up --hosts none` and two `stratus host` agents (QEMU) in
/// local-1; the Cloud PC's guest writes a file, a copy of its disk taken after it reaches the region's store, then its
/// host's agent and QEMU are killed and the host's VM folder deleted. Timed from the kill: the host seen down, the Cloud
/// PC recovering, and provisioned again on the other host (RTO); RPO is the age of its newest copy at the kill.
/// </summary>
internal static class HostLossBenchmark
{
    private const string ImageId = "stratus-tiny-linux";
    private const string PlanId = "5c1a0000-0000-4000-8000-000000010108";
    private const string Marker = "before-the-loss";
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(500);

    public static async Task<int> RunAsync(string? imageOption, string? binaryOption, CancellationToken cancellationToken)
    {
        var root = BootBenchmark.RepositoryRoot();
        var binary = binaryOption ?? Path.Combine(root, "src", "Stratus", "bin", "Release", "net10.0", "stratus");
        if (!File.Exists(binary))
        {
            Console.Error.WriteLine($"No stratus binary at {binary}: build it first with `dotnet build src/Stratus -c Release`.");
            return 2;
        }

        var image = await GalleryImage.LoadAsync(await BootBenchmark.ImageFolderAsync(imageOption, cancellationToken), verify: true, cancellationToken);
        var commit = await ProvisionBenchmark.CommitAsync(root, cancellationToken);
        // Short, under /tmp: QEMU's unix sockets live below the hosts' folders.
        var data = $"/tmp/sh-{Guid.NewGuid().ToString("N")[..8]}";
        var loadBefore = Machine.LoadAverage();
        StratusChild? stratus = null, hostA = null, hostB = null;
        try
        {
            RestoreBenchmark.InstallImage(image.FolderPath, Path.Combine(data, "images", "gallery", ImageId));
            var operatorPassword = $"bench-operator-{Guid.NewGuid():N}";
            stratus = StratusChild.Start(binary, data, "none", new Dictionary<string, string>
            {
                ["STRATUS_BOOTSTRAP_PASSWORD"] = operatorPassword,
                ["Stratus__Compute__LongPollTimeout"] = "00:00:05",
                // Heartbeat timeout (30 s) and host-loss grace (2 min) keep their defaults; copies every minute, not 5.
                ["Stratus__Compute__DiskCopies__DefaultInterval"] = "00:01:00",
                ["Stratus__Compute__DiskCopies__CheckInterval"] = "00:00:02",
            });
            Console.Error.WriteLine($"stratus up --hosts none (pid {stratus.Id}) on {stratus.BaseAddress}, data in {data}; load {loadBefore}");
            await ProvisionBenchmark.WaitUntilReadyAsync(stratus, cancellationToken);
            using var operatorApi = await StratusApi.SignInAsync(stratus.BaseAddress, "operator", operatorPassword, cancellationToken);
            hostA = await StartHostAsync(binary, stratus, operatorApi, data, "a", cancellationToken);
            await WaitForReadyHostsAsync(operatorApi, 1, cancellationToken);

            var (admin, userId) = await RestoreBenchmark.SetUpTenantAsync(operatorApi, stratus.BaseAddress, cancellationToken);
            using var _ = admin;
            await admin.SendAsync(HttpMethod.Post, $"/api/v1/users/{userId}/assignLicense",
                new { addLicenses = new[] { new { skuId = Guid.Parse(PlanId) } }, removeLicenses = Array.Empty<Guid>() }, cancellationToken);
            var pc = await WaitForStatusAsync(admin, stratus, null, "provisioned", TimeSpan.FromMinutes(10), cancellationToken);
            Console.Error.WriteLine($"Cloud PC {pc.Id} provisioned on host a; load {Machine.LoadAverage()}");
            hostB = await StartHostAsync(binary, stratus, operatorApi, data, "b", cancellationToken);
            await WaitForReadyHostsAsync(operatorApi, 2, cancellationToken);

            var vmFolder = Directory.GetDirectories(Path.Combine(data, "hosts", "a", "vms")).Single();
            await using (var console = await SerialConsole.ConnectAsync(Path.Combine(vmFolder, "serial.sock"), cancellationToken))
            {
                await console.RunAsync($"echo {Marker} > /home/note.txt && sync", TimeSpan.FromMinutes(1), cancellationToken);
            }

            var written = TimeProvider.System.GetUtcNow();
            var copyAt = await WaitForCopyAfterAsync(operatorApi, pc.VmId, written, cancellationToken);
            Console.Error.WriteLine($"a copy taken after the file reached the store ({copyAt:u}); load {Machine.LoadAverage()}");

            // The loss: agent and QEMU killed, the VM's folder gone.
            var lostAt = TimeProvider.System.GetUtcNow();
            var clock = Stopwatch.GetTimestamp();
            await hostA.KillAsync();
            Machine.KillQemuProcesses(Path.Combine(data, "hosts", "a") + "/");
            Directory.Delete(Path.Combine(data, "hosts", "a", "vms"), recursive: true);
            var newest = await WaitForCopyAfterAsync(operatorApi, pc.VmId, DateTimeOffset.MinValue, cancellationToken);
            var rpo = lostAt - newest;
            Console.Error.WriteLine($"host a killed; newest copy {rpo.TotalSeconds:0} s old; load {Machine.LoadAverage()}");

            TimeSpan? down = null, recovering = null;
            var timeout = TimeSpan.FromMinutes(10);
            while (true)
            {
                var elapsed = Stopwatch.GetElapsedTime(clock);
                if (down is null && (await operatorApi.GetAsync<List<HostItem>>("/api/v1/hosts", cancellationToken)).Single(h => h.Name == "host-a").State != "ready")
                {
                    down = elapsed;
                    Console.Error.WriteLine($"{elapsed.TotalSeconds,6:0} s: host a not ready; load {Machine.LoadAverage()}");
                }

                var status = (await admin.GetAsync<CloudPcItem>($"/api/v1/cloudPCs/{pc.Id}", cancellationToken)).Status;
                if (recovering is null && status == "recovering")
                {
                    recovering = elapsed;
                    Console.Error.WriteLine($"{elapsed.TotalSeconds,6:0} s: Cloud PC recovering; load {Machine.LoadAverage()}");
                }

                if (recovering is not null && status == "provisioned")
                {
                    break;
                }

                if (elapsed >= timeout || stratus.HasExited)
                {
                    throw new TimeoutException($"The Cloud PC was '{status}' {elapsed.TotalMinutes:0} minutes after the loss.");
                }

                await Task.Delay(Poll, cancellationToken);
            }

            var ready = Stopwatch.GetElapsedTime(clock);
            Console.Error.WriteLine($"{ready.TotalSeconds,6:0} s: Cloud PC provisioned on host b; load {Machine.LoadAverage()}");
            var restoredFolder = Directory.GetDirectories(Path.Combine(data, "hosts", "b", "vms")).Single();
            await using (var console = await SerialConsole.ConnectAsync(Path.Combine(restoredFolder, "serial.sock"), cancellationToken))
            {
                var note = (await console.RunAsync("cat /home/note.txt", TimeSpan.FromMinutes(1), cancellationToken)).Trim();
                if (note != Marker)
                {
                    throw new InvalidOperationException($"The recovered guest's /home/note.txt says '{note}', not '{Marker}'.");
                }
            }

            Console.WriteLine($"Host loss of one Cloud PC ({image.Name} {image.Version}), two `stratus host` agents (QEMU) in local-1");
            Console.WriteLine($"Machine: {Environment.ProcessorCount} cores, {Machine.CpuModel()}; Stratus at commit {commit}");
            Console.WriteLine("HeartbeatTimeout 30 s and HostLossGrace 2 min (defaults); disk copies every 1 min; polled every 0.5 s");
            Console.WriteLine($"Load average (1, 5, 15 min): {loadBefore} before, {Machine.LoadAverage()} after");
            Console.WriteLine();
            const string Format = "{0,-58} {1,10}";
            Console.WriteLine(string.Format(System.Globalization.CultureInfo.InvariantCulture, Format, "Kill to host not ready (down detected)", down is { } d ? Figures.Seconds(d) : "not seen"));
            Console.WriteLine(string.Format(System.Globalization.CultureInfo.InvariantCulture, Format, "Kill to Cloud PC recovering", Figures.Seconds(recovering!.Value)));
            Console.WriteLine(string.Format(System.Globalization.CultureInfo.InvariantCulture, Format, "Kill to Cloud PC provisioned on the other host (RTO)", Figures.Seconds(ready)));
            if (down is { } seen)
            {
                Console.WriteLine(string.Format(System.Globalization.CultureInfo.InvariantCulture, Format, "Down detected to provisioned", Figures.Seconds(ready - seen)));
            }

            Console.WriteLine(string.Format(System.Globalization.CultureInfo.InvariantCulture, Format, "Recovering to provisioned (restore from copy + boot)", Figures.Seconds(ready - recovering.Value)));
            Console.WriteLine(string.Format(System.Globalization.CultureInfo.InvariantCulture, Format, "RPO: age of the newest copy at the kill", Figures.Seconds(rpo)));
            return 0;
        }
        catch (Exception exception)
        {
            return StratusChild.Stopped(exception, stratus, cancellationToken);
        }
        finally
        {
            foreach (var child in new[] { hostA, hostB, stratus })
            {
                if (child is not null)
                {
                    await child.DisposeAsync();
                }
            }

            // Agents leave their VMs running when they stop, by design: killed here.
            Machine.KillQemuProcesses(data + "/");
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }

    private static async Task<StratusChild> StartHostAsync(string binary, StratusChild stratus, StratusApi operatorApi, string data, string name,
        CancellationToken cancellationToken)
    {
        var token = (await operatorApi.SendAsync<JsonElement>(HttpMethod.Post, "/api/v1/hosts/enrollmentTokens", new { region = "local-1" }, cancellationToken))
            .GetProperty("token").GetString()!;
        var folder = Path.Combine(data, "hosts", name);
        return StratusChild.StartHost(binary, stratus.BaseAddress,
        [
            "--control-plane", stratus.BaseAddress.ToString().TrimEnd('/'), "--enrollment-token", token, "--region", "local-1", "--zone", "local-1a",
            "--name", $"host-{name}", "--data", folder, "--images", Path.Combine(data, "images", "gallery"), "--driver", "qemu",
            "--vcpus", "2", "--memory-mib", "2048", "--disk-gib", "16",
        ], Path.Combine(data, "hosts", $"{name}.log"));
    }

    private static async Task WaitForReadyHostsAsync(StratusApi operatorApi, int count, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while ((await operatorApi.GetAsync<List<HostItem>>("/api/v1/hosts", cancellationToken)).Count(h => h.State == "ready") < count)
        {
            if (waited.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new TimeoutException($"{count} hosts were not ready within 2 minutes.");
            }

            await Task.Delay(Poll, cancellationToken);
        }
    }

    /// <summary>The VM's newest copy time once it is after <paramref name="after"/>.</summary>
    private static async Task<DateTimeOffset> WaitForCopyAfterAsync(StratusApi operatorApi, Guid vmId, DateTimeOffset after, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var vm = await operatorApi.GetAsync<JsonElement>($"/api/v1/vms/{vmId}", cancellationToken);
            var latest = vm.GetProperty("diskCopies").EnumerateArray()
                .Where(c => c.GetProperty("latestCopyAt").ValueKind == JsonValueKind.String)
                .Select(c => c.GetProperty("latestCopyAt").GetDateTimeOffset())
                .DefaultIfEmpty(DateTimeOffset.MinValue).Max();
            if (latest > after)
            {
                return latest;
            }

            if (waited.Elapsed > TimeSpan.FromMinutes(5))
            {
                throw new TimeoutException($"No copy of VM {vmId} after {after:u} within 5 minutes.");
            }

            await Task.Delay(Poll, cancellationToken);
        }
    }

    private static async Task<CloudPcItem> WaitForStatusAsync(StratusApi admin, StratusChild stratus, Guid? id, string status, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < timeout && !stratus.HasExited)
        {
            var pc = (await admin.GetAsync<Page<CloudPcItem>>("/api/v1/cloudPCs", cancellationToken)).Value.FirstOrDefault(p => id is null || p.Id == id);
            if (pc?.Status == status)
            {
                return pc;
            }

            await Task.Delay(Poll, cancellationToken);
        }

        throw new TimeoutException($"The Cloud PC was not {status} within {timeout.TotalMinutes:0} minutes.");
    }

    private sealed record Page<T>(List<T> Value, int TotalCount);

    private sealed record CloudPcItem(Guid Id, string Status, Guid VmId);

    private sealed record HostItem(string Name, string State);
}
