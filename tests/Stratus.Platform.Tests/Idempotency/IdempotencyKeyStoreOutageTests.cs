using System.Net;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Stratus.Platform.Idempotency;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;
using Stratus.Platform.Tests.Support;
using Stratus.Testing;
using static Stratus.Platform.Tests.Idempotency.IdempotencyRequests;

namespace Stratus.Platform.Tests.Idempotency;

/// <summary>The Idempotency-Key when its store (PostgreSQL) goes away: 503 and nothing run, and a key held then is released once the store is back.</summary>
[Collection(PostgresCollection.Name)]
public sealed class IdempotencyKeyStoreOutageTests(PostgresServer postgres, ITestOutputHelper output)
{
    private static readonly Guid TenantA = Guid.NewGuid();

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
}
