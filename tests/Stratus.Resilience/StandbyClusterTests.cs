using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;
using Stratus.Platform.Regions;
using Stratus.Testing;
using Xunit.Abstractions;

namespace Stratus.Resilience;

/// <summary>Alone: it starts two Patroni clusters, whose figures another lab running beside it would distort.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RegionLabCollection
{
    public const string Name = "Region lab";
}

/// <summary>
/// The database half of a region failover and failback on real Patroni, etcd and PostgreSQL (docs/adr/0018): region B's
/// standby cluster follows A asynchronously; A's databases are cut off (every process of them stopped) while a writer
/// commits to A; B is promoted through <see cref="PatroniRegionStore"/> and takes a write; A comes back and is demoted
/// to a standby cluster of B, which rewinds it (pg_rewind), and then holds exactly B's rows. The figures (replication lag, promotion time, the writes A
/// acknowledged that B never got) go to artifacts/chaos/regions-standby-cluster.md.
/// The fault-injection harness's project runs it alone in `make test` (scripts/test.sh) and in `make chaos`.
/// </summary>
[Trait("Category", "Chaos")]
[Collection(RegionLabCollection.Name)]
public sealed class StandbyClusterTests(ITestOutputHelper output)
{
    private const int BasePort = 21000;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Region_loss_promotes_the_standby_cluster_and_failback_rewinds_the_old_primary_to_it()
    {
        var figures = new StringBuilder();
        var clock = Stopwatch.StartNew();
        await using var pair = await RegionPair.StartAsync(BasePort, Log);
        figures.AppendLine(CultureInfo.InvariantCulture, $"| both clusters started (etcd, Patroni, PostgreSQL) | {clock.Elapsed.TotalSeconds:0.0} s |");
        var (a, b) = (pair.First, pair.Second);

        Assert.Equal(StoreRole.Primary, await pair.FirstStore.RoleAsync(CancellationToken.None));
        Assert.Equal(StoreRole.Standby, await pair.SecondStore.RoleAsync(CancellationToken.None));
        await ExecuteAsync(pair.Connect(a), "CREATE TABLE region_probe (id bigint PRIMARY KEY, region text NOT NULL)");

        // Replication lag: from A's commit to the row being readable on B's standby leader.
        await ExecuteAsync(pair.Connect(a), "INSERT INTO region_probe VALUES (1, 'region-1')");
        var committed = Stopwatch.StartNew();
        await EventuallyAsync("the first row on B", async () => (await IdsAsync(pair.Connect(b))).Contains(1));
        var lag = committed.Elapsed;
        figures.AppendLine(CultureInfo.InvariantCulture, $"| replication lag A to B, one row, idle (upper bound: B polled every 20 ms) | {lag.TotalMilliseconds:0} ms |");

        // A writer commits to A continuously; then A's databases are cut off mid-stream.
        var acknowledged = new List<(long Id, TimeSpan At)>();
        using var stopWriter = new CancellationTokenSource();
        var writer = WriteUntilFailureAsync(pair, a, clock, acknowledged, stopWriter.Token);
        await EventuallyAsync("the writer's first 100 rows", () => Task.FromResult(Count(acknowledged) >= 100));
        var killedAt = clock.Elapsed;
        await RegionPair.CutOffDatabasesAsync(a);
        stopWriter.CancelAfter(TimeSpan.FromSeconds(10));
        await writer;

        // B takes writes for epoch 2 (the front door's next epoch).
        var promoting = Stopwatch.StartNew();
        await pair.SecondStore.PromoteAsync(2, CancellationToken.None);
        var promotion = promoting.Elapsed;
        Assert.Equal(StoreRole.Primary, await pair.SecondStore.RoleAsync(CancellationToken.None));
        await ExecuteAsync(pair.Connect(b), "INSERT INTO region_probe VALUES (1000000, 'region-2')");
        figures.AppendLine(CultureInfo.InvariantCulture, $"| PromoteAsync on B until B takes writes (the store's share of the RTO; the front door adds its failover delay) | {promotion.TotalSeconds:0.0} s |");

        // RPO: rows A acknowledged that B never received (asynchronous replication between the regions).
        var onB = await IdsAsync(pair.Connect(b));
        var acked = Snapshot(acknowledged);
        var lost = acked.Where(r => !onB.Contains(r.Id)).ToList();
        var lostWindow = lost.Count == 0 ? TimeSpan.Zero : killedAt - lost.Min(r => r.At);
        figures.AppendLine(CultureInfo.InvariantCulture, $"| rows A acknowledged (writer, one at a time) | {acked.Count} |");
        figures.AppendLine(CultureInfo.InvariantCulture, $"| of them lost by the promotion of B (RPO, rows) | {lost.Count} |");
        figures.AppendLine(CultureInfo.InvariantCulture, $"| oldest lost row acknowledged before the cut (RPO, time) | {lostWindow.TotalMilliseconds:0} ms |");
        Assert.True(lostWindow <= TimeSpan.FromSeconds(5), $"B lacks rows A acknowledged {lostWindow.TotalSeconds:0.0} s before the loss (goal: at most the last 5 s): {string.Join(", ", lost.Select(r => r.Id))}");

        // Failback, first half: A comes back (a primary of its own still, fenced by its instances' lease in Stratus)
        // and is demoted to a standby cluster of B, which rewinds away what B never got.
        var back = Stopwatch.StartNew();
        await RegionPair.ReconnectDatabasesAsync(a, pair.FirstStore, Deadline);
        await pair.FirstStore.DemoteAsync(2, CancellationToken.None);
        await EventuallyAsync("B's row on A's standby leader", async () => (await IdsAsync(pair.Connect(a))).Contains(1000000));
        figures.AppendLine(CultureInfo.InvariantCulture, $"| A reconnected to A replicating from B (its leader rewound, its replica copied anew) | {back.Elapsed.TotalSeconds:0.0} s |");
        Assert.Equal(StoreRole.Standby, await pair.FirstStore.RoleAsync(CancellationToken.None));
        Assert.Equal((await IdsAsync(pair.Connect(b))).Order(), (await IdsAsync(pair.Connect(a))).Order());
        await EventuallyAsync("B's row on A's replica (cascading from A's standby leader)", async () => (await IdsAsync(pair.Connect(a, "b"))).Contains(1000000));

        // A promotion for an older epoch than the cluster's last change is refused.
        await Assert.ThrowsAsync<StaleRegionEpochException>(() => pair.FirstStore.PromoteAsync(1, CancellationToken.None));
        Assert.Equal(StoreRole.Standby, await pair.FirstStore.RoleAsync(CancellationToken.None));

        var table = $"| standby cluster, region loss and failback ({Environment.ProcessorCount} cores, {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC) | |\n| --- | --- |\n{figures}";
        output.WriteLine(table);
        var folder = Path.Combine(StratusProcess.RepositoryRoot, "artifacts", "chaos");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "regions-standby-cluster.md"), table);
    }

    /// <summary>Inserts ids 2, 3, ... into A one commit at a time, noting each acknowledged one, until a commit fails or it is stopped.</summary>
    private static async Task WriteUntilFailureAsync(RegionPair pair, Region region, Stopwatch clock, List<(long Id, TimeSpan At)> acknowledged, CancellationToken stop)
    {
        try
        {
            await using var connection = pair.Connect(region);
            await connection.OpenAsync(stop);
            for (long id = 2; !stop.IsCancellationRequested; id++)
            {
                await using var insert = new NpgsqlCommand("INSERT INTO region_probe VALUES (@id, 'region-1')", connection);
                insert.Parameters.AddWithValue("id", id);
                await insert.ExecuteNonQueryAsync(stop);
                lock (acknowledged)
                {
                    acknowledged.Add((id, clock.Elapsed));
                }
            }
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or IOException or TimeoutException)
        {
            // The database was cut off under the writer: what it acknowledged until then is the ledger.
        }
    }

    private static int Count(List<(long Id, TimeSpan At)> acknowledged)
    {
        lock (acknowledged)
        {
            return acknowledged.Count;
        }
    }

    private static List<(long Id, TimeSpan At)> Snapshot(List<(long Id, TimeSpan At)> acknowledged)
    {
        lock (acknowledged)
        {
            return [.. acknowledged];
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using (connection)
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }
    }

    /// <summary>The ids in the table on that node; empty while it does not answer (or has no table yet).</summary>
    private static async Task<HashSet<long>> IdsAsync(NpgsqlConnection connection)
    {
        var ids = new HashSet<long>();
        try
        {
            await using (connection)
            {
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand("SELECT id FROM region_probe", connection);
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    ids.Add(reader.GetInt64(0));
                }
            }
        }
        catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
        {
            // Not up yet, or replaying: the caller polls.
        }

        return ids;
    }

    private static async Task EventuallyAsync(string what, Func<Task<bool>> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < Deadline, $"Not seen within {Deadline.TotalSeconds:0} s: {what}.");
            await Task.Delay(20);
        }
    }

    private void Log(string line)
    {
        var stamped = $"{TimeProvider.System.GetUtcNow():HH:mm:ss} {line}";
        Console.WriteLine(stamped);
        try
        {
            output.WriteLine(stamped);
        }
        catch (InvalidOperationException)
        {
            // After the test ended.
        }
    }
}
