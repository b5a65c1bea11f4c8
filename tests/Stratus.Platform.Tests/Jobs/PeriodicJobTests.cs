using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Stratus.Platform.Jobs;
using Stratus.Platform.Persistence;
using Stratus.Platform.Tests.Support;
using Stratus.Testing;

namespace Stratus.Platform.Tests.Jobs;

/// <summary>Periodic jobs run by one leader per job across the instances of a deployment.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PeriodicJobTests(PostgresServer postgres, ITestOutputHelper output)
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task Job_TwoInstancesOnOnePostgres_RunsEachPassOnceAndTheOtherTakesOverWhenTheLeaderStops()
    {
        using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres, postgres);
        var passes = new PassLog();
        var first = await StartAsync(database, "first", passes);
        await using var second = await StartAsync(database, "second", passes);
        try
        {
            await WaitForPassesAsync(passes, p => p.Count >= 8, "eight passes");
            var led = passes.All;
            var leader = led[0].Instance;
            Assert.All(led, p => Assert.Equal(leader, p.Instance));
            AssertOnePassAtATime(led);

            // Once per interval: each pass starts an interval after the previous one ended, never sooner.
            for (var i = 1; i < led.Count; i++)
            {
                var gap = led[i].Started - led[i - 1].Ended;
                Assert.True(gap >= Interval - TimeSpan.FromMilliseconds(20), $"pass {i + 1} started {gap.TotalMilliseconds:0} ms after pass {i} ended");
            }

            var stopping = leader == "first" ? first : second;
            await stopping.App.StopAsync();
            var stoppedAt = Stopwatch.GetTimestamp();
            var follower = leader == "first" ? "second" : "first";
            await WaitForPassesAsync(passes, p => p.Count(x => x.Instance == follower) >= 3, "the other instance to take over");
            output.WriteLine($"taken over after {Stopwatch.GetElapsedTime(stoppedAt).TotalMilliseconds:0} ms");
            var all = passes.All;
            AssertOnePassAtATime(all);
            Assert.True(all.Last(p => p.Instance == leader).Ended <= all.First(p => p.Instance == follower).Started);
        }
        finally
        {
            await first.DisposeAsync();
        }
    }

    [Fact]
    public async Task Job_LeaderConnectionEnded_LeaderStopsAndTheJobGoesOn()
    {
        using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres, postgres);
        var passes = new PassLog();
        await using var first = await StartAsync(database, "first", passes);
        await using var second = await StartAsync(database, "second", passes);
        await WaitForPassesAsync(passes, p => p.Count >= 3, "three passes");

        // As a failover or a network cut would: the server ends the leader's session, and with it the lock.
        await using (var connection = new NpgsqlConnection(database.Settings.ConnectionStringFor("platform")))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("""
                SELECT count(pg_terminate_backend(pid)) FROM pg_locks
                WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = @key
                  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                """, connection);
            command.Parameters.AddWithValue("key", AdvisoryLockKey.For("stratus-job:test.counting"));
            Assert.Equal(1L, await command.ExecuteScalarAsync());
        }

        var endedAt = TimeProvider.System.GetUtcNow();
        var before = passes.All.Count;
        await WaitForPassesAsync(passes, p => p.Count(x => x.Started > endedAt) >= 3, "passes after the leader's session ended");
        Assert.Contains(first.Logs.Concat(second.Logs), line => line.Contains("Lost the leader lock of the periodic job test.counting", StringComparison.Ordinal));
        var after = passes.All.Skip(before).ToList();
        var newLeader = after[^1].Instance;
        Assert.All(after.SkipWhile(p => p.Instance != newLeader), p => Assert.Equal(newLeader, p.Instance));
    }

    [Fact]
    public async Task Job_OnSqlite_TheOneProcessRunsItAndAFailedPassIsFollowedByTheNext()
    {
        using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite, postgres);
        var passes = new PassLog { FailEvery = 2 };
        await using var host = await StartAsync(database, "only", passes);

        await WaitForPassesAsync(passes, p => p.Count >= 4, "four passes");
        Assert.All(passes.All, p => Assert.Equal("only", p.Instance));
        Assert.Contains(host.Logs, line => line.Contains("A pass of the periodic job test.counting failed", StringComparison.Ordinal));
    }

    private Task<MessagingHost> StartAsync(TestDatabase database, string name, PassLog passes) =>
        MessagingHost.StartAsync(database, output, name, createTables: name is "first" or "only", services: services =>
        {
            services.AddSingleton(passes);
            services.AddSingleton(new InstanceName(name));
            services.AddPeriodicJob<CountingJob>();
            services.Configure<PeriodicJobOptions>(options =>
            {
                options.LeaderCheckInterval = TimeSpan.FromMilliseconds(200);
                options.LeaderRetryInterval = TimeSpan.FromMilliseconds(200);
            });
        });

    private static Task WaitForPassesAsync(PassLog passes, Func<IReadOnlyList<Pass>, bool> done, string what) =>
        Eventually.WaitForAsync(() => Task.FromResult(passes.All), done, what, TimeSpan.FromSeconds(30));

    private static void AssertOnePassAtATime(IReadOnlyList<Pass> passes)
    {
        var ordered = passes.OrderBy(p => p.Started).ToList();
        for (var i = 1; i < ordered.Count; i++)
        {
            Assert.True(ordered[i].Started >= ordered[i - 1].Ended,
                $"a pass of {ordered[i].Instance} started while one of {ordered[i - 1].Instance} ran");
        }
    }

    private sealed record InstanceName(string Value);

    private sealed record Pass(string Instance, DateTimeOffset Started, DateTimeOffset Ended);

    private sealed class PassLog
    {
        private readonly ConcurrentQueue<Pass> passes = new();
        private int started;

        public int FailEvery { get; init; }

        public IReadOnlyList<Pass> All => passes.ToArray();

        public bool ShouldFail() => FailEvery > 0 && Interlocked.Increment(ref started) % FailEvery == 0;

        public void Record(Pass pass) => passes.Enqueue(pass);
    }

    /// <summary>Takes 50 ms a pass, so that two instances running it at once would overlap.</summary>
    private sealed class CountingJob(PassLog passes, InstanceName instance) : IPeriodicJob
    {
        public string Name => "test.counting";

        public TimeSpan Interval => PeriodicJobTests.Interval;

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            var started = TimeProvider.System.GetUtcNow();
            await Task.Delay(50, cancellationToken);
            passes.Record(new Pass(instance.Value, started, TimeProvider.System.GetUtcNow()));
            if (passes.ShouldFail())
            {
                throw new InvalidOperationException("this pass fails");
            }
        }
    }
}
