using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Platform.Http;
using Stratus.Platform.Jobs;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;
using Stratus.Platform.Regions;
using Stratus.Platform.Tests.Support;
using Stratus.Testing;

namespace Stratus.Platform.Tests.Regions;

/// <summary>
/// A region's instance follows the front door's lease (issue 19): writable while it holds one for its region, else
/// standby mode: writes refused with 503 region-read-only, queue worker and outbox relay waiting, reads going on.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StandbyModeTests(PostgresServer postgres, ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Lease_NotRenewed_WritesRefusedAndQueueWaitsUntilTheLeaseComesBack(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var frontDoor = await StandInFrontDoor.StartAsync(output);
        frontDoor.MakeWritable(RegionHost.Region, 1);
        var store = new RecordingRegionStore();
        await using var host = await RegionHost.StartAsync(database, output, frontDoor, store);
        store.Writability = host.Writability();
        using var client = host.OperatorClient();

        // The keeper applies a lease before it asks the store for its role: wait for both to be reported.
        var ready = await WaitForReadyAsync(
            host,
            r => r.GetProperty("writable").GetBoolean() && r.GetProperty("storeRole").ValueKind == JsonValueKind.String,
            "region A to be writable and its store's role");
        Assert.Equal("A", ready.GetProperty("region").GetString());
        Assert.Equal(1, ready.GetProperty("epoch").GetInt64());
        Assert.Equal(nameof(StoreRole.Primary), ready.GetProperty("storeRole").GetString());
        Assert.Equal([new StoreCall("promote", 1, false)], store.Calls);
        using (var written = await client.PostAsJsonAsync(RegionHost.ItemsPath, new RegionHost.NewItem("while writable")))
        {
            Assert.Equal(HttpStatusCode.Created, written.StatusCode);
        }

        frontDoor.StopAnswering();
        await Eventually.WaitForAsync(() => Task.FromResult(host.Writability().IsWritable), writable => !writable, "the lease to run out", Deadline);
        using var refused = await client.PostAsJsonAsync(RegionHost.ItemsPath, new RegionHost.NewItem("while read-only"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Problems.TypePrefix + RegionWriteGuard.ProblemType, problem.GetProperty("type").GetString());
        Assert.Contains("Region A is read-only", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("A", problem.GetProperty("region").GetString());
        Assert.True(int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.Equal(0, await host.ServiceAsync(db => db.Items.CountAsync(i => i.Name == "while read-only")));

        // Reads go on, and so does service token issuance (it writes nothing; the region's own keeper needs it).
        var standby = await WaitForReadyAsync(host, r => !r.GetProperty("writable").GetBoolean(), "/readyz to say read-only");
        Assert.Equal(1, standby.GetProperty("epoch").GetInt64());
        using (var token = await host.Http!.PostAsync(new Uri("/connect/token", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>
               {
                   ["grant_type"] = "client_credentials",
                   ["client_id"] = "identity",
                   ["client_secret"] = host.App.Services.GetRequiredService<ClientSecrets>().Of("identity"),
                   ["scope"] = RegionLeaseApi.Scope,
               })))
        {
            Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        }

        // The queue worker and the outbox relay are parked at the gate: a committed outbox row and a pending queue
        // message stay as they are for as long as the instance is read-only.
        var writability = host.Writability();
        await Eventually.WaitForAsync(() => Task.FromResult(writability.WaitingLoops),
            loops => loops.Contains($"queue:{MessagingHost.QueueA}") && loops.Contains($"outbox:{nameof(TestDbContext)}"), "the queue worker and outbox relay to wait", Deadline);
        var published = await host.CreateItemAsync("published before the lease ran out");
        var queued = await EnqueueItemCreatedAsync(host);
        Assert.Equal(QueueMessageStatus.Pending, (await QueueRowAsync(host, queued)).Status);
        Assert.Equal(0, (await QueueRowAsync(host, queued)).Attempts);
        Assert.Equal(1, await host.ServiceAsync(db => db.OutboxMessages.CountAsync(m => m.DispatchedAt == null)));
        Assert.False(writability.IsWritable);

        frontDoor.Answer();
        await Eventually.WaitForAsync(() => host.ServiceAsync(db => db.HandledItems.Where(h => h.ItemId == queued || h.ItemId == published).CountAsync()),
            count => count == 3, "the queued message (alpha) and the published one (alpha and beta) to be handled once writable again", Deadline);
        using (var again = await client.PostAsJsonAsync(RegionHost.ItemsPath, new RegionHost.NewItem("writable again")))
        {
            Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        }

        Assert.Equal([new StoreCall("promote", 1, false)], store.Calls);
    }

    [Fact]
    public async Task Lease_OlderEpoch_IsIgnoredAndEachChangeOfWritableRegionPromotesOrDemotesFirst()
    {
        using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite, postgres);
        await using var frontDoor = await StandInFrontDoor.StartAsync(output);
        frontDoor.MakeWritable("B", 2);
        var store = new RecordingRegionStore();
        await using var host = await RegionHost.StartAsync(database, output, frontDoor, store);
        store.Writability = host.Writability();
        using var client = host.OperatorClient();

        var standby = await WaitForReadyAsync(host, r => r.GetProperty("epoch").ValueKind == JsonValueKind.Number, "the first lease");
        Assert.False(standby.GetProperty("writable").GetBoolean());
        Assert.Equal(2, standby.GetProperty("epoch").GetInt64());
        await Eventually.WaitForAsync(() => Task.FromResult(store.Calls), calls => calls.Count > 0, "the store to be demoted", Deadline);
        Assert.Equal([new StoreCall("demote", 2, false)], store.Calls);
        using (var refused = await client.PostAsJsonAsync(RegionHost.ItemsPath, new RegionHost.NewItem("to region B")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Contains("region B takes writes now (epoch 2)", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Equal("B", problem.GetProperty("writableRegion").GetString());
        }

        // A stale answer (a front door that lost its state) that would make A writable at epoch 1: asked and ignored.
        frontDoor.MakeWritable(RegionHost.Region, 1);
        await Eventually.WaitForAsync(() => Task.FromResult(frontDoor.Served(1)), served => served >= 3, "three answers of epoch 1", Deadline);
        Assert.False(host.Writability().IsWritable);
        Assert.Equal(2, host.Writability().Epoch);
        Assert.Equal([new StoreCall("demote", 2, false)], store.Calls);

        frontDoor.MakeWritable(RegionHost.Region, 3);
        var writable = await WaitForReadyAsync(host, r => r.GetProperty("writable").GetBoolean(), "region A to be writable for epoch 3");
        Assert.Equal(3, writable.GetProperty("epoch").GetInt64());
        Assert.Equal([new StoreCall("demote", 2, false), new StoreCall("promote", 3, false)], store.Calls);
    }

    [Fact]
    public async Task Promote_Failing_KeepsTheInstanceReadOnlyUntilItSucceeds()
    {
        using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite, postgres);
        await using var frontDoor = await StandInFrontDoor.StartAsync(output);
        frontDoor.MakeWritable(RegionHost.Region, 4);
        var store = new RecordingRegionStore { FailingPromotions = 2 };
        await using var host = await RegionHost.StartAsync(database, output, frontDoor, store);
        store.Writability = host.Writability();

        await WaitForReadyAsync(host, r => r.GetProperty("writable").GetBoolean(), "region A to be writable once its store is promoted");
        Assert.Equal([new StoreCall("promote", 4, false), new StoreCall("promote", 4, false), new StoreCall("promote", 4, false)], store.Calls);
        Assert.Contains(host.Logs, line => line.Contains("the stand-in store is told to fail this promotion", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Job_PassesRunOnlyWhileWritable_AndWaitWhileReadOnly()
    {
        using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite, postgres);
        await using var frontDoor = await StandInFrontDoor.StartAsync(output);
        frontDoor.MakeWritable(RegionHost.Region, 1);
        var passes = new PassRecord();
        await using var host = await RegionHost.StartAsync(database, output, frontDoor, services: services =>
        {
            services.AddSingleton(passes);
            services.AddPeriodicJob<WritingJob>();
        });
        var writability = host.Writability();

        await Eventually.WaitForAsync(() => Task.FromResult(passes.Count), count => count >= 3, "three passes while writable", Deadline);
        frontDoor.StopAnswering();
        await Eventually.WaitForAsync(() => Task.FromResult(writability.WaitingLoops), loops => loops.Contains("job:" + WritingJob.JobName),
            "the job to wait once the lease ran out", Deadline);
        var whileReadOnly = passes.Count;
        Assert.Contains("job:" + WritingJob.JobName, writability.WaitingLoops);
        Assert.Equal(whileReadOnly, passes.Count);

        frontDoor.Answer();
        await Eventually.WaitForAsync(() => Task.FromResult(passes.Count), count => count >= whileReadOnly + 3, "passes once writable again", Deadline);    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Region_NotConfigured_AlwaysWritable(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var host = await RegionHost.StartAsync(database, output, frontDoor: null);
        using var client = host.OperatorClient();

        using (var written = await client.PostAsJsonAsync(RegionHost.ItemsPath, new RegionHost.NewItem("single region")))
        {
            Assert.Equal(HttpStatusCode.Created, written.StatusCode);
        }

        var published = await host.CreateItemAsync("published");
        await Eventually.WaitForAsync(() => host.ServiceAsync(db => db.HandledItems.CountAsync(h => h.ItemId == published)), count => count == 2,
            "the published message to be handled on both queues", Deadline);
        var ready = await ReadyAsync(host);
        Assert.Equal(JsonValueKind.Null, ready.GetProperty("region").ValueKind);
        Assert.True(ready.GetProperty("writable").GetBoolean());
        Assert.Equal(JsonValueKind.Null, ready.GetProperty("epoch").ValueKind);
        Assert.Empty(host.Writability().WaitingLoops);
    }

    private static Task<JsonElement> WaitForReadyAsync(MessagingHost host, Func<JsonElement, bool> done, string what) =>
        Eventually.WaitForAsync(() => ReadyAsync(host), done, what, Deadline);

    private static async Task<JsonElement> ReadyAsync(MessagingHost host) =>
        await host.Http!.GetFromJsonAsync<JsonElement>(new Uri("/readyz", UriKind.Relative));

    /// <summary>A pending ItemCreated on queue alpha, as the relay would have queued it just before the lease ran out.</summary>
    private static async Task<Guid> EnqueueItemCreatedAsync(MessagingHost host)
    {
        var itemId = Guid.NewGuid();
        var now = TimeProvider.System.GetUtcNow();
        await host.PlatformAsync(async db =>
        {
            db.QueueMessages.Add(new QueueMessage
            {
                Id = Guid.CreateVersion7(now),
                Queue = MessagingHost.QueueA,
                MessageType = MessageNames.Of<ItemCreated>(),
                Body = JsonSerializer.Serialize(new ItemCreated(itemId, "queued before the lease ran out"), MessageJson.Options),
                SourceMessageId = Guid.NewGuid(),
                Status = QueueMessageStatus.Pending,
                CreatedAt = now,
                VisibleAt = now,
            });
            return await db.SaveChangesAsync();
        });
        return itemId;
    }

    private static Task<QueueMessage> QueueRowAsync(MessagingHost host, Guid itemId) =>
        host.PlatformAsync(async db => (await db.QueueMessages.AsNoTracking().Where(m => m.Body.Contains(itemId.ToString())).ToListAsync()).Single());

    private sealed class PassRecord
    {
        private int count;

        public int Count => Volatile.Read(ref count);

        public void Add() => Interlocked.Increment(ref count);
    }

    /// <summary>A job whose passes would write; counts them.</summary>
    private sealed class WritingJob(PassRecord passes) : IPeriodicJob
    {
        public const string JobName = "region.test";

        public string Name => JobName;

        public TimeSpan Interval => TimeSpan.FromMilliseconds(100);

        public Task RunAsync(CancellationToken cancellationToken)
        {
            passes.Add();
            return Task.CompletedTask;
        }
    }
}
