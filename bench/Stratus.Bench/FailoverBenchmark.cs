using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Stratus.Bench;

/// <summary>
/// Cross-region disaster recovery at scale (issue 18): `stratus up --hosts simulated` (regions local-1 and local-2),
/// COUNT Cloud PCs provisioned in local-1 for users whose setting has crossRegion disaster recovery to local-2 (disk
/// copies every minute), then, once every Cloud PC has a copy in local-2, one bulkAction disasterRecoveryFailover of
/// all of them: the time until every one is failedOver (RTO), and the age of each one's newest copy in local-2 just
/// before the failover (the work it would lose, RPO).
/// </summary>
internal static class FailoverBenchmark
{
    private const string Primary = "local-1";
    private const string Backup = "local-2";
    private const int CopyMinutes = 1;
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    public static async Task<int> RunAsync(string? binaryOption, int count, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var root = BootBenchmark.RepositoryRoot();
        var binary = binaryOption ?? Path.Combine(root, "src", "Stratus", "bin", "Release", "net10.0", "stratus");
        if (!File.Exists(binary))
        {
            Console.Error.WriteLine($"No stratus binary at {binary}: build it first with `dotnet build src/Stratus -c Release`.");
            return 2;
        }

        var commit = await ProvisionBenchmark.CommitAsync(root, cancellationToken);
        var data = Path.Combine(Path.GetTempPath(), $"stratus-bench-{Guid.NewGuid().ToString("N")[..8]}");
        var loadBefore = Machine.LoadAverage();
        StratusChild? stratus = null;
        try
        {
            await ProvisionBenchmark.WriteImageAsync(Path.Combine(data, "images", "gallery", "bench-image"), cancellationToken);
            var operatorPassword = $"bench-operator-{Guid.NewGuid():N}";
            stratus = StratusChild.Start(binary, data, "simulated", new Dictionary<string, string>
            {
                ["STRATUS_BOOTSTRAP_PASSWORD"] = operatorPassword,
                // Room for every VM twice (primary kept, stopped, beside the disaster-recovery VM).
                ["Stratus__EmbeddedHosts__VCpus"] = "100000",
                ["Stratus__EmbeddedHosts__MemoryMiB"] = "100000000",
                ["Stratus__EmbeddedHosts__DiskGiB"] = "100000000",
            });
            Console.Error.WriteLine($"stratus up --hosts simulated (pid {stratus.Id}) on {stratus.BaseAddress}, data in {data}; {count} Cloud PCs; load {loadBefore}");
            await ProvisionBenchmark.WaitUntilReadyAsync(stratus, cancellationToken);
            using var operatorApi = await StratusApi.SignInAsync(stratus.BaseAddress, "operator", operatorPassword, cancellationToken);
            await ProvisionBenchmark.WaitForHostsAsync(operatorApi, stratus, cancellationToken);
            var (admin, groupId) = await ProvisionBenchmark.SetUpTenantAsync(operatorApi, stratus.BaseAddress, count, cancellationToken, Primary);
            using var _ = admin;
            var settingId = await admin.CreateAsync("/api/v1/userSettings", new
            {
                displayName = "Cross-region disaster recovery",
                crossRegionDisasterRecoverySetting = new { disasterRecoveryType = "crossRegion", disasterRecoveryNetworkSetting = new { regionName = Backup } },
                diskCopyFrequencyInMinutes = CopyMinutes,
            }, cancellationToken);
            await admin.SendAsync(HttpMethod.Post, $"/api/v1/userSettings/{settingId}/assign",
                new { assignments = new[] { new { target = new { groupId }, priority = 1 } } }, cancellationToken);

            var provisioned = await ProvisionBenchmark.MeasureAsync(stratus, admin, groupId, count, 8, timeout, cancellationToken);
            if (!provisioned.Complete)
            {
                throw new InvalidOperationException($"Only {provisioned.Provisioned} of {count} Cloud PCs were provisioned.");
            }

            Console.Error.WriteLine($"{count} Cloud PCs provisioned in {Figures.Seconds(provisioned.Total)}; waiting for a copy of each in {Backup}");
            var copied = await WaitForCopiesAsync(admin, count, timeout, cancellationToken);
            var rpo = copied.Select(r => r.RecoveryPointAgeInSeconds!.Value).Order().ToList();

            var started = TimeProvider.System.GetUtcNow();
            var clock = Stopwatch.GetTimestamp();
            var bulk = await admin.SendAsync<JsonElement>(HttpMethod.Post, "/api/v1/cloudPCs/bulkAction",
                new { action = "disasterRecoveryFailover", cloudPcIds = copied.Select(r => r.CloudPcId).ToArray() }, cancellationToken);
            var accepted = bulk.GetProperty("value").EnumerateArray().Count(i => i.GetProperty("status").GetInt32() == 202);
            var answered = Stopwatch.GetElapsedTime(clock);
            Console.Error.WriteLine($"bulkAction disasterRecoveryFailover: {accepted} of {count} accepted in {Figures.Seconds(answered)}; load {Machine.LoadAverage()}");

            var (all, failedOver) = await WaitForFailoverAsync(admin, stratus, count, clock, timeout, cancellationToken);
            var each = failedOver.Select(p => p.DisasterRecoveryStatus.ChangedDateTime!.Value - started).Order().ToList();

            Console.WriteLine($"Cross-region disaster recovery failover of {count} Cloud PCs ({Primary} to {Backup}), simulated hosts");
            Console.WriteLine($"Machine: {Environment.ProcessorCount} cores, {Machine.CpuModel()}; Stratus at commit {commit}");
            Console.WriteLine($"Disk copies every {CopyMinutes} min; one bulkAction of all {count}; polled every {Poll.TotalSeconds:0} s");
            Console.WriteLine($"Load average (1, 5, 15 min): {loadBefore} before, {Machine.LoadAverage()} after");
            Console.WriteLine();
            const string Format = "{0,-62} {1,10}";
            Row(Format, "Provisioning of all (first directory change to last provisioned)", Figures.Seconds(provisioned.Total));
            Row(Format, "bulkAction answered", Figures.Seconds(answered));
            Row(Format, $"Failover RTO, all {count}: bulkAction to the last failedOver", all is { } a ? Figures.Seconds(a) : $"not within {timeout.TotalMinutes:0} min");
            Row(Format, $"  failedOver (of {count})", failedOver.Count.ToString(CultureInfo.InvariantCulture));
            if (each.Count > 0)
            {
                Row(Format, "  each (service's changedDateTime - bulkAction): median", Figures.Seconds(each[each.Count / 2]));
                Row(Format, "  each: min / max", $"{Figures.Seconds(each[0])} / {Figures.Seconds(each[^1])}");
            }

            Row(Format, $"RPO at failover (age of the newest copy in {Backup}): median", $"{rpo[rpo.Count / 2]} s");
            Row(Format, "  min / max", $"{rpo[0]} s / {rpo[^1]} s");
            return all is null ? 1 : 0;
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

            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }

    /// <summary>The report's rows once every Cloud PC has a copy in the backup region.</summary>
    private static async Task<List<ReportRow>> WaitForCopiesAsync(StratusApi admin, int count, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var rows = new List<ReportRow>();
            for (var skip = 0; ; skip += 100)
            {
                var page = await admin.GetAsync<Page<ReportRow>>($"/api/v1/reports/crossRegionDisasterRecovery?$top=100&$skip={skip}", cancellationToken);
                rows.AddRange(page.Value);
                if (page.Value.Count == 0 || rows.Count >= page.TotalCount)
                {
                    break;
                }
            }

            var copied = rows.Count(r => r.LatestCopyDateTime is not null);
            Console.Error.WriteLine($"{waited.Elapsed.TotalSeconds,6:0} s: {copied} of {count} with a copy in {Backup}; load {Machine.LoadAverage()}");
            if (copied >= count)
            {
                return rows;
            }

            if (waited.Elapsed >= timeout)
            {
                throw new TimeoutException($"Only {copied} of {count} Cloud PCs had a copy in {Backup} after {timeout.TotalMinutes:0} minutes.");
            }

            await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken);
        }
    }

    private static async Task<(TimeSpan? All, List<CloudPcItem> FailedOver)> WaitForFailoverAsync(StratusApi admin, StratusChild stratus, int count,
        long clock, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var last = TimeSpan.Zero;
        while (true)
        {
            var page = await admin.GetAsync<Page<CloudPcItem>>("/api/v1/cloudPCs?$top=1000", cancellationToken);
            var elapsed = Stopwatch.GetElapsedTime(clock);
            var failedOver = page.Value.Where(p => p.DisasterRecoveryStatus.Status == "failedOver").ToList();
            if (failedOver.Count >= count || elapsed >= timeout || elapsed - last >= TimeSpan.FromSeconds(5))
            {
                last = elapsed;
                var states = string.Join(", ", page.Value.GroupBy(p => p.DisasterRecoveryStatus.Status).Select(g => $"{g.Key} {g.Count()}"));
                Console.Error.WriteLine($"{elapsed.TotalSeconds,6:0} s: {states}; load {Machine.LoadAverage()}");
            }

            if (failedOver.Count >= count)
            {
                return (elapsed, failedOver);
            }

            if (elapsed >= timeout || stratus.HasExited)
            {
                return (null, failedOver);
            }

            await Task.Delay(Poll, cancellationToken);
        }
    }

    private static void Row(string format, string name, string value) =>
        Console.WriteLine(string.Format(CultureInfo.InvariantCulture, format, name, value));

    private sealed record Page<T>(List<T> Value, int TotalCount);

    private sealed record ReportRow(Guid CloudPcId, string DisasterRecoveryStatus, DateTimeOffset? LatestCopyDateTime, int? RecoveryPointAgeInSeconds);

    private sealed record CloudPcItem(Guid Id, string Status, DrStatus DisasterRecoveryStatus);

    private sealed record DrStatus(string Status, DateTimeOffset? ChangedDateTime);
}
