using Microsoft.EntityFrameworkCore;
using Stratus.Monitoring.Persistence;
using Stratus.Platform.Persistence;

namespace Stratus.Monitoring.Tests;

/// <summary>The monitoring store's migrations match its model on both providers and pair up by name.</summary>
public sealed class MigrationsTests
{
    [Fact]
    public void Model_BothProviders_HaveNoChangesWithoutAMigration()
    {
        using var sqlite = new SqliteMonitoringDbContext(DesignTime.Sqlite<SqliteMonitoringDbContext>(), TimeProvider.System);
        using var postgres = new PostgresMonitoringDbContext(DesignTime.Postgres<PostgresMonitoringDbContext>(MonitoringDbContext.SchemaName), TimeProvider.System);

        foreach (DbContext db in new DbContext[] { sqlite, postgres })
        {
            Assert.NotEmpty(db.Database.GetMigrations());
            Assert.False(db.Database.HasPendingModelChanges(), $"{db.GetType().Name}'s model differs from its last migration: run scripts/add-migration.sh NAME Stratus.Monitoring.");
        }

        static IEnumerable<string> Names(DbContext db) => db.Database.GetMigrations().Select(id => id[(id.IndexOf('_', StringComparison.Ordinal) + 1)..]);
        Assert.Equal(Names(sqlite), Names(postgres));
    }
}
