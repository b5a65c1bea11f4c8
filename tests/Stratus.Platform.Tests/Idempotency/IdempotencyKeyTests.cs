using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Stratus.Platform.Idempotency;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;
using Stratus.Platform.Tests.Support;
using Stratus.Testing;
using static Stratus.Platform.Tests.Idempotency.IdempotencyRequests;

namespace Stratus.Platform.Tests.Idempotency;

/// <summary>The Idempotency-Key of every write API, on a real server and store, with endpoints that count their runs.</summary>
[Collection(PostgresCollection.Name)]
public sealed class IdempotencyKeyTests(PostgresServer postgres, ITestOutputHelper output)
{
    private static readonly Guid TenantA = Guid.NewGuid();
    private static readonly Guid TenantB = Guid.NewGuid();

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task SameKeyTwice_RunsOnce_AndTheRepeatGetsTheFirstResponseReplayed(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var host = await KeyedApiHost.StartAsync(database, output);
        using var client = host.Client(Guid.NewGuid(), TenantA);

        using var first = await SendAsync(client, HttpMethod.Post, "/api/v1/things", "create-1", new { name = "first" });
        using var repeat = await SendAsync(client, HttpMethod.Post, "/api/v1/things", "create-1", new { name = "first" });

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.False(first.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        Assert.Equal(HttpStatusCode.Created, repeat.StatusCode);
        Assert.Equal("true", Assert.Single(repeat.Headers.GetValues(IdempotencyMiddleware.ReplayedHeader)));
        Assert.Equal(first.Headers.Location, repeat.Headers.Location);
        Assert.Equal("/api/v1/things/1", repeat.Headers.Location?.ToString());
        Assert.Equal(first.Content.Headers.ContentType, repeat.Content.Headers.ContentType);
        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await repeat.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, host.Executions("things"));

        // A DELETE's empty 204 is replayed as well.
        using var deleted = await SendAsync(client, HttpMethod.Delete, "/api/v1/things/1", "delete-1");
        using var deletedAgain = await SendAsync(client, HttpMethod.Delete, "/api/v1/things/1", "delete-1");
        Assert.Equal((HttpStatusCode.NoContent, HttpStatusCode.NoContent), (deleted.StatusCode, deletedAgain.StatusCode));
        Assert.True(deletedAgain.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        Assert.Equal(1, host.Executions("delete"));
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task SameKeyForAnotherRequest_Is409Reused_AndRunsNothing(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var host = await KeyedApiHost.StartAsync(database, output);
        using var client = host.Client(Guid.NewGuid(), TenantA);
        using var created = await SendAsync(client, HttpMethod.Post, "/api/v1/things", "k", new { name = "first" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        using var otherBody = await SendAsync(client, HttpMethod.Post, "/api/v1/things", "k", new { name = "second" });
        using var otherPath = await SendAsync(client, HttpMethod.Delete, "/api/v1/things/1", "k");
        using var otherQuery = await SendAsync(client, HttpMethod.Post, "/api/v1/things?force=true", "k", new { name = "first" });

        foreach (var response in new[] { otherBody, otherPath, otherQuery })
        {
            var problem = await AssertProblemAsync(response, HttpStatusCode.Conflict, "idempotency-key-reused");
            Assert.Equal("The Idempotency-Key 'k' was used for another request (POST /api/v1/things); use a new key.", problem.GetProperty("detail").GetString());
        }

        Assert.Equal((1, 0), (host.Executions("things"), host.Executions("delete")));
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task ConcurrentRequestsWithOneKey_RunOnce_OthersAreInUseOrReplayed(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var host = await KeyedApiHost.StartAsync(database, output);
        using var client = host.Client(Guid.NewGuid(), TenantA);

        // While the first runs, a repeat is told to come back.
        var slow = SendAsync(client, HttpMethod.Post, "/api/v1/slow", "slow-1", new { });
        await Eventually.WaitForAsync(() => Task.FromResult(host.Executions("slow")), n => n == 1, "the first request to run");
        using (var whileRunning = await SendAsync(client, HttpMethod.Post, "/api/v1/slow", "slow-1", new { }))
        {
            await AssertProblemAsync(whileRunning, HttpStatusCode.Conflict, "idempotency-key-in-use");
            Assert.Equal(TimeSpan.FromSeconds(1), whileRunning.Headers.RetryAfter?.Delta);
        }

        host.SlowGate.SetResult();
        using (var first = await slow)
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }

        using (var afterwards = await SendAsync(client, HttpMethod.Post, "/api/v1/slow", "slow-1", new { }))
        {
            Assert.Equal(HttpStatusCode.Created, afterwards.StatusCode);
            Assert.True(afterwards.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        }

        Assert.Equal(1, host.Executions("slow"));

        // Eight at once, racing for the reservation itself.
        var racing = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => SendAsync(client, HttpMethod.Post, "/api/v1/things", "race", new { name = "raced" })));
        try
        {
            Assert.Equal(1, host.Executions("things"));
            Assert.Single(racing, r => r.StatusCode == HttpStatusCode.Created && !r.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
            foreach (var other in racing.Where(r => r.Headers.Contains(IdempotencyMiddleware.ReplayedHeader) || r.StatusCode != HttpStatusCode.Created))
            {
                if (other.StatusCode == HttpStatusCode.Created)
                {
                    Assert.Equal("/api/v1/things/1", other.Headers.Location?.ToString());
                }
                else
                {
                    await AssertProblemAsync(other, HttpStatusCode.Conflict, "idempotency-key-in-use");
                }
            }
        }
        finally
        {
            foreach (var response in racing)
            {
                response.Dispose();
            }
        }
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task RefusedOrFailedRequest_IsNotKept_SoItsRetryRunsAgain(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var host = await KeyedApiHost.StartAsync(database, output);
        using var client = host.Client(Guid.NewGuid(), TenantA);

        // The refusal passes through unchanged; the retry is evaluated again, and its success is then kept.
        using var refused = await SendAsync(client, HttpMethod.Post, "/api/v1/refusedFirst", "r", new { });
        await AssertProblemAsync(refused, HttpStatusCode.Conflict, "not-yet");
        using var retried = await SendAsync(client, HttpMethod.Post, "/api/v1/refusedFirst", "r", new { });
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.False(retried.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        using var replayed = await SendAsync(client, HttpMethod.Post, "/api/v1/refusedFirst", "r", new { });
        Assert.True(replayed.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        Assert.Equal(2, host.Executions("refusedFirst"));

        // So is an endpoint's exception (500).
        using var failed = await SendAsync(client, HttpMethod.Post, "/api/v1/failsFirst", "f", new { });
        await AssertProblemAsync(failed, HttpStatusCode.InternalServerError, "internal");
        using var failedRetry = await SendAsync(client, HttpMethod.Post, "/api/v1/failsFirst", "f", new { });
        Assert.Equal(HttpStatusCode.OK, failedRetry.StatusCode);
        Assert.Equal(2, host.Executions("failsFirst"));

        // A save that lost to a concurrent change is a 409 the caller can act on, not a 500, and its retry runs again.
        using var conflicted = await SendAsync(client, HttpMethod.Post, "/api/v1/conflictsFirst", "c", new { });
        var conflict = await AssertProblemAsync(conflicted, HttpStatusCode.Conflict, "concurrent-change");
        Assert.Contains("nothing was saved", conflict.GetProperty("detail").GetString(), StringComparison.Ordinal);
        using var conflictedRetry = await SendAsync(client, HttpMethod.Post, "/api/v1/conflictsFirst", "c", new { });
        Assert.Equal(HttpStatusCode.OK, conflictedRetry.StatusCode);
        Assert.Equal(2, host.Executions("conflictsFirst"));

        // And a 400 of the endpoint's own validation.
        using var invalid = await SendAsync(client, HttpMethod.Post, "/api/v1/things", "v", new { });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        using var invalidAgain = await SendAsync(client, HttpMethod.Post, "/api/v1/things", "v", new { });
        Assert.Equal(HttpStatusCode.BadRequest, invalidAgain.StatusCode);
        Assert.Equal(2, host.Executions("things"));
        Assert.Equal(["c", "f", "r"], await host.PlatformAsync(db => db.IdempotencyRecords.Select(r => r.Key).OrderBy(k => k).ToListAsync()));
    }

    [Fact]
    public async Task KeyLongerThan128Characters_Is400NamingTheHeader_AndRunsNothing()
    {
        using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite, postgres);
        await using var host = await KeyedApiHost.StartAsync(database, output);
        using var client = host.Client(Guid.NewGuid(), TenantA);

        using var tooLong = await SendAsync(client, HttpMethod.Post, "/api/v1/things", new string('k', 129), new { name = "a" });
        var problem = await AssertProblemAsync(tooLong, HttpStatusCode.BadRequest, "validation");
        Assert.True(problem.GetProperty("errors").TryGetProperty("Idempotency-Key", out _), problem.ToString());
        Assert.Equal(0, host.Executions("things"));

        using var longest = await SendAsync(client, HttpMethod.Post, "/api/v1/things", new string('k', 128), new { name = "a" });
        Assert.Equal(HttpStatusCode.Created, longest.StatusCode);
    }

    [Fact]
    public async Task WithoutKey_OrWithoutCaller_EveryRequestRuns()
    {
        using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite, postgres);
        await using var host = await KeyedApiHost.StartAsync(database, output);
        using var client = host.Client(Guid.NewGuid(), TenantA);
        using var anonymous = host.Anonymous();

        for (var i = 0; i < 3; i++)
        {
            using var created = await client.PostAsJsonAsync("/api/v1/things", new { name = "same" });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.False(created.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));

            // A request that signs in has no caller to keep a key for.
            using var open = await SendAsync(anonymous, HttpMethod.Post, "/api/v1/open", "open", new { });
            Assert.Equal(HttpStatusCode.OK, open.StatusCode);
            Assert.False(open.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        }

        Assert.Equal((3, 3), (host.Executions("things"), host.Executions("open")));
        Assert.Equal(0, await host.PlatformAsync(db => db.IdempotencyRecords.CountAsync()));
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task OneKey_FromAnotherAccountOrTenant_IsAnotherKey(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var host = await KeyedApiHost.StartAsync(database, output);
        var account = Guid.NewGuid();
        var callers = new (Guid Account, Guid? Tenant)[] { (account, TenantA), (Guid.NewGuid(), TenantA), (account, TenantB), (account, null) };

        foreach (var (caller, tenant) in callers)
        {
            using var client = host.Client(caller, tenant);
            using var response = await SendAsync(client, HttpMethod.Post, "/api/v1/things", "shared-key", new { name = "mine" });
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            Assert.False(response.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
            var body = (await response.Content.ReadFromJsonAsync<ThingBody>())!;
            Assert.Equal((caller, tenant), (body.AccountId, body.TenantId));
        }

        Assert.Equal(4, host.Executions("things"));
        using var firstAgain = host.Client(account, TenantA);
        using var replay = await SendAsync(firstAgain, HttpMethod.Post, "/api/v1/things", "shared-key", new { name = "mine" });
        Assert.True(replay.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        var replayed = (await replay.Content.ReadFromJsonAsync<ThingBody>())!;
        Assert.Equal((account, (Guid?)TenantA), (replayed.AccountId, replayed.TenantId));
        Assert.Equal(4, host.Executions("things"));
    }
}
