using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace Stratus.Bench;

/// <summary>
/// The lag of file replication to the other region (issue 19 item 4), its RPO for files: `stratus up --hosts none` as
/// region A with two file sets replicated to region B's folders (the image store and an exports folder) at the
/// default pass interval; COUNT files of SIZE MiB written into A's exports folder one at a time, each after a random
/// wait of up to one interval once the previous one arrived (so that writes land at every phase of the passes), each timed from its last write to its replica in B's folder with the
/// source's sha256 (a replica appears by a rename, whole). Also the largest stratus_file_replication_lag_seconds that
/// /metrics showed meanwhile.
/// </summary>
internal static class FileReplicationBenchmark
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    public static async Task<int> RunAsync(string? binaryOption, int count, int sizeMiB, TimeSpan timeout, CancellationToken cancellationToken)
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
        var exportsA = Path.Combine(data, "exports");
        var exportsB = Path.Combine(data, "region-b", "exports");
        var imagesB = Path.Combine(data, "region-b", "images");
        var loadBefore = Machine.LoadAverage();
        StratusChild? stratus = null;
        try
        {
            foreach (var folder in new[] { exportsA, exportsB, imagesB })
            {
                Directory.CreateDirectory(folder);
            }

            var operatorPassword = $"bench-operator-{Guid.NewGuid():N}";
            stratus = StratusChild.Start(binary, data, "none", new Dictionary<string, string>
            {
                ["STRATUS_BOOTSTRAP_PASSWORD"] = operatorPassword,
                ["Stratus__Images__FileReplication__Region"] = "A",
                ["Stratus__Images__FileReplication__Stores__A__exports"] = exportsA,
                ["Stratus__Images__FileReplication__Stores__B__exports"] = exportsB,
                ["Stratus__Images__FileReplication__Stores__B__images"] = imagesB,
            });
            Console.Error.WriteLine($"stratus up --hosts none (pid {stratus.Id}) on {stratus.BaseAddress}, data in {data}; {count} files of {sizeMiB} MiB; load {loadBefore}");
            await ProvisionBenchmark.WaitUntilReadyAsync(stratus, cancellationToken);
            using var operatorApi = await StratusApi.SignInAsync(stratus.BaseAddress, "operator", operatorPassword, cancellationToken);
            var interval = (await operatorApi.GetAsync<JsonElement>("/api/v1/fileReplication", cancellationToken)).GetProperty("intervalSeconds").GetDouble();

            var maxMetric = 0.0;
            using var metrics = new HttpClient { BaseAddress = stratus.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            var lags = new List<TimeSpan>();
            var bytes = new byte[sizeMiB * 1024 * 1024];
            for (var i = 0; i < count; i++)
            {
                RandomNumberGenerator.Fill(bytes);
                var name = $"cloudpc-{i:D3}/point-{i:D3}.qcow2";
                var source = Path.Combine(exportsA, name);
                Directory.CreateDirectory(Path.GetDirectoryName(source)!);
                await File.WriteAllBytesAsync(source, bytes, cancellationToken);
                var written = File.GetLastWriteTimeUtc(source);
                var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
                var replica = Path.Combine(exportsB, name);
                var waited = Stopwatch.StartNew();
                while (!File.Exists(replica))
                {
                    if (waited.Elapsed > timeout || stratus.HasExited)
                    {
                        throw new InvalidOperationException($"{name} did not reach region B within {timeout.TotalMinutes:0} min.");
                    }

                    maxMetric = Math.Max(maxMetric, await LagMetricAsync(metrics, cancellationToken));
                    await Task.Delay(Poll, cancellationToken);
                }

                var lag = TimeProvider.System.GetUtcNow() - new DateTimeOffset(written, TimeSpan.Zero);
                await using (var stream = File.OpenRead(replica))
                {
                    if (Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken)) != sha256)
                    {
                        throw new InvalidOperationException($"The replica of {name} in region B does not have the source's sha256.");
                    }
                }

                lags.Add(lag);
                Console.Error.WriteLine($"{name}: in region B {Figures.Seconds(lag)} after its write; load {Machine.LoadAverage()}");
                // A fixed wait would lock every write to the same phase of the passes.
                await Task.Delay(TimeSpan.FromSeconds(Random.Shared.NextDouble() * interval), cancellationToken);
            }

            var status = await operatorApi.GetAsync<JsonElement>("/api/v1/fileReplication", cancellationToken);
            lags.Sort();
            const string Format = "{0,-62} {1,10}";
            Console.WriteLine($"File replication from region A to region B: {count} files of {sizeMiB} MiB, one at a time, each a random 0 to {interval:0} s after the previous one's arrival; pass interval {interval:0} s (the default)");
            Console.WriteLine($"Machine: {Environment.ProcessorCount} cores, {Machine.CpuModel()}; Stratus at commit {commit}; both stores on the same local disk");
            Console.WriteLine($"Load average (1, 5, 15 min): {loadBefore} before, {Machine.LoadAverage()} after");
            Row(Format, "Lag: last write in A to the replica in B (sha256 checked), median", Figures.Seconds(lags[lags.Count / 2]));
            Row(Format, "  min / max", $"{Figures.Seconds(lags[0])} / {Figures.Seconds(lags[^1])}");
            Row(Format, "Largest stratus_file_replication_lag_seconds seen", Figures.Seconds(TimeSpan.FromSeconds(maxMetric)));
            foreach (var route in status.GetProperty("routes").EnumerateArray())
            {
                Row(Format, $"Route {route.GetProperty("set").GetString()} A->B at the end: replicated / pending / failed",
                    $"{route.GetProperty("replicated").GetInt32()} / {route.GetProperty("pending").GetInt32()} / {route.GetProperty("failed").GetInt32()}");
            }

            return 0;
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

    /// <summary>The largest stratus_file_replication_lag_seconds series on /metrics now, 0 when there is none.</summary>
    private static async Task<double> LagMetricAsync(HttpClient metrics, CancellationToken cancellationToken)
    {
        var text = await metrics.GetStringAsync("/metrics", cancellationToken);
        return text.Split('\n')
            .Where(line => line.StartsWith("stratus_file_replication_lag_seconds", StringComparison.Ordinal))
            // NAME{LABELS} VALUE [TIMESTAMP]
            .Select(line => line[(line.IndexOf('}', StringComparison.Ordinal) + 1)..].Trim().Split(' ')[0])
            .Select(value => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) ? seconds : 0)
            .DefaultIfEmpty(0)
            .Max();
    }

    private static void Row(string format, string name, string value) =>
        Console.WriteLine(string.Format(CultureInfo.InvariantCulture, format, name, value));
}
