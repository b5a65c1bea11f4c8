using System.Net;
using System.Net.Http.Json;
using Npgsql;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Postgres;

/// <summary>`stratus run` on a real PostgreSQL server serves the same API as `stratus up` on SQLite.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresTests(PostgresServer postgres)
{
    [Fact]
    public async Task RunAll_OnPostgres_SignsIn_AndAuditsTheSignIns()
    {
        var database = await postgres.CreateDatabaseAsync();
        using var data = new TempFolder();
        await using var stratus = await StratusProcess.StartAsync(["run", "--targets", "all", "--database", database], data.Path);

        using var client = await stratus.OperatorClientAsync();
        var me = await client.GetFromJsonAsync<MeBody>("/api/v1/me");
        Assert.Equal(Api.Operator, me!.UserName);
        Assert.Equal(["platformOperator"], me.Roles);
        using (var refused = await stratus.Http.RequestTokenAsync("nobody", "some-password-123"))
        {
            await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.Unauthorized);
        }

        var events = await Eventually.MatchesAsync(
            async () => (await client.AuditEventsAsync()).Value,
            list => list.Count >= 2,
            "both sign-ins in the audit log");
        Assert.Equal(2, events.Count);
        Assert.Contains(events, e => e.Actor.UserPrincipalName == Api.Operator && e.ActivityResult == "success");
        Assert.Contains(events, e => e.Actor.UserPrincipalName == "nobody" && e.ActivityResult == "failure");

        // Everything lives in the database, in one schema per store; the data folder holds no SQLite file.
        Assert.False(Directory.Exists(Path.Combine(data.Path, "db")), "A SQLite folder was created although --database is PostgreSQL.");
        var schemas = await QueryAsync<string>(database,
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name IN ('platform', 'identity', 'diagnostics')");
        Assert.Equal(["diagnostics", "identity", "platform"], schemas.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Readyz_WhenTheDatabaseRefusesConnections_Returns503_ThenRecovers()
    {
        var database = await postgres.CreateDatabaseAsync();
        var name = new NpgsqlConnectionStringBuilder(database).Database!;
        using var data = new TempFolder();
        // The background passes (restore points, reconciliation) run every second or two, so that several of them
        // meet the outage: a failed pass must be retried, never stop the process.
        await using var stratus = await StratusProcess.StartAsync(["run", "--targets", "all", "--database", database], data.Path, new Dictionary<string, string?>
        {
            ["Stratus__Provisioning__RestorePointScanInterval"] = "00:00:01",
            ["Stratus__Provisioning__ReconcileInterval"] = "00:00:02",
        });

        await ExecuteAsync(postgres.ConnectionString("postgres"), $"""
            ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false;
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';
            """);
        try
        {
            await Eventually.MatchesAsync(async () =>
            {
                using var response = await stratus.Http.GetAsync("/readyz");
                return response.StatusCode;
            }, status => status == HttpStatusCode.ServiceUnavailable, "/readyz to answer 503", TimeSpan.FromSeconds(30));

            // Alive is not ready: the process still answers, also after several background passes failed.
            await Task.Delay(TimeSpan.FromSeconds(5));
            using var alive = await stratus.Http.GetAsync("/healthz");
            Assert.Equal(HttpStatusCode.OK, alive.StatusCode);

            // A call that needs the database is refused with 503 and when to retry, not a 500.
            using var refused = await stratus.Http.RequestTokenAsync(Api.Operator, TestAccounts.OperatorPassword);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter?.Delta);
            Assert.Contains("store-unavailable", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            await ExecuteAsync(postgres.ConnectionString("postgres"), $"""ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true""");
        }

        await Eventually.MatchesAsync(async () =>
        {
            using var response = await stratus.Http.GetAsync("/readyz");
            return response.StatusCode;
        }, status => status == HttpStatusCode.OK, "/readyz to recover", TimeSpan.FromSeconds(30));
        using var token = await stratus.Http.RequestTokenAsync(Api.Operator, TestAccounts.OperatorPassword);
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
    }

    internal static async Task<List<T>> QueryAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetFieldValue<T>(0));
        }

        return rows;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
