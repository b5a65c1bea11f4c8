using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Stratus.Gateway.Connect;
using Stratus.Platform.Persistence;

namespace Stratus.Gateway.Persistence;

public abstract class GatewayDbContext(DbContextOptions options, TimeProvider clock) : ServiceDbContext(options, clock)
{
    public const string SchemaName = "gateway";

    public override string Schema => SchemaName;

    public DbSet<ConnectToken> ConnectTokens => Set<ConnectToken>();

    public DbSet<ConsoleSession> Sessions => Set<ConsoleSession>();

    public DbSet<RoundTripSample> RoundTripSamples => Set<RoundTripSample>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.Entity<ConnectToken>(token =>
        {
            token.ToTable("connect_tokens");
            token.HasKey(t => t.Id);
            token.Property(t => t.TokenHash).HasMaxLength(64);
            token.Property(t => t.UserName).HasMaxLength(256);
            token.Property(t => t.CloudPcName).HasMaxLength(256);
            token.Property(t => t.CloudPcUserPrincipalName).HasMaxLength(256);
            token.Property(t => t.SealedRelayToken).HasMaxLength(4096);
            token.HasIndex(t => t.TokenHash).IsUnique();
        });
        modelBuilder.Entity<ConsoleSession>(session =>
        {
            session.ToTable("sessions");
            session.HasKey(s => s.Id);
            session.Property(s => s.UserName).HasMaxLength(256);
            session.Property(s => s.EndReason).HasMaxLength(256);
            session.Property(s => s.CloudPcUserPrincipalName).HasMaxLength(256);
            session.HasIndex(s => new { s.TenantId, s.CloudPcId });
        });
        modelBuilder.Entity<RoundTripSample>(sample =>
        {
            sample.ToTable("round_trip_samples");
            sample.HasKey(s => s.Id);

            // One sample per probe: an echo sent twice is refused, not counted twice.
            sample.HasIndex(s => new { s.SessionId, s.SentAt }).IsUnique();
        });
    }
}

public sealed class SqliteGatewayDbContext(DbContextOptions<SqliteGatewayDbContext> options, TimeProvider clock) : GatewayDbContext(options, clock);

public sealed class PostgresGatewayDbContext(DbContextOptions<PostgresGatewayDbContext> options, TimeProvider clock) : GatewayDbContext(options, clock);

internal sealed class SqliteGatewayDesignTimeFactory : IDesignTimeDbContextFactory<SqliteGatewayDbContext>
{
    public SqliteGatewayDbContext CreateDbContext(string[] args) => new(DesignTime.Sqlite<SqliteGatewayDbContext>(), TimeProvider.System);
}

internal sealed class PostgresGatewayDesignTimeFactory : IDesignTimeDbContextFactory<PostgresGatewayDbContext>
{
    public PostgresGatewayDbContext CreateDbContext(string[] args) => new(DesignTime.Postgres<PostgresGatewayDbContext>(GatewayDbContext.SchemaName), TimeProvider.System);
}
