using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Hosts;

/// <summary>
/// One enrollment token enrolls one host, even when machines race with it (issue 17, item 6): many enrollments
/// with one token sent at once to a real stratus process, on SQLite and on PostgreSQL. Exactly one wins; every
/// other gets a 409 problem that says the token was used, and compute knows exactly one new host.
/// </summary>
public sealed class EnrollmentRaceTests
{
    private const int Racers = 8;

    [Fact]
    public async Task On_sqlite_one_token_raced_by_eight_machines_enrolls_exactly_one_host()
    {
        using var data = new TempFolder();
        await using var stratus = await StratusProcess.StartAsync(["run", "--targets", "identity,diagnostics,compute"], data.Path);
        await RaceAsync(stratus);
    }

    internal static async Task RaceAsync(StratusProcess stratus)
    {
        using var operatorClient = await stratus.OperatorClientAsync();
        var created = await operatorClient.PostAsJsonAsync("/api/v1/hosts/enrollmentTokens", new { region = "local-1" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var token = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();

        // Each racer on its own connection, all released at once.
        using var start = new SemaphoreSlim(0, Racers);
        var racers = Enumerable.Range(0, Racers).Select(async i =>
        {
            using var client = new HttpClient { BaseAddress = stratus.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
            await client.GetAsync("/healthz");
            await start.WaitAsync();
            return await client.PostAsJsonAsync("/api/v1/agent/enroll", new
            {
                enrollmentToken = token, name = $"racer-{i}", zone = "local-1a", driver = "simulated", vCpus = 2, memoryMiB = 2048, diskGiB = 20, agentVersion = "test",
            });
        }).ToList();
        start.Release(Racers);
        var answers = await Task.WhenAll(racers);

        var winners = answers.Where(a => a.StatusCode == HttpStatusCode.Created).ToList();
        var statuses = string.Join(", ", answers.Select(a => (int)a.StatusCode));
        Assert.True(winners.Count == 1, $"Exactly one enrollment must win; the answers were {statuses}");
        foreach (var loser in answers.Except(winners))
        {
            var problem = await ProblemAssert.IsProblemAsync(loser, HttpStatusCode.Conflict);
            Assert.EndsWith("enrollment-token-used", problem.GetProperty("type").GetString(), StringComparison.Ordinal);
            Assert.Contains("already enrolled a host", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        var hostId = (await winners[0].Content.ReadFromJsonAsync<JsonElement>()).GetProperty("hostId").GetGuid();
        var racersEnrolled = (await operatorClient.GetFromJsonAsync<JsonElement>("/api/v1/hosts")).EnumerateArray()
            .Where(h => h.GetProperty("name").GetString()!.StartsWith("racer-", StringComparison.Ordinal)).Select(h => h.GetProperty("id").GetGuid()).ToList();
        Assert.Equal([hostId], racersEnrolled);
    }
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresEnrollmentRaceTests(PostgresServer postgres)
{
    [Fact]
    public async Task On_postgresql_one_token_raced_by_eight_machines_enrolls_exactly_one_host()
    {
        var database = await postgres.CreateDatabaseAsync();
        using var data = new TempFolder();
        await using var stratus = await StratusProcess.StartAsync(["run", "--targets", "identity,diagnostics,compute", "--database", database], data.Path);
        await EnrollmentRaceTests.RaceAsync(stratus);
    }
}
