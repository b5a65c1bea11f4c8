using Microsoft.EntityFrameworkCore;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;
using Stratus.Platform.Tests.Support;
using Stratus.Testing;

namespace Stratus.Platform.Tests.Messaging;

/// <summary>The transactional outbox and its relay into the queues of every subscriber.</summary>
[Collection(PostgresCollection.Name)]
public sealed class OutboxTests(PostgresServer postgres, ITestOutputHelper output)
{
    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Publish_WithStateChange_IsHandledOnceByEverySubscribedQueue(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var host = await MessagingHost.StartAsync(database, output);

        var itemId = await host.CreateItemAsync("first");

        var rows = await Eventually.WaitForAsync(host.QueueRowsAsync,
            r => r.Count == 2 && r.All(m => m.Status == QueueMessageStatus.Done), "both queues to handle the message");
        Assert.Equal([MessagingHost.QueueA, MessagingHost.QueueB], rows.Select(r => r.Queue).Order());
        Assert.Single(rows.Select(r => r.SourceMessageId).Distinct());
        Assert.All(rows, r => Assert.Equal(1, r.Attempts));

        var deliveries = host.Deliveries.For(itemId);
        Assert.Equal(2, deliveries.Count);
        Assert.Equal([MessagingHost.QueueA, MessagingHost.QueueB], deliveries.Select(d => d.Context.Queue).Order());
        Assert.All(deliveries, d => Assert.Equal(1, d.Context.Attempt));

        var effects = await host.ServiceAsync(db => db.HandledItems.AsNoTracking().ToListAsync());
        Assert.Equal(2, effects.Count);
        Assert.All(effects, e => Assert.Equal(itemId, e.ItemId));
        Assert.True(await host.ServiceAsync(db => db.Items.AnyAsync(i => i.Id == itemId)));
        Assert.True(await host.ServiceAsync(db => db.OutboxMessages.AllAsync(m => m.DispatchedAt != null)));
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Publish_RolledBackTransaction_DeliversNothing(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var host = await MessagingHost.StartAsync(database, output);

        var rolledBack = Guid.NewGuid();
        await host.ServiceAsync(async db =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            db.Items.Add(new Item { Id = rolledBack, Name = "never" });
            db.Publish(new ItemCreated(rolledBack, "never"));
            await db.SaveChangesAsync();
            await transaction.RollbackAsync();
        });

        // A message committed after it is handled only once the relay and the worker have passed the first.
        var committed = await host.CreateItemAsync("committed");
        await Eventually.WaitForAsync(() => Task.FromResult(host.Deliveries.For(committed).Count), n => n == 2, "the committed message");

        Assert.Empty(host.Deliveries.For(rolledBack));
        Assert.False(await host.ServiceAsync(db => db.Items.AnyAsync(i => i.Id == rolledBack)));
        Assert.Equal(1, await host.ServiceAsync(db => db.OutboxMessages.CountAsync()));
        var rows = await host.QueueRowsAsync();
        Assert.Equal(2, rows.Count);
        Assert.DoesNotContain(rows, r => r.Body.Contains(rolledBack.ToString(), StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Relay_RunAgainAfterCrashBeforeMarkingDispatched_EnqueuesOncePerQueue(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);

        // Not started: the test drives the relay itself.
        await using var host = MessagingHost.Build(database, output);
        await host.RunStartupTasksAsync();
        await host.CreateServiceTablesAsync();
        var relay = host.Relay;

        var itemId = await host.CreateItemAsync("relayed");
        Assert.Equal(1, await relay.RelayBatchAsync(CancellationToken.None));

        var outbox = await host.ServiceAsync(db => db.OutboxMessages.AsNoTracking().SingleAsync());
        Assert.NotNull(outbox.DispatchedAt);
        var rows = await host.QueueRowsAsync();
        Assert.Equal([MessagingHost.QueueA, MessagingHost.QueueB], rows.Select(r => r.Queue).Order());
        Assert.All(rows, r =>
        {
            Assert.Equal(outbox.Id, r.SourceMessageId);
            Assert.Equal(QueueMessageStatus.Pending, r.Status);
            Assert.Equal(0, r.Attempts);
            Assert.Equal(outbox.Body, r.Body);
            Assert.Contains(itemId.ToString(), r.Body, StringComparison.Ordinal);
        });

        Assert.Equal(0, await relay.RelayBatchAsync(CancellationToken.None));

        // The relay died after enqueuing and before marking the row: the next pass must not enqueue again.
        await host.ServiceAsync(db => db.OutboxMessages.ExecuteUpdateAsync(s => s.SetProperty(m => m.DispatchedAt, (DateTimeOffset?)null)));
        Assert.Equal(1, await relay.RelayBatchAsync(CancellationToken.None));

        var after = await host.QueueRowsAsync();
        Assert.Equal(rows.Select(r => r.Id).Order(), after.Select(r => r.Id).Order());
        Assert.NotNull((await host.ServiceAsync(db => db.OutboxMessages.AsNoTracking().SingleAsync())).DispatchedAt);
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Relay_TwoInstancesAtOnce_EnqueueEachMessageOncePerQueue(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var first = MessagingHost.Build(database, output, "first");
        await using var second = MessagingHost.Build(database, output, "second");
        await first.RunStartupTasksAsync();
        await second.RunStartupTasksAsync();
        await first.CreateServiceTablesAsync();

        // Both relays pass over one outbox while it fills, so that they often read the same undispatched
        // rows; the loser of such a race fails on the unique (queue, source message id) key and its next
        // pass finds the rows queued.
        const int count = 40;
        var publishing = true;
        var relays = new[] { first, second }.Select(host => Task.Run(async () =>
        {
            var lost = 0;
            while (true)
            {
                var wasPublishing = Volatile.Read(ref publishing);
                var relayed = await RelayAsync(host);
                lost += relayed < 0 ? 1 : 0;
                if (relayed == 0 && !wasPublishing)
                {
                    return lost;
                }

                if (relayed == 0)
                {
                    await Task.Delay(5);
                }
            }
        })).ToList();
        for (var i = 0; i < count; i += 4)
        {
            await first.ServiceAsync(db =>
            {
                for (var j = 0; j < 4; j++)
                {
                    db.Publish(new ItemCreated(Guid.NewGuid(), $"item {i + j}"));
                }

                return db.SaveChangesAsync();
            });
        }

        Volatile.Write(ref publishing, false);
        var conflicts = (await Task.WhenAll(relays).WaitAsync(TimeSpan.FromSeconds(20))).Sum();

        output.WriteLine($"{conflicts} relay passes lost the race");
        var rows = await first.QueueRowsAsync();
        Assert.Equal(count * 2, rows.Count);
        Assert.Equal(count, rows.Count(r => r.Queue == MessagingHost.QueueA));
        Assert.Equal(count, rows.Select(r => r.SourceMessageId).Distinct().Count());
        Assert.Equal(0, await first.ServiceAsync(db => db.OutboxMessages.CountAsync(m => m.DispatchedAt == null)));

        static async Task<int> RelayAsync(MessagingHost host)
        {
            try
            {
                return await host.Relay.RelayBatchAsync(CancellationToken.None);
            }
            catch (Exception e) when (e is DbUpdateException or InvalidOperationException { InnerException: DbUpdateException })
            {
                // A unique-key violation, or on PostgreSQL a deadlock between the two inserts (which EF
                // reports as a transient failure): either way this relay lost the race.
                return -1;
            }
        }
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Publish_Scheduled_IsHandledAtDeliverAtAndNotBefore(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 8, 0, 0, TimeSpan.Zero));
        await using var host = await MessagingHost.StartAsync(database, output, clock: clock);

        var deliverAt = clock.GetUtcNow().AddHours(1);
        var scheduled = await host.CreateItemAsync("later", deliverAt);
        var marker = await host.CreateItemAsync("now");

        // The marker went through the same relay pass and the same claims as the scheduled message.
        await Eventually.WaitForAsync(() => Task.FromResult(host.Deliveries.For(marker).Count), n => n == 2, "the unscheduled message");
        var rows = (await host.QueueRowsAsync()).Where(r => r.Body.Contains(scheduled.ToString(), StringComparison.Ordinal)).ToList();
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.Equal(deliverAt, r.VisibleAt);
            Assert.Equal(QueueMessageStatus.Pending, r.Status);
            Assert.Equal(0, r.Attempts);
        });

        // Proving that nothing happens takes a wait: six polls of the worker.
        await Task.Delay(300);
        Assert.Empty(host.Deliveries.For(scheduled));

        clock.Advance(TimeSpan.FromMinutes(59));
        await Task.Delay(300);
        Assert.Empty(host.Deliveries.For(scheduled));

        clock.Advance(TimeSpan.FromMinutes(1));
        await Eventually.WaitForAsync(() => host.ServiceAsync(db => db.HandledItems.CountAsync(h => h.ItemId == scheduled)), n => n == 2,
            "the scheduled message to take effect at its time");
        var deliveries = host.Deliveries.For(scheduled);
        Assert.Equal(2, deliveries.Count);
        Assert.All(deliveries, d => Assert.True(d.At >= deliverAt));
    }
}
