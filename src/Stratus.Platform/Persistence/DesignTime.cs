using Microsoft.EntityFrameworkCore;

namespace Stratus.Platform.Persistence;

/// <summary>
/// Options for `dotnet ef` at design time (scripts/add-migration.sh). The connection strings are never
/// opened: adding a migration only compares the model with the last snapshot.
/// </summary>
public static class DesignTime
{
    public static DbContextOptions<TContext> Sqlite<TContext>()
        where TContext : DbContext =>
        new DbContextOptionsBuilder<TContext>().UseSqlite("Data Source=design-time.db").Options;

    public static DbContextOptions<TContext> Postgres<TContext>(string schema)
        where TContext : DbContext =>
        new DbContextOptionsBuilder<TContext>()
            .UseNpgsql("Host=localhost;Database=design_time", npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history", schema))
            .Options;
}
