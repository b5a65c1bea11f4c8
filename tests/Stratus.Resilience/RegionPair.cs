using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Stratus.Platform.Regions;
using Stratus.Testing;

namespace Stratus.Resilience;

/// <summary>
/// The two database clusters of deploy/local-regions/up.sh without any Stratus process (STRATUS_REGIONS_INSTANCES=none):
/// region-1's Patroni cluster (3 etcd members) and region-2's standby cluster (1 etcd member) replicating from it,
/// on 127.0.0.1, each with its <see cref="PatroniRegionStore"/>.
/// </summary>
public sealed class RegionPair : IAsyncDisposable
{
    private readonly HttpClient patroni = new() { Timeout = Timeout.InfiniteTimeSpan };

    private readonly string logsName;

    private RegionPair(string folder, int basePort, string logsName)
    {
        Folder = folder;
        this.logsName = logsName;
        First = Region.Attach(Path.Combine(folder, "region-1"), basePort);
        Second = Region.Attach(Path.Combine(folder, "region-2"), basePort + 1000);
        Password = File.ReadAllText(Path.Combine(First.Folder, "db-password")).Trim();
        FirstStore = StoreOf(First, Second);
        SecondStore = StoreOf(Second, First);
    }

    public string Folder { get; }

    /// <summary>Region A (region-1): the primary cluster at the start.</summary>
    public Region First { get; }

    /// <summary>Region B (region-2): a standby cluster of A at the start.</summary>
    public Region Second { get; }

    public PatroniRegionStore FirstStore { get; }

    public PatroniRegionStore SecondStore { get; }

    private string Password { get; }

    /// <param name="environment">Settings for up.sh over the database-only default (STRATUS_REGIONS_INSTANCES=all: the
    /// instances, their host agents and the front door too).</param>
    /// <param name="logsName">The folder under artifacts/chaos that keeps the lab's logs.</param>
    public static async Task<RegionPair> StartAsync(int basePort, Action<string> log, IReadOnlyDictionary<string, string>? environment = null,
        string logsName = "regions-standby-cluster-logs")
    {
        var folder = Path.Combine(Path.GetTempPath(), $"stratus-regions-{Guid.NewGuid():N}"[..26]);
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Script("up.sh"));
        start.ArgumentList.Add(folder);
        start.Environment["STRATUS_REGION_BASE_PORT"] = basePort.ToString(CultureInfo.InvariantCulture);
        start.Environment["STRATUS_REGIONS_INSTANCES"] = "none";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var exitCode = await Region.RunLoggedAsync(start, log);
        if (exitCode != 0)
        {
            await StopAsync(folder);
            throw new InvalidOperationException($"deploy/local-regions/up.sh failed with {exitCode}; its output is above");
        }

        return new RegionPair(folder, basePort, logsName);
    }

    /// <summary>A connection to the region's node in zone a (<paramref name="zone"/> b: BASE+11) as the superuser, to the stratus database.</summary>
    public NpgsqlConnection Connect(Region region, string zone = "a")
    {
        ArgumentNullException.ThrowIfNull(region);
        return new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = region.BasePort + (zone == "a" ? 10 : 11),
            Username = "postgres",
            Password = Password,
            Database = "stratus",
            Pooling = false,
            Timeout = 5,
            CommandTimeout = 10,
        }.ConnectionString);
    }

    /// <summary>
    /// The region's database cut off: every Patroni and PostgreSQL process of it stopped (SIGSTOP), as a partition
    /// would leave them, neither answering nor failing.
    /// </summary>
    public static Task CutOffDatabasesAsync(Region region) => Task.WhenAll(SignalAsync(region, "a", "STOP"), SignalAsync(region, "b", "STOP"));

    /// <summary>
    /// The region's database reachable again (SIGCONT), zone a's node (the last primary) first and zone b's once it
    /// leads again: zone b's winning the leader race would promote it to a new timeline of its own, which the other
    /// region's promotion reached too, and which pg_rewind cannot tell apart (the store refuses that demotion, ADR 0018).
    /// </summary>
    public static async Task ReconnectDatabasesAsync(Region region, PatroniRegionStore store, TimeSpan deadline)
    {
        ArgumentNullException.ThrowIfNull(store);
        await SignalAsync(region, "a", "CONT");
        var waited = Stopwatch.StartNew();
        while (await store.RoleAsync(CancellationToken.None) != StoreRole.Primary)
        {
            if (waited.Elapsed > deadline)
            {
                throw new TimeoutException($"{region.Folder}: zone a's node did not lead within {deadline.TotalSeconds:0} s");
            }

            await Task.Delay(200);
        }

        await SignalAsync(region, "b", "CONT");
    }

    /// <summary>Sends the signal to the zone's Patroni (its process group) and its PostgreSQL (a session of its own).</summary>
    private static async Task SignalAsync(Region region, string zone, string signal)
    {
        ArgumentNullException.ThrowIfNull(region);
        var pid = File.ReadAllLines(Path.Combine(region.Folder, "pids")).Select(l => l.Split(' ')).Last(p => p[0] == $"patroni-{zone}")[1];
        await ProcessRunner.RunAsync("kill", [$"-{signal}", "--", $"-{pid}"], TimeSpan.FromSeconds(10));
        await ProcessRunner.RunAsync("pkill", [$"-{signal}", "-f", Path.Combine(region.Folder, $"pg-{zone}", "data")], TimeSpan.FromSeconds(10));
    }

    public async ValueTask DisposeAsync()
    {
        patroni.Dispose();
        try
        {
            // Patroni's, PostgreSQL's, the instances' and the front door's logs outlive the lab: they tell why a
            // promotion or a rewind did not happen.
            var logs = Path.Combine(StratusProcess.RepositoryRoot, "artifacts", "chaos", logsName);
            foreach (var folder in new[] { First.Folder, Second.Folder, Path.Combine(Folder, "frontdoor") }.Where(f => Directory.Exists(Path.Combine(f, "logs"))))
            {
                var into = Directory.CreateDirectory(Path.Combine(logs, Path.GetFileName(folder)));
                foreach (var log in Directory.EnumerateFiles(Path.Combine(folder, "logs"), "*.log"))
                {
                    File.Copy(log, Path.Combine(into.FullName, Path.GetFileName(log)), overwrite: true);
                }
            }
        }
        finally
        {
            await StopAsync(Folder);
        }
    }

    private PatroniRegionStore StoreOf(Region region, Region other)
    {
        var settings = new PatroniRegionStoreOptions { RoleChangeTimeout = TimeSpan.FromSeconds(120), PollInterval = TimeSpan.FromMilliseconds(200) };
        foreach (var offset in new[] { 20, 21 })
        {
            settings.RestUrls.Add(new Uri($"http://127.0.0.1:{region.BasePort + offset}/"));
            settings.OtherRegionRestUrls.Add(new Uri($"http://127.0.0.1:{other.BasePort + offset}/"));
        }

        return new PatroniRegionStore(patroni, Options.Create(settings), TimeProvider.System, NullLogger<PatroniRegionStore>.Instance);
    }

    private static string Script(string name) => Path.Combine(StratusProcess.RepositoryRoot, "deploy", "local-regions", name);

    private static Task StopAsync(string folder) => ProcessRunner.RunAsync("bash", [Script("down.sh"), folder], TimeSpan.FromMinutes(3));
}
