using Microsoft.EntityFrameworkCore;
using Stratus.Diagnostics.Audit;
using Stratus.Diagnostics.Troubleshooting;
using Stratus.Platform.Persistence;

namespace Stratus.Diagnostics.Persistence;

public abstract class DiagnosticsDbContext(DbContextOptions options, TimeProvider clock) : ServiceDbContext(options, clock)
{
    public const string SchemaName = "diagnostics";

    public override string Schema => SchemaName;

    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();

    public DbSet<TroubleshootResult> TroubleshootResults => Set<TroubleshootResult>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.Entity<AuditEvent>(audit =>
        {
            audit.ToTable("audit_events");
            audit.HasKey(a => a.Id);
            audit.Property(a => a.DisplayName).HasMaxLength(256);
            audit.Property(a => a.Category).HasMaxLength(64);
            audit.Property(a => a.Activity).HasMaxLength(128);
            audit.Property(a => a.ActivityType).HasMaxLength(128);
            audit.Property(a => a.ActivityResult).HasMaxLength(32);
            audit.Property(a => a.ActorUserPrincipalName).HasMaxLength(256);
            audit.Property(a => a.ActorIpAddress).HasMaxLength(64);
            audit.HasIndex(a => new { a.TenantId, a.ActivityDateTime });
            audit.HasIndex(a => a.SourceMessageId).IsUnique();
        });
        modelBuilder.Entity<TroubleshootResult>(result =>
        {
            result.ToTable("troubleshoot_results");
            result.HasKey(r => r.Id);
            result.Property(r => r.OverallStatus).HasMaxLength(16);
            result.Property(r => r.RequestedBy).HasMaxLength(256);
            result.HasIndex(r => new { r.TenantId, r.CloudPcId, r.StartDateTime });
            result.HasIndex(r => r.StartDateTime);
        });
    }
}

public sealed class SqliteDiagnosticsDbContext(DbContextOptions<SqliteDiagnosticsDbContext> options, TimeProvider clock) : DiagnosticsDbContext(options, clock);

public sealed class PostgresDiagnosticsDbContext(DbContextOptions<PostgresDiagnosticsDbContext> options, TimeProvider clock) : DiagnosticsDbContext(options, clock);
