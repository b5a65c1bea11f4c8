using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;
using Stratus.Platform.Tests.Support;
using Stratus.Testing;

namespace Stratus.Platform.Tests.Messaging;

/// <summary>The queue table's state changes on their own, with a clock the test moves.</summary>
[Collection(PostgresCollection.Name)]
public sealed class QueueStoreTests(PostgresServer postgres)
{
    private const string Queue = "q";
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private const int MaxAttempts = 5;

    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2030, 1, 1, 8, 0, 0, TimeSpan.Zero));

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Claim_SpentAttempts_IsNeverClaimedAgain_EvenWhenItsLeaseRunsOutAfterTheDeadLetterPass(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var db = await MigratedAsync(database);
        var store = new QueueStore(db, clock);
        var id = await EnqueueAsync(db, clock.GetUtcNow());
        Assert.Single(await store.ClaimAsync(Queue, "a", 10, Lease, maxAttempts: 1, CancellationToken.None));

        // The dead-letter pass runs while the last attempt's lease still holds; the lease runs out before the claim.
        Assert.Equal(0, await store.DeadLetterSpentAsync(Queue, maxAttempts: 1, CancellationToken.None));
        clock.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Empty(await store.ClaimAsync(Queue, "b", 10, Lease, maxAttempts: 1, CancellationToken.None));

        // The next pass dead-letters it.
        Assert.Equal(1, await store.DeadLetterSpentAsync(Queue, maxAttempts: 1, CancellationToken.None));
        Assert.Equal(QueueMessageStatus.Dead, (await RowAsync(db, id)).Status);
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Claim_ExpiredLease_IsTakenOverAndTheFormerOwnerCannotComplete(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var db = await MigratedAsync(database);
        var store = new QueueStore(db, clock);
        var id = await EnqueueAsync(db, clock.GetUtcNow());

        var first = Assert.Single(await store.ClaimAsync(Queue, "instance-a", 10, Lease, MaxAttempts, CancellationToken.None));
        Assert.Equal(id, first.Id);
        Assert.Equal(1, first.Attempts);
        Assert.StartsWith("instance-a:", first.LeaseOwner, StringComparison.Ordinal);
        Assert.Equal(clock.GetUtcNow() + Lease, first.LeaseUntil);

        Assert.Empty(await store.ClaimAsync(Queue, "instance-b", 10, Lease, MaxAttempts, CancellationToken.None));
        clock.Advance(Lease);
        Assert.Empty(await store.ClaimAsync(Queue, "instance-b", 10, Lease, MaxAttempts, CancellationToken.None));

        // Instance a hangs past its lease; b takes the message over.
        clock.Advance(TimeSpan.FromSeconds(1));
        var second = Assert.Single(await store.ClaimAsync(Queue, "instance-b", 10, Lease, MaxAttempts, CancellationToken.None));
        Assert.Equal(2, second.Attempts);

        await store.CompleteAsync(first, CancellationToken.None);
        await store.DeadLetterAsync(first, "too late", CancellationToken.None);
        var row = await RowAsync(db, id);
        Assert.Equal(QueueMessageStatus.Pending, row.Status);
        Assert.Equal(second.LeaseOwner, row.LeaseOwner);

        await store.CompleteAsync(second, CancellationToken.None);
        row = await RowAsync(db, id);
        Assert.Equal(QueueMessageStatus.Done, row.Status);
        Assert.Equal(clock.GetUtcNow(), row.HandledAt);
        Assert.Null(row.LeaseOwner);
        Assert.Null(row.LeaseUntil);

        clock.Advance(TimeSpan.FromHours(1));
        Assert.Empty(await store.ClaimAsync(Queue, "instance-c", 10, Lease, MaxAttempts, CancellationToken.None));
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Claim_NotYetVisible_ClaimsNothingUntilVisibleAt(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var db = await MigratedAsync(database);
        var store = new QueueStore(db, clock);
        var later = await EnqueueAsync(db, clock.GetUtcNow().AddSeconds(10));
        var sooner = await EnqueueAsync(db, clock.GetUtcNow().AddSeconds(5));

        Assert.Empty(await store.ClaimAsync(Queue, "a", 10, Lease, MaxAttempts, CancellationToken.None));
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal([sooner], (await store.ClaimAsync(Queue, "a", 10, Lease, MaxAttempts, CancellationToken.None)).Select(m => m.Id));
        clock.Advance(TimeSpan.FromSeconds(4.999));
        Assert.Empty(await store.ClaimAsync(Queue, "a", 10, Lease, MaxAttempts, CancellationToken.None));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal([later], (await store.ClaimAsync(Queue, "a", 10, Lease, MaxAttempts, CancellationToken.None)).Select(m => m.Id));
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Claim_MoreThanTheBatch_TakesTheEarliestFirst(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var db = await MigratedAsync(database);
        var store = new QueueStore(db, clock);
        var now = clock.GetUtcNow();
        var ids = new List<Guid>();
        for (var i = 5; i > 0; i--)
        {
            ids.Add(await EnqueueAsync(db, now.AddSeconds(-i)));
        }

        await EnqueueAsync(db, now, queue: "other");

        var batch = await store.ClaimAsync(Queue, "a", 3, Lease, MaxAttempts, CancellationToken.None);
        Assert.Equal(ids.Take(3), batch.Select(m => m.Id));
        var rest = await store.ClaimAsync(Queue, "b", 3, Lease, MaxAttempts, CancellationToken.None);
        Assert.Equal(ids.Skip(3), rest.Select(m => m.Id));
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Retry_ReleasesTheLeaseAndHidesTheMessageForTheDelay(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var db = await MigratedAsync(database);
        var store = new QueueStore(db, clock);
        var id = await EnqueueAsync(db, clock.GetUtcNow());

        var claimed = Assert.Single(await store.ClaimAsync(Queue, "a", 10, Lease, MaxAttempts, CancellationToken.None));
        await store.RetryAsync(claimed, "boom", TimeSpan.FromSeconds(8), CancellationToken.None);

        var row = await RowAsync(db, id);
        Assert.Equal(QueueMessageStatus.Pending, row.Status);
        Assert.Equal(clock.GetUtcNow().AddSeconds(8), row.VisibleAt);
        Assert.Equal("boom", row.LastError);
        Assert.Null(row.LeaseOwner);
        Assert.Null(row.LeaseUntil);

        clock.Advance(TimeSpan.FromSeconds(7));
        Assert.Empty(await store.ClaimAsync(Queue, "b", 10, Lease, MaxAttempts, CancellationToken.None));
        clock.Advance(TimeSpan.FromSeconds(1));
        var again = Assert.Single(await store.ClaimAsync(Queue, "b", 10, Lease, MaxAttempts, CancellationToken.None));
        Assert.Equal(2, again.Attempts);
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task QueueMessages_SameQueueAndSourceMessage_AreRejected(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var db = await MigratedAsync(database);
        var source = Guid.NewGuid();
        await EnqueueAsync(db, clock.GetUtcNow(), source: source);
        await EnqueueAsync(db, clock.GetUtcNow(), source: source, queue: "other");

        await Assert.ThrowsAsync<DbUpdateException>(() => EnqueueAsync(db, clock.GetUtcNow(), source: source));
    }

    private static async Task<PlatformDbContext> MigratedAsync(TestDatabase database)
    {
        var db = database.CreatePlatformContext();
        await db.Database.MigrateAsync();
        return db;
    }

    private async Task<Guid> EnqueueAsync(PlatformDbContext db, DateTimeOffset visibleAt, Guid? source = null, string queue = Queue)
    {
        var message = new QueueMessage
        {
            Id = Guid.NewGuid(),
            Queue = queue,
            MessageType = "testsvc.itemCreated.v1",
            Body = "{}",
            SourceMessageId = source ?? Guid.NewGuid(),
            Status = QueueMessageStatus.Pending,
            CreatedAt = clock.GetUtcNow(),
            VisibleAt = visibleAt,
        };
        db.QueueMessages.Add(message);
        try
        {
            await db.SaveChangesAsync();
        }
        finally
        {
            db.ChangeTracker.Clear();
        }

        return message.Id;
    }

    private static Task<QueueMessage> RowAsync(PlatformDbContext db, Guid id) =>
        db.QueueMessages.AsNoTracking().SingleAsync(m => m.Id == id);
}
