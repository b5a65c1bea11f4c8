using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Platform.Auth;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;
using Stratus.Platform.Tests.Support;
using Stratus.Testing;

namespace Stratus.Platform.Tests.Messaging;

/// <summary>Several instances on one database, as several processes of one deployment would be.</summary>
[Collection(PostgresCollection.Name)]
public sealed class MultiInstanceTests(PostgresServer postgres, ITestOutputHelper output)
{
    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task StartupTasks_TwoInstancesAtOnce_BothStartAndShareOneState(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var first = MessagingHost.Build(database, output, "first");
        await using var second = MessagingHost.Build(database, output, "second");

        await Task.WhenAll(first.RunStartupTasksAsync(), second.RunStartupTasksAsync());

        var subscriptions = await first.PlatformAsync(db => db.Subscriptions.AsNoTracking().ToListAsync());
        Assert.Equal(
            ["alpha testsvc.failAfterSave.v1", "alpha testsvc.flakyWork.v1", "alpha testsvc.itemCreated.v1", "alpha testsvc.slowWork.v1", "beta testsvc.itemCreated.v1"],
            subscriptions.Select(s => $"{s.Queue} {s.MessageType}").Order(StringComparer.Ordinal));
        Assert.Empty(await first.PlatformAsync(db => db.Database.GetPendingMigrationsAsync()));
        // The platform alone keeps no key in the store: signing keys are identity's (ADR 0009).
        Assert.Equal(0, await first.PlatformAsync(db => db.Secrets.CountAsync()));

        if (provider == DatabaseProvider.Sqlite)
        {
            foreach (var schema in new[] { PlatformDbContext.SchemaName, TestDbContext.SchemaName })
            {
                await using var connection = new SqliteConnection(database.Settings.ConnectionStringFor(schema));
                await connection.OpenAsync();
                await using var command = connection.CreateCommand();
                command.CommandText = "PRAGMA journal_mode;";
                Assert.Equal("wal", await command.ExecuteScalarAsync());
            }
        }

        // The test service has no migrations: its migration task ran and left the tables to be created.
        Assert.Empty(await first.ServiceAsync(db => Task.FromResult(db.Database.GetMigrations())));
        await first.CreateServiceTablesAsync();
        Assert.Equal(0, await first.ServiceAsync(db => db.OutboxMessages.CountAsync()));
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Workers_BatchOutlastingItsLease_HandEachMessageToOneHandlerOnly(DatabaseProvider provider)
    {
        // Eight messages of 300 ms take 2.4 s in one batch: longer than the 1.5 s lease of their claim.
        // Each message must still be handled by one instance only, never by both.
        const int count = 10;
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        static void Messaging(MessagingOptions options)
        {
            options.BatchSize = 8;
            options.LeaseDuration = TimeSpan.FromSeconds(1.5);
        }

        await using var first = await MessagingHost.StartAsync(database, output, "first", Messaging);
        await using var second = await MessagingHost.StartAsync(database, output, "second", Messaging, createTables: false);

        var ids = Enumerable.Range(0, count).Select(_ => Guid.NewGuid()).ToList();
        await first.ServiceAsync(db =>
        {
            foreach (var id in ids)
            {
                db.Publish(new SlowWork(id));
            }

            return db.SaveChangesAsync();
        });

        await Eventually.WaitForAsync(() => first.PlatformAsync(db => db.QueueMessages.CountAsync(m => m.Status == QueueMessageStatus.Done)),
            done => done == count, "every slow message to be handled");
        var deliveries = first.Deliveries.All.Concat(second.Deliveries.All).ToList();
        var repeated = deliveries.GroupBy(d => d.ItemId).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(repeated.Count == 0, $"{repeated.Count} of {count} messages were handled twice");
        Assert.Equal(ids.Order(), deliveries.Select(d => d.ItemId).Order());
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Workers_HandlerOutlastingItsLease_KeepsItByRenewalAndRunsOnce(DatabaseProvider provider)
    {
        // Each handler takes 5 s, two and a half leases: without renewal the other instance would take every
        // message over after 2 s and handle it again. (A 0.6 s lease, renewed every 0.2 s, was once outlasted by a
        // stall of the renewing process under a load of 50 on 2 cores: the inbox kept the effect single, but the
        // handler ran twice.)
        const int count = 4;
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        static void Messaging(MessagingOptions options)
        {
            options.BatchSize = 1;
            options.LeaseDuration = TimeSpan.FromSeconds(2);
            options.PollInterval = TimeSpan.FromMilliseconds(50);
        }

        await using var first = await MessagingHost.StartAsync(database, output, "first", Messaging);
        await using var second = await MessagingHost.StartAsync(database, output, "second", Messaging, createTables: false);
        var ids = Enumerable.Range(0, count).Select(_ => Guid.NewGuid()).ToList();
        await first.ServiceAsync(db =>
        {
            foreach (var id in ids)
            {
                db.Publish(new SlowWork(id, TimeSpan.FromSeconds(5)));
            }

            return db.SaveChangesAsync();
        });

        await Eventually.WaitForAsync(() => first.PlatformAsync(db => db.QueueMessages.CountAsync(m => m.Status == QueueMessageStatus.Done)),
            done => done == count, "every slow message to be handled", TimeSpan.FromSeconds(30));
        var deliveries = first.Deliveries.All.Concat(second.Deliveries.All).ToList();
        Assert.Equal(ids.Order(), deliveries.Select(d => d.ItemId).Order());
    }

    [Fact]
    public async Task Workers_TwoHostsOnOnePostgresDatabase_HandleEveryMessageExactlyOnce()
    {
        const int count = 200;
        using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres, postgres);
        static void Messaging(MessagingOptions options) => options.BatchSize = 5;
        await using var first = await MessagingHost.StartAsync(database, output, "first", Messaging);
        await using var second = await MessagingHost.StartAsync(database, output, "second", Messaging, createTables: false);

        // Both hosts publish, so both relays work on one outbox while both workers drain the queues.
        var published = new List<Guid>();
        for (var batch = 0; batch < 10; batch++)
        {
            var host = batch % 2 == 0 ? first : second;
            var ids = Enumerable.Range(0, count / 10).Select(_ => Guid.NewGuid()).ToList();
            await host.ServiceAsync(db =>
            {
                foreach (var id in ids)
                {
                    db.Items.Add(new Item { Id = id, Name = $"item {id}" });
                    db.Publish(new ItemCreated(id, $"item {id}"));
                }

                return db.SaveChangesAsync();
            });
            published.AddRange(ids);
        }

        await Eventually.WaitForAsync(() => first.PlatformAsync(db => db.QueueMessages.CountAsync(m => m.Status == QueueMessageStatus.Done)),
            done => done == count * 2, "every message to be handled on both queues", TimeSpan.FromSeconds(30));

        var rows = await first.QueueRowsAsync();
        Assert.Equal(count * 2, rows.Count);
        Assert.DoesNotContain(rows, r => r.Status != QueueMessageStatus.Done);
        Assert.Equal(0, await first.ServiceAsync(db => db.OutboxMessages.CountAsync(m => m.DispatchedAt == null)));

        var effects = await first.ServiceAsync(db => db.HandledItems.AsNoTracking().ToListAsync());
        Assert.Equal(count * 2, effects.Count);
        foreach (var queue in new[] { MessagingHost.QueueA, MessagingHost.QueueB })
        {
            Assert.Equal(published.Order(), effects.Where(e => e.Queue == queue).Select(e => e.ItemId).Order());
        }

        // Each message was delivered once, not delivered twice and saved once by the inbox: the leases held.
        var deliveries = first.Deliveries.All.Concat(second.Deliveries.All).ToList();
        var repeated = deliveries.GroupBy(d => (d.ItemId, d.Context.Queue)).Where(g => g.Count() > 1).ToList();
        Assert.True(repeated.Count == 0, $"{repeated.Count} messages were delivered more than once");
        Assert.Equal(count * 2, deliveries.Count);
        output.WriteLine($"first handled {first.Deliveries.All.Count}, second {second.Deliveries.All.Count}");
        Assert.NotEmpty(first.Deliveries.All);
        Assert.NotEmpty(second.Deliveries.All);
    }
}
