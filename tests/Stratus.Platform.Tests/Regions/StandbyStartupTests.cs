using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Stratus.Identity.Clients;
using Stratus.Platform.Http;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;
using Stratus.Platform.Regions;
using Stratus.Platform.Tests.Support;
using Stratus.Testing;

namespace Stratus.Platform.Tests.Regions;

/// <summary>
/// A standby region's instance starts (issue 19): region B's store is a real hot standby of region A's PostgreSQL
/// (streaming replication). B's instance starts and serves reads; its start-up tasks with nothing to write complete at
/// once, the one that must write waits; when the front door makes B writable, the store is promoted, the waiting task
/// runs once, and only then are writes taken.
/// </summary>
public sealed class StandbyStartupTests(ITestOutputHelper output)
{
    private const string ItemsPath = "/api/v1/regionTests/items";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task StandbyStore_InstanceServesReads_AndItsWritingStartupTaskRunsOnceWhenTheRegionBecomesWritable()
    {
        var primary = new PostgresServer();
        await primary.InitializeAsync();
        try
        {
            using var regionAData = new TempFolder();
            using var regionBData = new TempFolder();
            var onPrimary = await primary.CreateDatabaseAsync();

            // Region A's instances made the schema and registered the subscriptions; B's store replicates all of it.
            await using (var regionA = MessagingHost.Build(DatabaseSettings.Parse(onPrimary), regionAData.Path, output, "region-a"))
            {
                await regionA.RunStartupTasksAsync();
                await regionA.CreateServiceTablesAsync();
                await regionA.CreateItemAsync("written in region A");
            }

            await using var standby = await primary.StartStandbyAsync();
            var onStandby = new NpgsqlConnectionStringBuilder(onPrimary) { Port = standby.Port }.ConnectionString;
            await using var frontDoor = await StandInFrontDoor.StartAsync(output);
            frontDoor.MakeWritable("A", 1);
            var seed = new SeedOnce();
            await using var regionB = await StartRegionBAsync(onStandby, regionBData.Path, frontDoor, seed);
            seed.Writability = regionB.Writability();

            // It serves reads from the standby, and says why it takes no writes.
            // The keeper applies a lease before it asks the store for its role: wait for both to be reported.
            var standbyReady = await WaitForReadyAsync(
                regionB,
                r => r.GetProperty("epoch").ValueKind == JsonValueKind.Number && r.GetProperty("storeRole").ValueKind == JsonValueKind.String,
                "region B's first lease and its store's role");
            Assert.Equal("B", standbyReady.GetProperty("region").GetString());
            Assert.False(standbyReady.GetProperty("writable").GetBoolean());
            Assert.Equal(nameof(StoreRole.Standby), standbyReady.GetProperty("storeRole").GetString());
            Assert.Equal(new[] { nameof(SeedOnce) }, standbyReady.GetProperty("startupTasksWaiting").EnumerateArray().Select(t => t.GetString()).ToArray());
            Assert.Equal(new[] { "written in region A" }, await regionB.Http!.GetFromJsonAsync<string[]>(new Uri(ItemsPath, UriKind.Relative)));
            Assert.Equal(0, seed.Completed);
            Assert.True(seed.Attempts >= 1);

            using var client = regionB.OperatorClient();
            using (var refused = await client.PostAsJsonAsync(ItemsPath, new RegionHost.NewItem("while B is a standby")))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
                var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
                Assert.Equal(Problems.TypePrefix + RegionWriteGuard.ProblemType, problem.GetProperty("type").GetString());
                Assert.Equal("A", problem.GetProperty("writableRegion").GetString());
            }

            // Failover: the front door makes B writable; the keeper promotes B's store, then the waiting task runs, then writes.
            frontDoor.MakeWritable("B", 2);
            var writable = await WaitForReadyAsync(regionB, r => r.GetProperty("writable").GetBoolean(), "region B to be writable");
            Assert.Equal(2, writable.GetProperty("epoch").GetInt64());
            Assert.Empty(writable.GetProperty("startupTasksWaiting").EnumerateArray());
            Assert.Equal(1, seed.Completed);
            Assert.Equal(new[] { false }, seed.WritableWhenCompleted);
            Assert.Equal(1, await regionB.ServiceAsync(db => db.Items.CountAsync(i => i.Name == SeedOnce.ItemName)));
            using (var accepted = await client.PostAsJsonAsync(ItemsPath, new RegionHost.NewItem("once B is writable")))
            {
                Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);
            }

