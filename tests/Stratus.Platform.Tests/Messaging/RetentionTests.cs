using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;
using Stratus.Platform.Tests.Support;
using Stratus.Testing;

namespace Stratus.Platform.Tests.Messaging;

/// <summary>Handled queue messages, relayed outbox rows and inbox records are deleted after their retention.</summary>
[Collection(PostgresCollection.Name)]
public sealed class RetentionTests(PostgresServer postgres, ITestOutputHelper output)
{
    private const int Rounds = 3;
    private const int PerRound = 100;

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Retention_ManyMessagesOverDays_KeepsTheTablesBounded(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 8, 0, 0, TimeSpan.Zero));
        await using var host = await MessagingHost.StartAsync(database, output, clock: clock, messaging: options => options.RetentionBatchSize = 30);
        var queueRetention = host.App.Services.GetRequiredService<QueueRetention>();
        var storeRetention = host.App.Services.GetRequiredService<ServiceStoreRetention<TestDbContext>>();

        // A dead letter, older than every retention: kept until an operator replays it.
        var deadLetter = Guid.NewGuid();
        await host.PlatformAsync(db =>
        {
            db.QueueMessages.Add(new QueueMessage
            {
                Id = deadLetter, Queue = MessagingHost.QueueA, MessageType = "testsvc.itemCreated.v1", Body = "{}", SourceMessageId = Guid.NewGuid(),
                Status = QueueMessageStatus.Dead, Attempts = 5, CreatedAt = clock.GetUtcNow(), VisibleAt = clock.GetUtcNow(), LastError = "kept",
            });
            return db.SaveChangesAsync();
        });

        var counts = new List<(int Queue, int Outbox, int Inbox)>();
        for (var round = 1; round <= Rounds; round++)
        {
            await host.ServiceAsync(db =>
            {
                for (var i = 0; i < PerRound; i++)
                {
                    db.Publish(new ItemCreated(Guid.NewGuid(), $"round {round}"));
                }

                return db.SaveChangesAsync();
            });
            await Eventually.WaitForAsync(() => host.PlatformAsync(db => db.QueueMessages.CountAsync(m => m.Status == QueueMessageStatus.Done)),
                n => n == PerRound * 2, $"round {round} to be handled");

            // Four days later: handled messages and relayed rows (a day) are gone, inbox records (a week) are not yet.
            clock.Advance(TimeSpan.FromDays(4));
            await queueRetention.RunAsync(CancellationToken.None);
            await storeRetention.RunAsync(CancellationToken.None);
            counts.Add((
                await host.PlatformAsync(db => db.QueueMessages.CountAsync()),
                await host.ServiceAsync(db => db.OutboxMessages.CountAsync()),
                await host.ServiceAsync(db => db.ProcessedMessages.CountAsync())));
        }

        output.WriteLine(string.Join("; ", counts.Select(c => $"queue {c.Queue}, outbox {c.Outbox}, inbox {c.Inbox}")));

        // After each round only the dead letter is left in the queue and nothing in the outbox; the inbox holds the
        // last week (this round, four days old; the one before is eight days old and gone): never more.
        Assert.All(counts, c => Assert.Equal((1, 0, PerRound * 2), c));
        var left = await host.QueueRowsAsync();
        Assert.Equal(deadLetter, Assert.Single(left).Id);
    }
}
