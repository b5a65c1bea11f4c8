using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Stratus.Compute.Persistence;
using Stratus.Testing;

namespace Stratus.Compute.Tests;

/// <summary>
/// A store upgraded to tombstones that are deletion orders: every tombstone written before was written once its VM
/// was gone, so the migration marks it confirmed (prunable after the retention), and none becomes an order to a
/// host. On a real PostgreSQL, where the migration's own SQL runs.
/// </summary>
public sealed class TombstoneMigrationTests(PostgresServer postgres) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task Tombstones_from_before_the_upgrade_are_confirmed_at_their_deletion_and_order_no_host()
    {
        var connectionString = postgres.ConnectionString(await postgres.CreateDatabaseAsync());
        await using var db = new PostgresComputeDbContext(new DbContextOptionsBuilder<PostgresComputeDbContext>()
            .UseNpgsql(connectionString, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history", ComputeDbContext.SchemaName)).Options, TimeProvider.System);
        var migrations = db.Database.GetMigrations().ToList();
        // Later migrations may follow: the store is taken to the one before the upgrade, whatever comes after it.
        var upgrade = migrations.FindIndex(m => m.EndsWith("_UnmanagedVmsAndTombstoneOrders", StringComparison.Ordinal));
        Assert.True(upgrade > 0, string.Join(", ", migrations));
        await db.GetService<IMigrator>().MigrateAsync(migrations[upgrade - 1]);

        var id = Guid.NewGuid();
        var deletedAt = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
        await db.Database.ExecuteSqlAsync($"""INSERT INTO compute.deleted_vms ("Id", "DeletedAt") VALUES ({id}, {deletedAt})""");
        await db.Database.MigrateAsync();

        var tombstone = await db.DeletedVms.AsNoTracking().SingleAsync(d => d.Id == id);
        Assert.Equal(deletedAt, tombstone.ConfirmedAt);
        Assert.Null(tombstone.HostId);
    }
}