            Assert.Equal(1, seed.Completed);
            Assert.Contains(regionB.Logs, line => line.Contains("Start-up task SeedOnce waits", StringComparison.Ordinal));
        }
        finally
        {
            await primary.DisposeAsync();
        }
    }

    private async Task<MessagingHost> StartRegionBAsync(string onStandby, string dataFolder, StandInFrontDoor frontDoor, SeedOnce seed)
    {
        var host = MessagingHost.Build(DatabaseSettings.Parse(onStandby), dataFolder, output, "region-b", services: registered =>
        {
            registered.AddSingleton<TokenExchange>();
            registered.Configure<RegionOptions>(options =>
            {
                options.Name = "B";
                options.FrontDoorUrls.Add(frontDoor.Url);
            });
            registered.AddSingleton<IRegionStore>(new PromotableStandby(onStandby));
            registered.AddSingleton<IStartupTask>(seed);
        });
        try
        {
            host.App.MapTokenEndpoint();
            host.App.MapGet(ItemsPath, async (TestDbContext db) => await db.Items.AsNoTracking().OrderBy(i => i.Name).Select(i => i.Name).ToListAsync());
            host.App.MapPost(ItemsPath, async (RegionHost.NewItem item, TestDbContext db) =>
            {
                var id = Guid.NewGuid();
                db.Items.Add(new Item { Id = id, Name = item.Name });
                await db.SaveChangesAsync();
                return Results.Created($"{ItemsPath}/{id}", new { id });
            }).RequireAuthorization();
            await host.RunStartupTasksAsync();
            await host.StartAsync();
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    private static Task<JsonElement> WaitForReadyAsync(MessagingHost host, Func<JsonElement, bool> done, string what) =>
        Eventually.WaitForAsync(async () =>
        {
            // /readyz answers 503 while a check fails; its body says the region's state either way.
            using var response = await host.Http!.GetAsync(new Uri("/readyz", UriKind.Relative));
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }, done, what, Deadline);

    /// <summary>A start-up task that must write: it seeds an item unless the item is there, and counts what it did.</summary>
    private sealed class SeedOnce : IStartupTask
    {
        public const string ItemName = "seeded at start";
        private int attempts;
        private int completed;

        public RegionWritability? Writability { get; set; }

        public int Attempts => Volatile.Read(ref attempts);

        public int Completed => Volatile.Read(ref completed);

        /// <summary>Whether the instance said it was writable as each run completed: the gate opens only after.</summary>
        public List<bool> WritableWhenCompleted { get; } = [];

        public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref attempts);
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TestDbContext>();
            if (!await db.Items.AnyAsync(i => i.Name == ItemName, cancellationToken))
            {
                db.Items.Add(new Item { Id = Guid.NewGuid(), Name = ItemName });
                await db.SaveChangesAsync(cancellationToken);
            }

            lock (WritableWhenCompleted)
            {
                WritableWhenCompleted.Add(Writability?.IsWritable ?? false);
            }

            Interlocked.Increment(ref completed);
        }
    }

    /// <summary>
    /// A STAND-IN for Patroni (which cannot run here) over a real PostgreSQL hot standby: its role is pg_is_in_recovery(),
    /// promotion is pg_promote(). A promoted server cannot be demoted without Patroni's rewind, so only a standby is.
    /// </summary>
    private sealed class PromotableStandby(string connectionString) : IRegionStore
    {
        public async Task<StoreRole> RoleAsync(CancellationToken cancellationToken) =>
            await InRecoveryAsync(cancellationToken) ? StoreRole.Standby : StoreRole.Primary;

        public async Task PromoteAsync(long epoch, CancellationToken cancellationToken)
        {
            if (await InRecoveryAsync(cancellationToken))
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(cancellationToken);
                await using var promote = new NpgsqlCommand("SELECT pg_promote(true, 60)", connection);
                await promote.ExecuteScalarAsync(cancellationToken);
            }
        }

        public async Task DemoteAsync(long epoch, CancellationToken cancellationToken)
        {
            if (!await InRecoveryAsync(cancellationToken))
            {
                throw new NotSupportedException("the stand-in cannot demote a promoted server");
            }
        }

        private async Task<bool> InRecoveryAsync(CancellationToken cancellationToken)
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT pg_is_in_recovery()", connection);
            return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
        }
    }
}
