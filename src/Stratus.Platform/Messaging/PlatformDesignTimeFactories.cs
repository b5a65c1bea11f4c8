using Microsoft.EntityFrameworkCore.Design;
using Stratus.Platform.Persistence;

namespace Stratus.Platform.Messaging;

internal sealed class SqlitePlatformDesignTimeFactory : IDesignTimeDbContextFactory<SqlitePlatformDbContext>
{
    public SqlitePlatformDbContext CreateDbContext(string[] args) => new(DesignTime.Sqlite<SqlitePlatformDbContext>());
}

internal sealed class PostgresPlatformDesignTimeFactory : IDesignTimeDbContextFactory<PostgresPlatformDbContext>
{
    public PostgresPlatformDbContext CreateDbContext(string[] args) => new(DesignTime.Postgres<PostgresPlatformDbContext>(PlatformDbContext.SchemaName));
}
