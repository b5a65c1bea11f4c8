using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Stratus.Identity.Clients;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;
using Stratus.Platform.Regions;
using Stratus.Platform.Tests.Support;
using Stratus.Testing;

namespace Stratus.Platform.Tests.Regions;

/// <summary>
/// The edges of start-up tasks on a read-only store (a database set to default_transaction_read_only, as a standby
/// refuses writes): only an instance of a region of several sets a writing task aside, and one that fails for
/// another reason once the region is writable stops the instance, as a failed start would.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StartupDeferralTests(PostgresServer postgres, ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task SingleRegion_ReadOnlyStore_AWritingStartupTaskFailsTheStartAsToday()
    {
        using var database = await ReadOnlyDatabaseAsync();
        var task = new InsertOnce();
        await using var host = MessagingHost.Build(database, output, "single", services: registered => registered.AddSingleton<IStartupTask>(task));

        var refused = await Assert.ThrowsAnyAsync<Exception>(host.RunStartupTasksAsync);
        Assert.True(ReadOnlyStore.Refused(refused), refused.ToString());
        Assert.Null(host.Writability().Region);
        Assert.Empty(host.Writability().StartupTasksWaiting);
    }

    [Fact]
    public async Task Region_DeferredTaskFailingOnceWritable_StopsTheInstance()
    {
        using var database = await ReadOnlyDatabaseAsync();
        await using var frontDoor = await StandInFrontDoor.StartAsync(output);
        frontDoor.MakeWritable("B", 1);
        var task = new InsertOnce { FailAfterFirst = true };
        await using var host = MessagingHost.Build(database, output, "region-a", services: registered =>
        {
            registered.AddSingleton<TokenExchange>();
            registered.Configure<RegionOptions>(options =>
            {
                options.Name = RegionHost.Region;
                options.FrontDoorUrls.Add(frontDoor.Url);
            });
            registered.AddSingleton<IRegionStore>(new RecordingRegionStore());
            registered.AddSingleton<IStartupTask>(task);
        });
        host.App.MapTokenEndpoint();
        await host.RunStartupTasksAsync();
        Assert.Equal([nameof(InsertOnce)], host.Writability().StartupTasksWaiting);
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = host.App.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => stopping.TrySetResult());
        await host.StartAsync();
        await Eventually.WaitForAsync(() => Task.FromResult(host.Writability().Epoch), epoch => epoch == 1, "the first lease (region B writable)", Deadline);
        Assert.Equal(1, task.Attempts);

        frontDoor.MakeWritable(RegionHost.Region, 2);
        await stopping.Task.WaitAsync(Deadline);
        Assert.Equal(2, task.Attempts);
        Assert.False(host.Writability().IsWritable);
        Assert.Contains(host.Logs, line => line.Contains("Start-up task InsertOnce failed once the region became writable", StringComparison.Ordinal));
    }

    /// <summary>A PostgreSQL database with the platform's and the test service's tables, then set read-only for every new session.</summary>
    private async Task<TestDatabase> ReadOnlyDatabaseAsync()
    {
        var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres, postgres);
        try
        {
            await using (var writer = MessagingHost.Build(database, output, "writer"))
            {
                await writer.RunStartupTasksAsync();
                await writer.CreateServiceTablesAsync();
            }

            var name = new NpgsqlConnectionStringBuilder(database.Settings.Target).Database;
            await using var admin = new NpgsqlConnection(postgres.ConnectionString("postgres"));
            await admin.OpenAsync();
            await using (var readOnly = new NpgsqlCommand($"ALTER DATABASE \"{name}\" SET default_transaction_read_only = on", admin))
            {
                await readOnly.ExecuteNonQueryAsync();
            }

            // Sessions opened before keep the old default: the next host must open new ones.
            foreach (var schema in new[] { PlatformDbContext.SchemaName, TestDbContext.SchemaName })
            {
                await using var pooled = new NpgsqlConnection(database.Settings.ConnectionStringFor(schema));
                NpgsqlConnection.ClearPool(pooled);
            }
            return database;
        }
        catch
        {
            database.Dispose();
            throw;
        }
    }

    /// <summary>A start-up task that inserts a row (refused by a read-only store); told to, it fails for another reason after its first run.</summary>
    private sealed class InsertOnce : IStartupTask
    {
        private int attempts;

        public bool FailAfterFirst { get; init; }

        public int Attempts => Volatile.Read(ref attempts);

        public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref attempts) > 1 && FailAfterFirst)
            {
                throw new InvalidOperationException("the test task is told to fail for a reason other than a read-only store");
            }

            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TestDbContext>();
            db.Items.Add(new Item { Id = Guid.NewGuid(), Name = "inserted at start" });
            await db.SaveChangesAsync(cancellationToken);
        }
    }
}
