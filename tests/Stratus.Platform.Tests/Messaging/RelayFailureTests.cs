using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Stratus.Platform.Http;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;
using Stratus.Platform.Tests.Support;
using Stratus.Testing;

namespace Stratus.Platform.Tests.Messaging;

/// <summary>Outbox rows that the queue table refuses: dead letters for one row, /readyz for a relay that cannot go on.</summary>
[Collection(PostgresCollection.Name)]
public sealed class RelayFailureTests(PostgresServer postgres, ITestOutputHelper output)
{
    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Relay_RowTheQueueTableRefuses_IsDeadLetteredAndTheRowsBehindItAreRelayed(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var host = await MessagingHost.StartAsync(database, output);
        await RefuseAsync(host, provider, everyRow: false);
        using var operatorClient = host.OperatorClient();

        var poisoned = await host.CreateItemAsync("poison");
        var fine = await host.CreateItemAsync("fine");

        await Eventually.WaitForAsync(() => host.ServiceAsync(db => db.HandledItems.CountAsync(h => h.ItemId == fine)), n => n == 2,
            "the row behind the refused one to be handled on both queues");
        Assert.Empty(host.Deliveries.For(poisoned));
        Assert.Equal(0, await host.ServiceAsync(db => db.OutboxMessages.CountAsync(m => m.DispatchedAt == null)));

        var page = await operatorClient.GetFromJsonAsync<PagedResult<DeadLetter>>(new Uri("/api/v1/deadLetters", UriKind.Relative));
        Assert.Equal([MessagingHost.QueueA, MessagingHost.QueueB], page!.Value.Select(d => d.Queue).Order());
        var outboxId = (await host.ServiceAsync(db => db.OutboxMessages.AsNoTracking().OrderBy(m => m.CreatedAt).FirstAsync())).Id;
        Assert.All(page.Value, deadLetter =>
        {
            Assert.Equal(outboxId, deadLetter.MessageId);
            Assert.Equal("testsvc.itemCreated.v1", deadLetter.MessageType);
            Assert.Equal(0, deadLetter.Attempts);
            Assert.StartsWith("The outbox relay could not enqueue it: ", deadLetter.LastError, StringComparison.Ordinal);
            Assert.Contains(provider == DatabaseProvider.Postgres ? "refuse_test" : "refused by the test", deadLetter.LastError, StringComparison.Ordinal);
            Assert.EndsWith($"Its body could not be kept here; it stays in the outbox of testsvc as message {outboxId}.", deadLetter.LastError, StringComparison.Ordinal);
        });
        Assert.Contains(host.Logs, line => line.Contains("moved to the dead letters, the queue table refuses it", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Relay_QueueTableRefusingEveryRow_MakesReadyzSayItIsStalledUntilItGoesOn(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var host = await MessagingHost.StartAsync(database, output);
        Assert.Equal(HttpStatusCode.OK, (await host.Http!.GetAsync(new Uri("/readyz", UriKind.Relative))).StatusCode);
        await RefuseAsync(host, provider, everyRow: true);

        var itemId = await host.CreateItemAsync("held");
        var readiness = await Eventually.WaitForAsync(() => ReadinessAsync(host), r => r.Status == HttpStatusCode.ServiceUnavailable, "/readyz to fail");
        Assert.Contains("outbox:TestDbContext", readiness.Body, StringComparison.Ordinal);
        Assert.Contains("the outbox relay is stalled", readiness.Body, StringComparison.Ordinal);
        Assert.Equal(1, await host.ServiceAsync(db => db.OutboxMessages.CountAsync(m => m.DispatchedAt == null)));

        await host.PlatformAsync(db => provider == DatabaseProvider.Postgres
            ? db.Database.ExecuteSqlRawAsync("ALTER TABLE platform.queue_messages DROP CONSTRAINT refuse_test")
            : db.Database.ExecuteSqlRawAsync("DROP TRIGGER refuse_test"));
        await Eventually.WaitForAsync(() => host.ServiceAsync(db => db.HandledItems.CountAsync(h => h.ItemId == itemId)), n => n == 2, "the held message to be handled");
        await Eventually.WaitForAsync(() => ReadinessAsync(host), r => r.Status == HttpStatusCode.OK, "/readyz to be ready again");
    }

    /// <summary>Makes the queue table refuse every row whose body mentions poison, or every row, as no code of ours would.</summary>
    private static Task RefuseAsync(MessagingHost host, DatabaseProvider provider, bool everyRow) =>
        host.PlatformAsync(db => (provider, everyRow) switch
        {
            (DatabaseProvider.Postgres, false) => db.Database.ExecuteSqlRawAsync("ALTER TABLE platform.queue_messages ADD CONSTRAINT refuse_test CHECK (body NOT LIKE '%poison%') NOT VALID"),
            (DatabaseProvider.Postgres, true) => db.Database.ExecuteSqlRawAsync("ALTER TABLE platform.queue_messages ADD CONSTRAINT refuse_test CHECK (false) NOT VALID"),
            (DatabaseProvider.Sqlite, false) => db.Database.ExecuteSqlRawAsync("CREATE TRIGGER refuse_test BEFORE INSERT ON queue_messages WHEN NEW.body LIKE '%poison%' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"),
            (DatabaseProvider.Sqlite, true) => db.Database.ExecuteSqlRawAsync("CREATE TRIGGER refuse_test BEFORE INSERT ON queue_messages BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"),
        });

    private static async Task<(HttpStatusCode Status, string Body)> ReadinessAsync(MessagingHost host)
    {
        using var response = await host.Http!.GetAsync(new Uri("/readyz", UriKind.Relative));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
