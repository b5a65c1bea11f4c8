using Microsoft.EntityFrameworkCore;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;
using Stratus.Platform.Tests.Support;
using Stratus.Testing;

namespace Stratus.Platform.Tests.Messaging;

/// <summary>Each queue's own loop and handlers, and the handler timeout.</summary>
[Collection(PostgresCollection.Name)]
public sealed class QueueConcurrencyTests(PostgresServer postgres, ITestOutputHelper output)
{
    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Worker_SlowHandlersFillingQueueA_DoNotDelayQueueB(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var host = await MessagingHost.StartAsync(database, output, messaging: options => options.Concurrency = 2);

        // Two handlers of a minute each take every slot of alpha.
        var slow = new[] { Guid.NewGuid(), Guid.NewGuid() };
        await host.ServiceAsync(db =>
        {
            foreach (var id in slow)
            {
                db.Publish(new SlowWork(id, TimeSpan.FromMinutes(1)));
            }

            return db.SaveChangesAsync();
        });
        await Eventually.WaitForAsync(() => Task.FromResult(slow.Sum(id => host.Deliveries.For(id).Count)), n => n == 2, "both slow handlers to start");

        var itemId = await host.CreateItemAsync("not held up");
        var beta = await Eventually.WaitForAsync(() => host.ServiceAsync(db => db.HandledItems.CountAsync(h => h.ItemId == itemId && h.Queue == MessagingHost.QueueB)),
            n => n == 1, "queue beta to handle its message while alpha is busy");
        Assert.Equal(1, beta);

        // Alpha's slots are still taken: its copy of the message waits, and the slow ones still run.
        var rows = await host.QueueRowsAsync();
        Assert.All(rows.Where(r => r.MessageType == "testsvc.slowWork.v1"), r => Assert.Equal(QueueMessageStatus.Pending, r.Status));
        Assert.DoesNotContain(host.Deliveries.For(itemId), d => d.Context.Queue == MessagingHost.QueueA);
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Worker_ManyMessagesOnOneQueue_AreHandledConcurrentlyUpToItsLimit(DatabaseProvider provider)
    {
        const int limit = 3;
        var duration = TimeSpan.FromMilliseconds(600);
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var host = await MessagingHost.StartAsync(database, output, messaging: options =>
        {
            options.Concurrency = 1;
            options.Queues[MessagingHost.QueueA] = new QueueOptions { Concurrency = limit };
        });

        var ids = Enumerable.Range(0, 8).Select(_ => Guid.NewGuid()).ToList();
        await host.ServiceAsync(db =>
        {
            foreach (var id in ids)
            {
                db.Publish(new SlowWork(id, duration));
            }

            return db.SaveChangesAsync();
        });

        await Eventually.WaitForAsync(() => host.PlatformAsync(db => db.QueueMessages.CountAsync(m => m.Status == QueueMessageStatus.Done)),
            n => n == ids.Count, "every message to be handled");

        // A handler runs at least its duration; how many had started within the duration before each start ran at once.
        var starts = host.Deliveries.All.Select(d => d.At).Order().ToList();
        Assert.Equal(ids.Count, starts.Count);
        var atOnce = starts.Select(start => starts.Count(other => other <= start && start - other < duration)).ToList();
        output.WriteLine($"handlers at once: {string.Join(", ", atOnce)}");
        Assert.Equal(limit, atOnce.Max());
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Handler_RunningPastItsTimeout_IsCancelledAndRetried(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var host = await MessagingHost.StartAsync(database, output, messaging: options =>
        {
            options.MaxAttempts = 2;
            options.HandlerTimeouts["testsvc.slowWork.v1"] = TimeSpan.FromMilliseconds(300);
        });

        var itemId = Guid.NewGuid();
        var published = TimeProvider.System.GetUtcNow();
        await host.ServiceAsync(db =>
        {
            db.Publish(new SlowWork(itemId, TimeSpan.FromMinutes(10)));
            return db.SaveChangesAsync();
        });

        var rows = await Eventually.WaitForAsync(host.QueueRowsAsync, r => r.Any(m => m.Status == QueueMessageStatus.Dead), "the message to time out twice");
        var row = Assert.Single(rows);
        Assert.Equal(2, row.Attempts);
        Assert.Equal("The handler timed out: it ran longer than 00:00:00.3000000 and was cancelled.", row.LastError);
        // The handler records its delivery when it starts; under a heavy load the 300 ms can run out before the first
        // attempt's handler got that far (its time-out is in the log below), so the first attempt may be missing here.
        var attempts = host.Deliveries.For(itemId).Select(d => d.Context.Attempt).ToList();
        Assert.Equal(2, attempts[^1]);
        Assert.All(attempts, attempt => Assert.InRange(attempt, 1, 2));
        Assert.Contains(host.Logs, line => line.Contains("Handling testsvc.slowWork.v1 timed out on attempt 1", StringComparison.Ordinal));
        Assert.True(TimeProvider.System.GetUtcNow() - published < TimeSpan.FromMinutes(1));
    }
}
