using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;
using Stratus.Platform.Tests.Support;
using Stratus.Testing;

namespace Stratus.Platform.Tests.Messaging;

/// <summary>The inbox the worker keeps for every handler, in the transaction of the handler's effect.</summary>
[Collection(PostgresCollection.Name)]
public sealed class InboxTests(PostgresServer postgres, ITestOutputHelper output)
{
    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Handler_FailingAfterItsSaveCommitted_IsNotAppliedAgain(DatabaseProvider provider)
    {
        // The effect and the inbox record committed together; the failure after them is retried and finds the record.
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var host = await MessagingHost.StartAsync(database, output);

        var itemId = await PublishAsync(host, inTransaction: false);

        var row = await Eventually.WaitForAsync(() => RowAsync(host), r => r?.Status == QueueMessageStatus.Done, "the retry to complete the message");
        Assert.Equal(2, row!.Attempts);
        Assert.Equal([1], host.Deliveries.For(itemId).Select(d => d.Context.Attempt));
        Assert.Equal(1, await host.ServiceAsync(db => db.HandledItems.CountAsync(h => h.ItemId == itemId)));
        Assert.Equal(1, await host.ServiceAsync(db => db.ProcessedMessages.CountAsync(p => p.MessageId == row.SourceMessageId)));
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Handler_FailingInsideItsTransaction_CommitsNeitherEffectNorRecordAndTheRetryAppliesIt(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var host = await MessagingHost.StartAsync(database, output);

        var itemId = await PublishAsync(host, inTransaction: true);

        var row = await Eventually.WaitForAsync(() => RowAsync(host), r => r?.Status == QueueMessageStatus.Done, "the retry to complete the message");
        Assert.Equal(2, row!.Attempts);
        Assert.Equal([1, 2], host.Deliveries.For(itemId).Select(d => d.Context.Attempt));
        var effects = await host.ServiceAsync(db => db.HandledItems.AsNoTracking().Where(h => h.ItemId == itemId).ToListAsync());
        Assert.Single(effects);
        Assert.Equal(1, await host.ServiceAsync(db => db.ProcessedMessages.CountAsync(p => p.MessageId == row.SourceMessageId)));
    }

    [Fact]
    public void AddMessageHandler_HandlerWithoutAStore_IsRefusedAtRegistration()
    {
        var services = new ServiceCollection();
        var refused = Assert.Throws<InvalidOperationException>(() => services.AddMessageHandler<SlowWork, SlowWorkHandler>(MessagingHost.QueueA));
        Assert.Contains("SlowWorkHandler takes 0 service stores", refused.Message, StringComparison.Ordinal);
    }

    private static async Task<Guid> PublishAsync(MessagingHost host, bool inTransaction)
    {
        var itemId = Guid.NewGuid();
        await host.ServiceAsync(db =>
        {
            db.Publish(new FailAfterSave(itemId, inTransaction));
            return db.SaveChangesAsync();
        });
        return itemId;
    }

    private static Task<QueueMessage?> RowAsync(MessagingHost host) =>
        host.PlatformAsync(db => db.QueueMessages.AsNoTracking().SingleOrDefaultAsync(m => m.MessageType == "testsvc.failAfterSave.v1"));
}
