using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Platform.Http;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;
using Stratus.Platform.Tests.Support;
using Stratus.Testing;

namespace Stratus.Platform.Tests.Messaging;

/// <summary>Delivery from the durable queues: retries, dead letters, their replay, and the inbox.</summary>
[Collection(PostgresCollection.Name)]
public sealed class QueueWorkerTests(PostgresServer postgres, ITestOutputHelper output)
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(250);

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Handler_AlwaysFailing_IsRetriedWithGrowingBackoffThenDeadLettered(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var host = await MessagingHost.StartAsync(database, output, messaging: options =>
        {
            options.MaxAttempts = 4;
            options.FirstRetryDelay = FirstRetryDelay;
        });

        var itemId = await PublishFlakyWorkAsync(host);

        var row = await Eventually.WaitForAsync(() => FlakyRowAsync(host), r => r?.Status == QueueMessageStatus.Dead, "the message to be dead-lettered");
        Assert.NotNull(row);
        Assert.Equal(4, row.Attempts);
        Assert.Equal("InvalidOperationException: flaky failure on attempt 4", row.LastError);
        Assert.Null(row.LeaseOwner);
        Assert.Null(row.LeaseUntil);
        Assert.Null(row.HandledAt);
        Assert.True(row.VisibleAt > row.CreatedAt);

        var deliveries = host.Deliveries.For(itemId);
        Assert.Equal([1, 2, 3, 4], deliveries.Select(d => d.Context.Attempt));
        Assert.Single(deliveries.Select(d => d.Context.MessageId).Distinct());
        for (var attempt = 1; attempt < deliveries.Count; attempt++)
        {
            // The retry after attempt n waits at least FirstRetryDelay * 2^(n-1), less the 20 % jitter
            // and a little for timestamps rounded by the database.
            var least = (FirstRetryDelay * Math.Pow(2, attempt - 1) * 0.8) - TimeSpan.FromMilliseconds(5);
            var gap = deliveries[attempt].At - deliveries[attempt - 1].At;
            Assert.True(gap >= least, $"attempt {attempt + 1} came {gap.TotalMilliseconds:0} ms after attempt {attempt}, sooner than the backoff of {least.TotalMilliseconds:0} ms");
        }

        Assert.Equal(0, await host.ServiceAsync(db => db.HandledItems.CountAsync()));
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task DeadLetter_ReplayedThroughTheApi_IsHandled(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var host = await MessagingHost.StartAsync(database, output, messaging: options =>
        {
            options.MaxAttempts = 2;
            options.FirstRetryDelay = TimeSpan.FromMilliseconds(100);
        });
        using var operatorClient = host.OperatorClient();

        var itemId = await PublishFlakyWorkAsync(host);
        await Eventually.WaitForAsync(() => FlakyRowAsync(host), r => r?.Status == QueueMessageStatus.Dead, "the message to be dead-lettered");

        using (var anonymous = await host.Http!.GetAsync(new Uri("/api/v1/deadLetters", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        using (var invalid = await operatorClient.GetAsync(new Uri("/api/v1/deadLetters?$top=0", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        }

        var page = await operatorClient.GetFromJsonAsync<PagedResult<DeadLetter>>(new Uri($"/api/v1/deadLetters?queue={MessagingHost.QueueA}", UriKind.Relative));
        Assert.NotNull(page);
        var deadLetter = Assert.Single(page.Value);
        Assert.Equal(1, page.TotalCount);
        Assert.Equal(MessagingHost.QueueA, deadLetter.Queue);
        Assert.Equal("testsvc.flakyWork.v1", deadLetter.MessageType);
        Assert.Equal(2, deadLetter.Attempts);
        Assert.Equal("InvalidOperationException: flaky failure on attempt 2", deadLetter.LastError);
        Assert.Contains(itemId.ToString(), deadLetter.Body, StringComparison.Ordinal);

        var otherQueue = await operatorClient.GetFromJsonAsync<PagedResult<DeadLetter>>(new Uri($"/api/v1/deadLetters?queue={MessagingHost.QueueB}", UriKind.Relative));
        Assert.Empty(otherQueue!.Value);

        // The operator fixed the cause; the replay starts again from the first attempt.
        host.Failures.Failing = false;
        using (var replay = await operatorClient.PostAsync(new Uri($"/api/v1/deadLetters/{deadLetter.Id}/replay", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        }

        var row = await Eventually.WaitForAsync(() => FlakyRowAsync(host), r => r?.Status == QueueMessageStatus.Done, "the replayed message to be handled");
        Assert.Equal(1, row!.Attempts);
        Assert.Null(row.LastError);
        Assert.NotNull(row.HandledAt);
        Assert.Equal([1, 2, 1], host.Deliveries.For(itemId).Select(d => d.Context.Attempt));
        Assert.Equal(1, await host.ServiceAsync(db => db.HandledItems.CountAsync(h => h.ItemId == itemId)));

        var remaining = await operatorClient.GetFromJsonAsync<PagedResult<DeadLetter>>(new Uri("/api/v1/deadLetters", UriKind.Relative));
        Assert.Empty(remaining!.Value);

        // Only dead letters can be replayed: a second replay, or an unknown id, is a 404.
        using (var again = await operatorClient.PostAsync(new Uri($"/api/v1/deadLetters/{deadLetter.Id}/replay", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        }

        using (var unknown = await operatorClient.PostAsync(new Uri($"/api/v1/deadLetters/{Guid.NewGuid()}/replay", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Handler_SameMessageDeliveredTwice_AppliesItsEffectOnce(DatabaseProvider provider)
    {
        // ItemCreatedHandler saves its effect and never mentions the inbox: the worker keeps it.
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var host = await MessagingHost.StartAsync(database, output);

        var itemId = await host.CreateItemAsync("twice");
        await Eventually.WaitForAsync(host.QueueRowsAsync, r => r.Count == 2 && r.All(m => m.Status == QueueMessageStatus.Done), "the first delivery");
        var processed = await host.ServiceAsync(db => db.ProcessedMessages.AsNoTracking().ToListAsync());
        Assert.Equal([MessagingHost.QueueA, MessagingHost.QueueB], processed.Select(p => p.Consumer).Order());

        // As a lease that ran out after the effect committed and before the completion: the message comes again.
        await host.PlatformAsync(db => db.QueueMessages
            .Where(m => m.Queue == MessagingHost.QueueA)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.Status, QueueMessageStatus.Pending).SetProperty(m => m.HandledAt, (DateTimeOffset?)null)));
        host.App.Services.GetRequiredService<QueueSignal>().Notify();

        await Eventually.WaitForAsync(host.QueueRowsAsync, r => r.All(m => m.Status == QueueMessageStatus.Done) && r.Single(m => m.Queue == MessagingHost.QueueA).Attempts == 2,
            "the second delivery");

        // The second delivery was completed without reaching the handler: its record said it took effect.
        var deliveries = host.Deliveries.For(itemId).Where(d => d.Context.Queue == MessagingHost.QueueA).ToList();
        Assert.Equal([1], deliveries.Select(d => d.Context.Attempt));
        var effects = await host.ServiceAsync(db => db.HandledItems.AsNoTracking().Where(h => h.ItemId == itemId).ToListAsync());
        Assert.Equal([MessagingHost.QueueA, MessagingHost.QueueB], effects.Select(e => e.Queue).Order());
        Assert.Equal(2, await host.ServiceAsync(db => db.ProcessedMessages.CountAsync()));
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Worker_MessageItCannotHandle_IsDeadLetteredOnTheFirstAttempt(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var host = await MessagingHost.StartAsync(database, output);

        var now = TimeProvider.System.GetUtcNow();
        QueueMessage Row(string type, string body) => new()
        {
            Id = Guid.NewGuid(),
            Queue = MessagingHost.QueueA,
            MessageType = type,
            Body = body,
            SourceMessageId = Guid.NewGuid(),
            Status = QueueMessageStatus.Pending,
            CreatedAt = now,
            VisibleAt = now,
        };
        var unknownType = Row("othersvc.somethingNew.v2", "{}");
        var unreadable = Row("testsvc.itemCreated.v1", "{\"itemId\": not json");
        await host.PlatformAsync(db =>
        {
            db.QueueMessages.AddRange(unknownType, unreadable);
            return db.SaveChangesAsync();
        });

        var rows = await Eventually.WaitForAsync(host.QueueRowsAsync, r => r.All(m => m.Status == QueueMessageStatus.Dead), "both messages to be dead-lettered");
        var unknownRow = rows.Single(r => r.Id == unknownType.Id);
        Assert.Equal(1, unknownRow.Attempts);
        Assert.Contains("No handler for othersvc.somethingNew.v2 on queue alpha", unknownRow.LastError, StringComparison.Ordinal);
        var unreadableRow = rows.Single(r => r.Id == unreadable.Id);
        Assert.Equal(1, unreadableRow.Attempts);
        Assert.StartsWith("The message body cannot be read", unreadableRow.LastError, StringComparison.Ordinal);
        Assert.Empty(host.Deliveries.All);
    }

    private static async Task<Guid> PublishFlakyWorkAsync(MessagingHost host)
    {
        var itemId = Guid.NewGuid();
        await host.ServiceAsync(db =>
        {
            db.Publish(new FlakyWork(itemId));
            return db.SaveChangesAsync();
        });
        return itemId;
    }

    private static Task<QueueMessage?> FlakyRowAsync(MessagingHost host) =>
        host.PlatformAsync(db => db.QueueMessages.AsNoTracking().SingleOrDefaultAsync(m => m.MessageType == "testsvc.flakyWork.v1"));
}
