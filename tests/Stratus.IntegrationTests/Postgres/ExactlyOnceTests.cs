using System.Net;
using System.Net.Http.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Postgres;

/// <summary>Two instances of identity and diagnostics on one database: every event takes effect once.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ExactlyOnceTests(PostgresServer postgres)
{
    private const int SignIns = 60;

    [Fact]
    public async Task TwoInstances_OnOnePostgres_AuditEverySignInExactlyOnce()
    {
        var database = await postgres.CreateDatabaseAsync();
        using var dataA = new TempFolder();
        using var dataB = new TempFolder();
        string[] arguments = ["run", "--targets", "identity,diagnostics", "--database", database];

        // Started together, as a service manager restarting both would: migrations and the operator's
        // creation race too.
        var (a, b) = await StartTogetherAsync(arguments, dataA.Path, dataB.Path);
        await using var stopA = a;
        await using var stopB = b;

        // Every fourth sign-in is refused, spread over five unknown names: three failures per name and
        // fifteen from this address stay under both rate limits, so each attempt is judged on its merits.
        var attempts = Enumerable.Range(0, SignIns).Select(i => (
            Instance: i % 2 == 0 ? a : b,
            Right: i % 4 != 3,
            UserName: i % 4 != 3 ? Api.Operator : $"ghost-{i % 5}")).ToList();
        var results = new (HttpStatusCode Status, string? Token)[SignIns];
        await Parallel.ForEachAsync(Enumerable.Range(0, SignIns), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, cancellationToken) =>
        {
            var attempt = attempts[i];
            using var response = await attempt.Instance.Http.RequestTokenAsync(attempt.UserName,
                attempt.Right ? TestAccounts.OperatorPassword : "wrong-password-123");
            var token = response.IsSuccessStatusCode ? (await response.Content.ReadFromJsonAsync<TokenBody>(cancellationToken))!.AccessToken : null;
            results[i] = (response.StatusCode, token);
        });
        for (var i = 0; i < SignIns; i++)
        {
            Assert.Equal(attempts[i].Right ? HttpStatusCode.OK : HttpStatusCode.Unauthorized, results[i].Status);
        }

        // A token from one instance is good on the other: they share the signing key.
        using var reader = new HttpClient { BaseAddress = b.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        reader.DefaultRequestHeaders.Authorization = new("Bearer", results[0].Token);

        await Eventually.MatchesAsync(reader.AuditEventsAsync, p => p.TotalCount >= SignIns,
            $"{SignIns} sign-ins in the audit log", TimeSpan.FromSeconds(90));

        // Once every delivery is settled nothing is left to deliver twice: the count must be exact then,
        // and stay so.
        await Eventually.MatchesAsync(
            () => PostgresTests.QueryAsync<long>(database, "SELECT count(*) FROM platform.queue_messages WHERE queue = 'diagnostics' AND status <> 'Done'"),
            pending => pending.Single() == 0, "every queue message handled");
        var queued = await PostgresTests.QueryAsync<long>(database, "SELECT count(*) FROM platform.queue_messages WHERE queue = 'diagnostics'");
        Assert.Equal(SignIns, queued.Single());
        var page = await reader.AuditEventsAsync();
        Assert.Equal(SignIns, page.TotalCount);
        Assert.Equal(SignIns, page.Value.Select(e => e.Id).Distinct().Count());
        Assert.Equal(attempts.Count(x => x.Right), page.Value.Count(e => e.ActivityResult == "success"));
        Assert.Equal(attempts.Count(x => !x.Right), page.Value.Count(e => e.ActivityResult == "failure"));

        await Task.Delay(TimeSpan.FromSeconds(3));
        using var readerA = new HttpClient { BaseAddress = a.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        readerA.DefaultRequestHeaders.Authorization = new("Bearer", results[0].Token);
        foreach (var client in new[] { readerA, reader })
        {
            var later = await client.AuditEventsAsync();
            Assert.Equal(SignIns, later.TotalCount);
            Assert.Equal(SignIns, later.Value.Select(e => e.Id).Distinct().Count());
        }

        var deadLetters = await reader.GetFromJsonAsync<PageBody<System.Text.Json.JsonElement>>("/api/v1/deadLetters");
        Assert.Equal(0, deadLetters!.TotalCount);
    }

    private static async Task<(StratusProcess A, StratusProcess B)> StartTogetherAsync(string[] arguments, string dataA, string dataB)
    {
        var startA = StratusProcess.StartAsync(arguments, dataA, DeploymentSecrets.With());
        var startB = StratusProcess.StartAsync(arguments, dataB, DeploymentSecrets.With());
        try
        {
            await Task.WhenAll(startA, startB);
        }
        catch
        {
            // Stop the one that did start; the failure of the other is the test's result.
            foreach (var start in new[] { startA, startB }.Where(s => s.IsCompletedSuccessfully))
            {
                await (await start).DisposeAsync();
            }

            throw;
        }

        return (await startA, await startB);
    }
}
