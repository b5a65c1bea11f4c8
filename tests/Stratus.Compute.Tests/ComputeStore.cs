using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Stratus.Compute.Persistence;
using Stratus.Testing;

namespace Stratus.Compute.Tests;

/// <summary>
/// A real SQLite compute store in a folder of its own, migrated, on a fake clock: for the tests that drive one of
/// compute's jobs (the pruner, the heartbeat monitor, staleness, host-loss recovery) pass by pass.
/// </summary>
public sealed class ComputeStore : IAsyncDisposable
{
    private readonly TempFolder folder = new();
    private ServiceProvider services = null!;

    private ComputeStore()
    {
    }

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    /// <summary>What a job's scopes come from: the store, plus what <see cref="CreateAsync"/> was asked to add.</summary>
    public IServiceScopeFactory Scopes => services.GetRequiredService<IServiceScopeFactory>();

    public static async Task<ComputeStore> CreateAsync(Action<IServiceCollection, ComputeStore>? register = null)
    {
        var store = new ComputeStore();
        var collection = new ServiceCollection().AddScoped<ComputeDbContext>(_ => store.NewContext());
        register?.Invoke(collection, store);
        store.services = collection.BuildServiceProvider();
        await using var db = store.NewContext();
        await db.Database.MigrateAsync();
        return store;
    }

    public SqliteComputeDbContext NewContext() => new(
        new DbContextOptionsBuilder<SqliteComputeDbContext>().UseSqlite($"Data Source={Path.Combine(folder.Path, "compute.db")}").Options, Clock);

    public async ValueTask DisposeAsync()
    {
        await services.DisposeAsync();
        folder.Dispose();
    }
}
