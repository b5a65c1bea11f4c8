using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Stratus.Gateway.Connect;
using Stratus.Gateway.History;
using Stratus.Platform.Persistence;

namespace Stratus.Gateway.Persistence;

public abstract class GatewayDbContext(DbContextOptions options, TimeProvider clock) : ServiceDbContext(options, clock)
{
    public const string SchemaName = "gateway";

    public override string Schema => SchemaName;

    public DbSet<ConnectToken> ConnectTokens => Set<ConnectToken>();

    public DbSet<ConsoleSession> Sessions => Set<ConsoleSession>();

    public DbSet<RoundTripSample> RoundTripSamples => Set<RoundTripSample>();

    public DbSet<ConnectionRefusal> ConnectionRefusals => Set<ConnectionRefusal>();

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
            session.Property(s => s.EndedBy).HasConversion<string>().HasMaxLength(32);
            session.Property(s => s.GatewayInstance).HasMaxLength(128);
            session.Property(s => s.GatewayZone).HasMaxLength(128);
            session.HasIndex(s => new { s.TenantId, s.CloudPcId });
            session.HasIndex(s => new { s.TenantId, s.StartedAt });
        });
        modelBuilder.Entity<RoundTripSample>(sample =>
        {
            sample.ToTable("round_trip_samples");
            sample.HasKey(s => s.Id);

            // One sample per probe: an echo sent twice is refused, not counted twice.
            sample.HasIndex(s => new { s.SessionId, s.SentAt }).IsUnique();
        });
        modelBuilder.Entity<ConnectionRefusal>(refusal =>
        {
            refusal.ToTable("connection_refusals");
            refusal.HasKey(r => r.Id);
            refusal.Property(r => r.UserName).HasMaxLength(256);
            refusal.Property(r => r.Reason).HasMaxLength(64);
            refusal.Property(r => r.Detail).HasMaxLength(1000);
            refusal.Property(r => r.GatewayInstance).HasMaxLength(128);
            refusal.Property(r => r.GatewayZone).HasMaxLength(128);
            refusal.HasIndex(r => new { r.TenantId, r.CloudPcId, r.At });
            refusal.HasIndex(r => r.At);
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
