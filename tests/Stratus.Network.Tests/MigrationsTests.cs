using Microsoft.EntityFrameworkCore;
using Stratus.Network.Persistence;
using Stratus.Platform.Persistence;

namespace Stratus.Network.Tests;

/// <summary>The network store's migrations match its model on both providers and pair up by name.</summary>
public sealed class MigrationsTests
{
    [Fact]
    public void Model_BothProviders_HaveNoChangesWithoutAMigration()
    {
        using var sqlite = new SqliteNetworkDbContext(DesignTime.Sqlite<SqliteNetworkDbContext>(), TimeProvider.System);
        using var postgres = new PostgresNetworkDbContext(DesignTime.Postgres<PostgresNetworkDbContext>(NetworkDbContext.SchemaName), TimeProvider.System);

        foreach (DbContext db in new DbContext[] { sqlite, postgres })
        {
            Assert.NotEmpty(db.Database.GetMigrations());
            Assert.False(db.Database.HasPendingModelChanges(), $"{db.GetType().Name}'s model differs from its last migration: run scripts/add-migration.sh NAME Stratus.Network.");
        }

        static IEnumerable<string> Names(DbContext db) => db.Database.GetMigrations().Select(id => id[(id.IndexOf('_', StringComparison.Ordinal) + 1)..]);
        Assert.Equal(Names(sqlite), Names(postgres));
    }
}
