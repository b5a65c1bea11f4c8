using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Stratus.Platform.Idempotency;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;
using Stratus.Platform.Tests.Support;
using Stratus.Testing;
using static Stratus.Platform.Tests.Idempotency.IdempotencyRequests;

namespace Stratus.Platform.Tests.Idempotency;

/// <summary>The Idempotency-Key's lease: a reservation whose holder died is taken over, a long request renews it, and old keys are pruned.</summary>
[Collection(PostgresCollection.Name)]
public sealed class IdempotencyKeyLeaseTests(PostgresServer postgres, ITestOutputHelper output)
{
    private static readonly Guid TenantA = Guid.NewGuid();

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task ReservationWhoseLeaseLapsed_IsTakenOver_AndTheRequestRunsAgain(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var host = await KeyedApiHost.StartAsync(database, output);
        using var client = host.Client(Guid.NewGuid(), TenantA);
        using (var created = await SendAsync(client, HttpMethod.Post, "/api/v1/things", "crash", new { name = "a" }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        // As an instance that died mid-request leaves it: processing, held by a request that no longer renews.
        var now = host.App.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        await MarkProcessingAsync(host, "crash", leaseUntil: now + TimeSpan.FromMinutes(1));
        using (var held = await SendAsync(client, HttpMethod.Post, "/api/v1/things", "crash", new { name = "a" }))
        {
            await AssertProblemAsync(held, HttpStatusCode.Conflict, "idempotency-key-in-use");
        }

        await MarkProcessingAsync(host, "crash", leaseUntil: now - TimeSpan.FromSeconds(1));
        using (var takenOver = await SendAsync(client, HttpMethod.Post, "/api/v1/things", "crash", new { name = "a" }))
        {
            Assert.Equal(HttpStatusCode.Created, takenOver.StatusCode);
            Assert.False(takenOver.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
            Assert.Equal("/api/v1/things/2", takenOver.Headers.Location?.ToString());
        }

        using (var replayed = await SendAsync(client, HttpMethod.Post, "/api/v1/things", "crash", new { name = "a" }))
        {
            Assert.True(replayed.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
            Assert.Equal("/api/v1/things/2", replayed.Headers.Location?.ToString());
        }

        Assert.Equal(2, host.Executions("things"));
    }

    [Fact]
    public async Task RequestThatOutlivesTheLease_RenewsIt_SoARepeatIsStillInUse()
    {
        using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite, postgres);
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var start = clock.GetUtcNow();
        await using var host = await KeyedApiHost.StartAsync(database, output, clock);
        using var client = host.Client(Guid.NewGuid(), TenantA);
        var slow = SendAsync(client, HttpMethod.Post, "/api/v1/slow", "long", new { });
        await Eventually.WaitForAsync(() => Task.FromResult(host.Executions("slow")), n => n == 1, "the request to run");

        // Past the first renewal: the lease now ends later than the one taken at the start.
        clock.Advance(TimeSpan.FromSeconds(90));
        await Eventually.WaitForAsync(
            () => host.PlatformAsync(db => db.IdempotencyRecords.AsNoTracking().Select(r => r.LeaseUntil).SingleAsync()),
            until => until > start + IdempotencyStore.Lease, "the lease to be renewed");

        // Past the first lease: without the renewal a repeat would take the key over and run again.
        clock.Advance(TimeSpan.FromSeconds(60));
        using (var repeat = await SendAsync(client, HttpMethod.Post, "/api/v1/slow", "long", new { }))
        {
            await AssertProblemAsync(repeat, HttpStatusCode.Conflict, "idempotency-key-in-use");
        }

        host.SlowGate.SetResult();
        using (var first = await slow)
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }

        Assert.Equal(1, host.Executions("slow"));
    }

    [Fact]
    public async Task Pruner_ForgetsKeysOlderThanADay()
    {
        using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite, postgres);
        await using var host = await KeyedApiHost.StartAsync(database, output);
        var now = host.App.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        await host.PlatformAsync(db =>
        {
            db.IdempotencyRecords.Add(Record("old", now - TimeSpan.FromHours(25)));
            db.IdempotencyRecords.Add(Record("young", now - TimeSpan.FromHours(23)));
            return db.SaveChangesAsync();
        });

        // The pruner's own schedule may run first (its first pass comes soon after the start): then this pass finds
        // nothing left to do. Either way the old key is gone and the young one kept.
        var pruner = host.App.Services.GetRequiredService<IdempotencyRecordPruner>();
        Assert.InRange(await pruner.PruneAsync(CancellationToken.None), 0, 1);

        Assert.Equal(["young"], await host.PlatformAsync(db => db.IdempotencyRecords.Select(r => r.Key).ToListAsync()));

        static IdempotencyRecord Record(string key, DateTimeOffset createdAt) => new()
        {
            Scope = "t/a", Key = key, Fingerprint = "f", RequestMethod = "POST", RequestPath = "/api/v1/things",
            State = IdempotencyState.Completed, CreatedAt = createdAt, CompletedAt = createdAt, ResponseStatus = 201, ResponseBody = [],
        };
    }

    private static Task MarkProcessingAsync(KeyedApiHost host, string key, DateTimeOffset leaseUntil)
    {
        var gone = Guid.NewGuid();
        return host.PlatformAsync(db => db.IdempotencyRecords.Where(r => r.Key == key).ExecuteUpdateAsync(s => s
            .SetProperty(r => r.State, IdempotencyState.Processing)
            .SetProperty(r => r.LeaseOwner, gone)
            .SetProperty(r => r.LeaseUntil, leaseUntil)));
    }
}
