using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Stratus.Platform.Idempotency;
using Stratus.Platform.Persistence;
using Stratus.Platform.Tests.Support;
using Stratus.Testing;
using static Stratus.Platform.Tests.Idempotency.IdempotencyRequests;

namespace Stratus.Platform.Tests.Regions;

/// <summary>
/// An Idempotency-Key held by a request of a region that then lost the writable region (issue 19): that request can
/// neither finish nor release the key, and the key came over to the new writable region with the rest of the store.
/// A retry under the newer epoch takes it over at once, instead of hearing "in use" until the 2-minute lease lapses.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class IdempotencyEpochTests(PostgresServer postgres, ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task KeyHeldUnderAnOlderEpoch_IsTakenOverAtOnce_ButNotUnderTheSameEpoch(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var frontDoor = await StandInFrontDoor.StartAsync(output);
        frontDoor.MakeWritable(RegionHost.Region, 1);
        await using var host = await RegionHost.StartAsync(database, output, frontDoor);
        await WaitForEpochAsync(host, 1);
        using var client = host.OperatorClient();
        var item = new RegionHost.NewItem("kept once");
        using (var created = await SendAsync(client, HttpMethod.Post, RegionHost.ItemsPath, "cut-off", item))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        Assert.Equal(1L, await host.PlatformAsync(db => db.IdempotencyRecords.Where(r => r.Key == "cut-off").Select(r => r.RegionEpoch).SingleAsync()));

        // As a request cut off with its region leaves the key: processing, its lease still running for a minute.
        var leaseUntil = TimeProvider.System.GetUtcNow() + TimeSpan.FromMinutes(1);
        await host.PlatformAsync(db => db.IdempotencyRecords.Where(r => r.Key == "cut-off").ExecuteUpdateAsync(s => s
            .SetProperty(r => r.State, IdempotencyState.Processing)
            .SetProperty(r => r.LeaseOwner, Guid.NewGuid())
            .SetProperty(r => r.LeaseUntil, leaseUntil)));
        using (var held = await SendAsync(client, HttpMethod.Post, RegionHost.ItemsPath, "cut-off", item))
        {
            await AssertProblemAsync(held, HttpStatusCode.Conflict, "idempotency-key-in-use");
        }

        frontDoor.MakeWritable(RegionHost.Region, 2);
        await WaitForEpochAsync(host, 2);
        using (var takenOver = await SendAsync(client, HttpMethod.Post, RegionHost.ItemsPath, "cut-off", item))
        {
            Assert.Equal(HttpStatusCode.Created, takenOver.StatusCode);
            Assert.False(takenOver.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        }

        var record = await host.PlatformAsync(db => db.IdempotencyRecords.AsNoTracking().SingleAsync(r => r.Key == "cut-off"));
        Assert.Equal(IdempotencyState.Completed, record.State);
        Assert.Equal(2L, record.RegionEpoch);
        using (var replayed = await SendAsync(client, HttpMethod.Post, RegionHost.ItemsPath, "cut-off", item))
        {
            Assert.True(replayed.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        }
    }

    private static Task<JsonElement> WaitForEpochAsync(MessagingHost host, long epoch) =>
        Eventually.WaitForAsync(async () =>
        {
            using var response = await host.Http!.GetAsync(new Uri("/readyz", UriKind.Relative));
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }, r => r.GetProperty("writable").GetBoolean() && r.GetProperty("epoch").GetInt64() == epoch, $"region A writable at epoch {epoch}", Deadline);
}
