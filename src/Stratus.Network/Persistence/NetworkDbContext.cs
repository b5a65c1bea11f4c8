using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Stratus.Network.Connections;
using Stratus.Network.HealthChecks;
using Stratus.Platform.Persistence;

namespace Stratus.Network.Persistence;

public abstract class NetworkDbContext(DbContextOptions options, TimeProvider clock) : ServiceDbContext(options, clock)
{
    public const string SchemaName = "network";

    public override string Schema => SchemaName;

    public DbSet<NetworkConnection> Connections => Set<NetworkConnection>();

    public DbSet<HealthCheckRun> HealthCheckRuns => Set<HealthCheckRun>();

    public DbSet<TenantConnectionsGuard> TenantGuards => Set<TenantConnectionsGuard>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.Entity<NetworkConnection>(connection =>
        {
            connection.ToTable("connections");
            connection.HasKey(c => c.Id);
            connection.Property(c => c.DisplayName).HasMaxLength(256);
            connection.Property(c => c.Region).HasMaxLength(128);
            connection.Property(c => c.Subnet).HasMaxLength(64);
            connection.Property(c => c.Gateway).HasMaxLength(64);
            connection.Property(c => c.UplinkKind).HasConversion<string>().HasMaxLength(16);
            connection.Property(c => c.UplinkInterface).HasMaxLength(16);
            connection.Property(c => c.VxlanRemote).HasMaxLength(64);
            connection.Property(c => c.DnsSearchDomain).HasMaxLength(253);
            connection.Property(c => c.HealthCheckStatus).HasConversion<string>().HasMaxLength(16);
            connection.Property(c => c.LastCompletedStatus).HasConversion<string>().HasMaxLength(16);
            connection.Property(c => c.ConcurrencyStamp).IsConcurrencyToken();
            connection.HasIndex(c => new { c.TenantId, c.CreatedAt });
            connection.HasIndex(c => c.LastRunRequestedAt);
        });
        modelBuilder.Entity<HealthCheckRun>(run =>
        {
            run.ToTable("health_check_runs");
            run.HasKey(r => r.Id);
            run.Property(r => r.RequestedBy).HasMaxLength(256);
            run.Property(r => r.Status).HasConversion<string>().HasMaxLength(16);
            run.Property(r => r.ConcurrencyStamp).IsConcurrencyToken();
            run.HasIndex(r => new { r.ConnectionId, r.RequestedAt });
            run.HasIndex(r => new { r.Status, r.Deadline });
            run.HasIndex(r => r.RequestedAt);
        });
        modelBuilder.Entity<TenantConnectionsGuard>(guard =>
        {
            guard.ToTable("tenant_guards");
            guard.HasKey(g => g.TenantId);
            guard.Property(g => g.Version).IsConcurrencyToken();
        });
    }
}

public sealed class SqliteNetworkDbContext(DbContextOptions<SqliteNetworkDbContext> options, TimeProvider clock) : NetworkDbContext(options, clock);

public sealed class PostgresNetworkDbContext(DbContextOptions<PostgresNetworkDbContext> options, TimeProvider clock) : NetworkDbContext(options, clock);

internal sealed class SqliteNetworkDesignTimeFactory : IDesignTimeDbContextFactory<SqliteNetworkDbContext>
{
    public SqliteNetworkDbContext CreateDbContext(string[] args) => new(DesignTime.Sqlite<SqliteNetworkDbContext>(), TimeProvider.System);
}

internal sealed class PostgresNetworkDesignTimeFactory : IDesignTimeDbContextFactory<PostgresNetworkDbContext>
{
    public PostgresNetworkDbContext CreateDbContext(string[] args) => new(DesignTime.Postgres<PostgresNetworkDbContext>(NetworkDbContext.SchemaName), TimeProvider.System);
}
