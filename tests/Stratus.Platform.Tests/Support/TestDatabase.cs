using Microsoft.EntityFrameworkCore;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;
using Stratus.Testing;

namespace Stratus.Platform.Tests.Support;

/// <summary>An empty database of one provider for one test: a SQLite folder, or a PostgreSQL database.</summary>
public sealed class TestDatabase : IDisposable
{
    private readonly TempFolder folder;

    private TestDatabase(DatabaseSettings settings, TempFolder folder)
    {
        Settings = settings;
        this.folder = folder;
    }

    public DatabaseSettings Settings { get; }

    public DatabaseProvider Provider => Settings.Provider;

    /// <summary>The host's data folder (data protection keys); for SQLite the database files live below it.</summary>
    public string DataFolder => folder.Path;

    public static async Task<TestDatabase> CreateAsync(DatabaseProvider provider, PostgresServer postgres)
    {
        ArgumentNullException.ThrowIfNull(postgres);
        var folder = new TempFolder();
        try
        {
            DatabaseSettings settings;
            switch (provider)
            {
                case DatabaseProvider.Sqlite:
                    settings = DatabaseSettings.Parse(DatabaseSettings.SqlitePrefix + Path.Combine(folder.Path, "db"));
                    Directory.CreateDirectory(settings.Target);
                    break;
                case DatabaseProvider.Postgres:
                    settings = DatabaseSettings.Parse(await postgres.CreateDatabaseAsync());
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(provider), provider, null);
            }

            return new TestDatabase(settings, folder);
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }

    /// <summary>Options for a store, configured as ServiceDatabaseExtensions.AddStore configures them.</summary>
    public DbContextOptions<TContext> Options<TContext>(string schema)
        where TContext : DbContext
    {
        var connectionString = Settings.ConnectionStringFor(schema);
        var builder = new DbContextOptionsBuilder<TContext>();
        return Provider switch
        {
            DatabaseProvider.Sqlite => builder.UseSqlite(connectionString).Options,
            DatabaseProvider.Postgres => builder
                .UseNpgsql(connectionString, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history", schema))
                .Options,
        };
    }

    public PlatformDbContext CreatePlatformContext() => Provider switch
    {
        DatabaseProvider.Sqlite => new SqlitePlatformDbContext(Options<SqlitePlatformDbContext>(PlatformDbContext.SchemaName)),
        DatabaseProvider.Postgres => new PostgresPlatformDbContext(Options<PostgresPlatformDbContext>(PlatformDbContext.SchemaName)),
    };

    public void Dispose() => folder.Dispose();
}
