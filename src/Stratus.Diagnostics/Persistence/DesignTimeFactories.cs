using Microsoft.EntityFrameworkCore.Design;
using Stratus.Platform.Persistence;

namespace Stratus.Diagnostics.Persistence;

internal sealed class SqliteDiagnosticsDesignTimeFactory : IDesignTimeDbContextFactory<SqliteDiagnosticsDbContext>
{
    public SqliteDiagnosticsDbContext CreateDbContext(string[] args) => new(DesignTime.Sqlite<SqliteDiagnosticsDbContext>(), TimeProvider.System);
}

internal sealed class PostgresDiagnosticsDesignTimeFactory : IDesignTimeDbContextFactory<PostgresDiagnosticsDbContext>
{
    public PostgresDiagnosticsDbContext CreateDbContext(string[] args) => new(DesignTime.Postgres<PostgresDiagnosticsDbContext>(DiagnosticsDbContext.SchemaName), TimeProvider.System);
}
