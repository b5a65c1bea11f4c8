using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Stratus.Monitoring.Notifications;
using Stratus.Monitoring.Records;
using Stratus.Monitoring.Rules;
using Stratus.Platform.Persistence;

namespace Stratus.Monitoring.Persistence;

public abstract class MonitoringDbContext(DbContextOptions options, TimeProvider clock) : ServiceDbContext(options, clock)
{
    public const string SchemaName = "monitoring";

    public override string Schema => SchemaName;

    public DbSet<AlertRule> Rules => Set<AlertRule>();

    public DbSet<AlertRecord> Records => Set<AlertRecord>();

    public DbSet<AlertImpact> Impacts => Set<AlertImpact>();

    public DbSet<Notification> Notifications => Set<Notification>();

    public DbSet<DeliveryAttempt> DeliveryAttempts => Set<DeliveryAttempt>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.Entity<AlertRule>(rule =>
        {
            rule.ToTable("alert_rules");
            rule.HasKey(r => r.Id);
            rule.Property(r => r.Template).HasConversion<string>().HasMaxLength(64);
            rule.Property(r => r.Severity).HasConversion<string>().HasMaxLength(16);
            rule.Property(r => r.DisplayName).HasMaxLength(256);
            rule.Property(r => r.EmailRecipients).HasMaxLength(4000);
            rule.Property(r => r.WebhookUrl).HasMaxLength(2048);
            rule.Property(r => r.WebhookSecret).HasMaxLength(256);
            rule.Property(r => r.ConcurrencyStamp).IsConcurrencyToken();
            // One rule per template and scope: the lazy creation of two first reads at once cannot make two.
            rule.HasIndex(r => new { r.Scope, r.Template }).IsUnique();
        });
        modelBuilder.Entity<AlertRecord>(record =>
        {
            record.ToTable("alert_records");
            record.HasKey(r => r.Id);
            record.Property(r => r.Template).HasConversion<string>().HasMaxLength(64);
            record.Property(r => r.Severity).HasConversion<string>().HasMaxLength(16);
            record.Property(r => r.Status).HasConversion<string>().HasMaxLength(16);
            record.Property(r => r.DisplayName).HasMaxLength(256);
            record.Property(r => r.Detail).HasMaxLength(2000);
            record.Property(r => r.ConcurrencyStamp).IsConcurrencyToken();
            record.HasIndex(r => new { r.Scope, r.DetectedAt });
            record.HasIndex(r => new { r.RuleId, r.Status });
        });
        modelBuilder.Entity<AlertImpact>(impact =>
        {
            impact.ToTable("alert_impacts");
            impact.HasKey(i => i.Id);
            impact.Property(i => i.Template).HasConversion<string>().HasMaxLength(64);
            impact.Property(i => i.Subject).HasMaxLength(128);
            impact.Property(i => i.Detail).HasMaxLength(2000);
            impact.HasIndex(i => new { i.Scope, i.Template, i.Subject }).IsUnique();
        });
        modelBuilder.Entity<Notification>(notification =>
        {
            notification.ToTable("notifications");
            notification.HasKey(n => n.Id);
            notification.Property(n => n.Channel).HasConversion<string>().HasMaxLength(16);
            notification.Property(n => n.Status).HasConversion<string>().HasMaxLength(16);
            notification.Property(n => n.Target).HasMaxLength(4000);
            notification.Property(n => n.Subject).HasMaxLength(512);
            notification.Property(n => n.LastError).HasMaxLength(2000);
            notification.HasMany(n => n.AttemptLog).WithOne().HasForeignKey(a => a.NotificationId).OnDelete(DeleteBehavior.Cascade);
            notification.HasIndex(n => new { n.Status, n.NextAttemptAt });
            notification.HasIndex(n => new { n.RuleId, n.CreatedAt });
        });
        modelBuilder.Entity<DeliveryAttempt>(attempt =>
        {
            attempt.ToTable("delivery_attempts");
            attempt.HasKey(a => a.Id);
            attempt.Property(a => a.Detail).HasMaxLength(2000);
        });
    }
}

public sealed class SqliteMonitoringDbContext(DbContextOptions<SqliteMonitoringDbContext> options, TimeProvider clock) : MonitoringDbContext(options, clock);

public sealed class PostgresMonitoringDbContext(DbContextOptions<PostgresMonitoringDbContext> options, TimeProvider clock) : MonitoringDbContext(options, clock);

internal sealed class SqliteMonitoringDesignTimeFactory : IDesignTimeDbContextFactory<SqliteMonitoringDbContext>
{
    public SqliteMonitoringDbContext CreateDbContext(string[] args) => new(DesignTime.Sqlite<SqliteMonitoringDbContext>(), TimeProvider.System);
}

internal sealed class PostgresMonitoringDesignTimeFactory : IDesignTimeDbContextFactory<PostgresMonitoringDbContext>
{
    public PostgresMonitoringDbContext CreateDbContext(string[] args) => new(DesignTime.Postgres<PostgresMonitoringDbContext>(MonitoringDbContext.SchemaName), TimeProvider.System);
}
