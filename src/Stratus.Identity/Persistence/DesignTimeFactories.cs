using Microsoft.EntityFrameworkCore.Design;
using Stratus.Platform.Persistence;

namespace Stratus.Identity.Persistence;

internal sealed class SqliteIdentityDesignTimeFactory : IDesignTimeDbContextFactory<SqliteIdentityDbContext>
{
    public SqliteIdentityDbContext CreateDbContext(string[] args) => new(DesignTime.Sqlite<SqliteIdentityDbContext>(), TimeProvider.System);
}

internal sealed class PostgresIdentityDesignTimeFactory : IDesignTimeDbContextFactory<PostgresIdentityDbContext>
{
    public PostgresIdentityDbContext CreateDbContext(string[] args) => new(DesignTime.Postgres<PostgresIdentityDbContext>(IdentityDbContext.SchemaName), TimeProvider.System);
}
