using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Stratus.Diagnostics.Persistence;
using Stratus.Identity.Persistence;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;
using Stratus.Platform.Tests.Support;
using Stratus.Testing;

namespace Stratus.Platform.Tests.Persistence;

/// <summary>Every store's migrations match its model, on every provider, and build a database that fits it.</summary>
[Collection(PostgresCollection.Name)]
public sealed class MigrationsTests(PostgresServer postgres)
{
    private static readonly Dictionary<string, Func<StratusDbContext>> DesignTimeContexts = new(StringComparer.Ordinal)
    {
        [nameof(SqlitePlatformDbContext)] = () => new SqlitePlatformDbContext(DesignTime.Sqlite<SqlitePlatformDbContext>()),
        [nameof(PostgresPlatformDbContext)] = () => new PostgresPlatformDbContext(DesignTime.Postgres<PostgresPlatformDbContext>(PlatformDbContext.SchemaName)),
        [nameof(SqliteIdentityDbContext)] = () => new SqliteIdentityDbContext(DesignTime.Sqlite<SqliteIdentityDbContext>(), TimeProvider.System),
        [nameof(PostgresIdentityDbContext)] = () => new PostgresIdentityDbContext(DesignTime.Postgres<PostgresIdentityDbContext>(IdentityDbContext.SchemaName), TimeProvider.System),
        [nameof(SqliteDiagnosticsDbContext)] = () => new SqliteDiagnosticsDbContext(DesignTime.Sqlite<SqliteDiagnosticsDbContext>(), TimeProvider.System),
        [nameof(PostgresDiagnosticsDbContext)] = () => new PostgresDiagnosticsDbContext(DesignTime.Postgres<PostgresDiagnosticsDbContext>(DiagnosticsDbContext.SchemaName), TimeProvider.System),
    };

    [Theory]
    [InlineData(nameof(SqlitePlatformDbContext))]
    [InlineData(nameof(PostgresPlatformDbContext))]
    [InlineData(nameof(SqliteIdentityDbContext))]
    [InlineData(nameof(PostgresIdentityDbContext))]
    [InlineData(nameof(SqliteDiagnosticsDbContext))]
    [InlineData(nameof(PostgresDiagnosticsDbContext))]
    public void Model_EveryStoreAndProvider_HasNoChangesWithoutAMigration(string context)
    {
        using var db = DesignTimeContexts[context]();

        Assert.NotEmpty(db.Database.GetMigrations());
        Assert.False(db.Database.HasPendingModelChanges(),
            $"{context}'s model differs from its last migration: run scripts/add-migration.sh to add one for every provider.");
    }

    [Fact]
    public void Migrations_EveryStore_HasTheSameNamesOnEveryProvider()
    {
        foreach (var (sqlite, postgresContext) in new[]
                 {
                     (nameof(SqlitePlatformDbContext), nameof(PostgresPlatformDbContext)),
                     (nameof(SqliteIdentityDbContext), nameof(PostgresIdentityDbContext)),
                     (nameof(SqliteDiagnosticsDbContext), nameof(PostgresDiagnosticsDbContext)),
                 })
        {
            using var sqliteDb = DesignTimeContexts[sqlite]();
            using var postgresDb = DesignTimeContexts[postgresContext]();

            // Ids start with the timestamp of the moment each was added; the names after it must pair up.
            static IEnumerable<string> Names(DbContext db) => db.Database.GetMigrations().Select(id => id[(id.IndexOf('_', StringComparison.Ordinal) + 1)..]);
            Assert.Equal(Names(sqliteDb), Names(postgresDb));
        }
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Migrate_FreshDatabase_CreatesEveryMappedColumnOfEveryStore(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        StratusDbContext[] stores = provider switch
        {
            DatabaseProvider.Sqlite =>
            [
                database.CreatePlatformContext(),
                new SqliteIdentityDbContext(database.Options<SqliteIdentityDbContext>(IdentityDbContext.SchemaName), TimeProvider.System),
                new SqliteDiagnosticsDbContext(database.Options<SqliteDiagnosticsDbContext>(DiagnosticsDbContext.SchemaName), TimeProvider.System),
            ],
            DatabaseProvider.Postgres =>
            [
                database.CreatePlatformContext(),
                new PostgresIdentityDbContext(database.Options<PostgresIdentityDbContext>(IdentityDbContext.SchemaName), TimeProvider.System),
                new PostgresDiagnosticsDbContext(database.Options<PostgresDiagnosticsDbContext>(DiagnosticsDbContext.SchemaName), TimeProvider.System),
            ],
        };

        try
        {
            foreach (var store in stores)
            {
                await store.Database.MigrateAsync();
            }

            foreach (var store in stores)
            {
                Assert.Empty(await store.Database.GetPendingMigrationsAsync());
                Assert.Equal(store.Database.GetMigrations(), await store.Database.GetAppliedMigrationsAsync());
                await SelectEveryMappedColumnAsync(store);

                // A second start finds nothing to do.
                await store.Database.MigrateAsync();
                Assert.Equal(store.Database.GetMigrations(), await store.Database.GetAppliedMigrationsAsync());
            }
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    /// <summary>Fails when a table or column that the model maps is missing from the migrated database.</summary>
    private static async Task SelectEveryMappedColumnAsync(DbContext db)
    {
        var sql = db.GetService<ISqlGenerationHelper>();
        var tables = db.Model.GetEntityTypes().Where(e => e.GetTableName() is not null).ToList();
        Assert.NotEmpty(tables);
        foreach (var entity in tables)
        {
            var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
            var columns = entity.GetProperties().Select(p => sql.DelimitIdentifier(p.GetColumnName(table)!)).ToList();
            var query = $"SELECT {string.Join(", ", columns)} FROM {sql.DelimitIdentifier(table.Name, table.Schema)} WHERE 1 = 0";
            try
            {
                await db.Database.ExecuteSqlRawAsync(query);
            }
            catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or Npgsql.PostgresException)
            {
                Assert.Fail($"{db.GetType().Name}: the migrated table of {entity.DisplayName()} does not fit the model ({e.Message}); query: {query}");
            }
        }
    }
}
