using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Stratus.Platform.Idempotency;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;
using Stratus.Platform.Tests.Support;
using Stratus.Testing;

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
    public async Task LargeBodies_StreamToTheEndpoint_AndAreKnownByTheirLength()
    {
        using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite, postgres);
        await using var host = await KeyedApiHost.StartAsync(database, output);
        using var client = host.Client(Guid.NewGuid(), TenantA);

        // Chunked, above the server's default limit of about 28 MiB: it reaches the endpoint whole, whose lifted
        // limit still applies after the middleware read its start.
        var big = RandomNumberGenerator.GetBytes(40 * 1024 * 1024);
        using (var uploaded = await UploadAsync(client, "upload-1", big, chunked: true))
        {
            Assert.Equal(HttpStatusCode.OK, uploaded.StatusCode);
            Assert.Equal(new UploadBody(big.Length, Convert.ToHexStringLower(SHA256.HashData(big))), await uploaded.Content.ReadFromJsonAsync<UploadBody>());
        }

        // With a length above 1 MiB the body is not read for the fingerprint: the length stands for it.
        var twoMiB = RandomNumberGenerator.GetBytes(2 * 1024 * 1024);
        using (var uploaded = await UploadAsync(client, "upload-2", twoMiB, chunked: false))
        {
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(twoMiB)), (await uploaded.Content.ReadFromJsonAsync<UploadBody>())!.Sha256);
        }

        using (var sameLength = await UploadAsync(client, "upload-2", RandomNumberGenerator.GetBytes(twoMiB.Length), chunked: false))
        {
            Assert.True(sameLength.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        }

        using (var otherLength = await UploadAsync(client, "upload-2", RandomNumberGenerator.GetBytes(twoMiB.Length + 1), chunked: false))
        {
            await AssertProblemAsync(otherLength, HttpStatusCode.Conflict, "idempotency-key-reused");
        }

        // A small body is hashed whether or not it has a length.
        using (var small = await UploadAsync(client, "upload-3", [1, 2, 3], chunked: false))
        {
            Assert.Equal(3, (await small.Content.ReadFromJsonAsync<UploadBody>())!.Length);
        }

        using (var smallChunked = await UploadAsync(client, "upload-3", [1, 2, 3], chunked: true))
        {
            Assert.True(smallChunked.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        }

        using (var smallOther = await UploadAsync(client, "upload-3", [1, 2, 4], chunked: false))
        {
            await AssertProblemAsync(smallOther, HttpStatusCode.Conflict, "idempotency-key-reused");
        }

        Assert.Equal(3, host.Executions("uploads"));

        // An endpoint's own smaller limit still holds, though the middleware reads the body first.
        using var tooLarge = await SendAsync(client, HttpMethod.Post, "/api/v1/small", "small-1", new { name = new string('x', 2048) });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal(0, host.Executions("small"));
    }

    [Fact]
    public async Task StoreUnavailable_Is503_AndRunsNothing()
    {
        using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres, postgres);
        await using var host = await KeyedApiHost.StartAsync(database, output);
        using var client = host.Client(Guid.NewGuid(), TenantA);

        // The database goes away under the running host, as a primary that is failing over would.
        var name = new NpgsqlConnectionStringBuilder(database.Settings.ConnectionStringFor(PlatformDbContext.SchemaName)).Database;
        await using (var admin = new NpgsqlConnection(postgres.ConnectionString("postgres")))
        {
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE \"{name}\" WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }

        using var response = await SendAsync(client, HttpMethod.Post, "/api/v1/things", "k", new { name = "a" });

        await AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "store-unavailable");
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Equal(0, host.Executions("things"));
    }

    [Fact]
    public async Task AKeyHeldWhenTheStoreWentAway_IsReleasedWhenItIsBack_SoTheRetryRunsWithinSeconds()
    {
        using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres, postgres);
        await using var host = await KeyedApiHost.StartAsync(database, output);
        using var client = host.Client(Guid.NewGuid(), TenantA);
        var name = new NpgsqlConnectionStringBuilder(database.Settings.ConnectionStringFor(PlatformDbContext.SchemaName)).Database!;

        // The key is reserved, then the database refuses every connection while the request runs, as a primary
        // failing over does: the request fails and its key cannot be released then.
        host.Outage = () => SetConnectionsAsync(name, allowed: false);
        using var failed = await SendAsync(client, HttpMethod.Post, "/api/v1/outage", "outage-1", new { });
        await AssertProblemAsync(failed, HttpStatusCode.ServiceUnavailable, "store-unavailable");

        await SetConnectionsAsync(name, allowed: true);
        var retried = System.Diagnostics.Stopwatch.StartNew();
        HttpStatusCode status;
        do
        {
            await Task.Delay(500);
            using var retry = await SendAsync(client, HttpMethod.Post, "/api/v1/outage", "outage-1", new { });
            status = retry.StatusCode;
        }
        while (status != HttpStatusCode.OK && retried.Elapsed < TimeSpan.FromSeconds(20));

        // Without the release once the store is back, the key stays in use for its 2-minute lease.
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, host.Executions("outage"));
    }

    private async Task SetConnectionsAsync(string database, bool allowed)
    {
        await using var admin = new NpgsqlConnection(postgres.ConnectionString("postgres"));
        await admin.OpenAsync();
        await using var alter = new NpgsqlCommand($"ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS {(allowed ? "true" : "false")}", admin);
        await alter.ExecuteNonQueryAsync();
        if (!allowed)
        {
            await using var terminate = new NpgsqlCommand("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = @name AND pid <> pg_backend_pid()", admin);
            terminate.Parameters.AddWithValue("name", database);
            await terminate.ExecuteNonQueryAsync();
        }
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

        var pruner = host.App.Services.GetRequiredService<IdempotencyRecordPruner>();
        Assert.Equal(1, await pruner.PruneAsync(CancellationToken.None));

        Assert.Equal(["young"], await host.PlatformAsync(db => db.IdempotencyRecords.Select(r => r.Key).ToListAsync()));

        static IdempotencyRecord Record(string key, DateTimeOffset createdAt) => new()
        {
            Scope = "t/a", Key = key, Fingerprint = "f", RequestMethod = "POST", RequestPath = "/api/v1/things",
            State = IdempotencyState.Completed, CreatedAt = createdAt, CompletedAt = createdAt, ResponseStatus = 201, ResponseBody = [],
        };
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, string key, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        request.Headers.Add(IdempotencyMiddleware.Header, key);
        return client.SendAsync(request);
    }

    private static Task<HttpResponseMessage> UploadAsync(HttpClient client, string key, byte[] body, bool chunked)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/uploads")
        {
            // A StreamContent over a stream that cannot seek has no length, so HttpClient sends it chunked.
            Content = chunked ? new StreamContent(new UnseekableStream(body)) : new ByteArrayContent(body),
        };
        request.Headers.Add(IdempotencyMiddleware.Header, key);
        return client.SendAsync(request);
    }

    private static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status}, got {(int)response.StatusCode}: {text}");
        var problem = JsonSerializer.Deserialize<JsonElement>(text);
        Assert.Equal("https://stratus.dev/problems/" + code, problem.GetProperty("type").GetString());
        return problem;
    }

    private static Task MarkProcessingAsync(KeyedApiHost host, string key, DateTimeOffset leaseUntil)
    {
        var gone = Guid.NewGuid();
        return host.PlatformAsync(db => db.IdempotencyRecords.Where(r => r.Key == key).ExecuteUpdateAsync(s => s
            .SetProperty(r => r.State, IdempotencyState.Processing)
            .SetProperty(r => r.LeaseOwner, gone)
            .SetProperty(r => r.LeaseUntil, leaseUntil)));
    }

    private sealed class UnseekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
