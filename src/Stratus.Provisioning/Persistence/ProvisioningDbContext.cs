using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Stratus.Platform.Persistence;
using Stratus.Provisioning.CloudPcs;
using Stratus.Provisioning.Directory;
using Stratus.Provisioning.Policies;

namespace Stratus.Provisioning.Persistence;

public abstract class ProvisioningDbContext(DbContextOptions options, TimeProvider clock) : ServiceDbContext(options, clock)
{
    public const string SchemaName = "provisioning";

    public override string Schema => SchemaName;

    public DbSet<ProvisioningPolicy> Policies => Set<ProvisioningPolicy>();

    public DbSet<PolicyAssignment> Assignments => Set<PolicyAssignment>();

    public DbSet<DirectoryUser> Users => Set<DirectoryUser>();

    public DbSet<DirectoryMembership> Memberships => Set<DirectoryMembership>();

    public DbSet<DirectoryLicense> Licenses => Set<DirectoryLicense>();

    public DbSet<PlanCopy> Plans => Set<PlanCopy>();

    public DbSet<CloudPc> CloudPcs => Set<CloudPc>();

    public DbSet<CloudPcOperation> Operations => Set<CloudPcOperation>();

    public DbSet<Settings.UserSetting> UserSettings => Set<Settings.UserSetting>();

    public DbSet<Settings.UserSettingAssignment> UserSettingAssignments => Set<Settings.UserSettingAssignment>();

    public DbSet<RestorePoints.RestorePoint> RestorePoints => Set<RestorePoints.RestorePoint>();

    public DbSet<Network.NetworkMove> NetworkMoves => Set<Network.NetworkMove>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.Entity<ProvisioningPolicy>(policy =>
        {
            policy.ToTable("policies");
            policy.HasKey(p => p.Id);
            policy.Property(p => p.DisplayName).HasMaxLength(256);
            policy.Property(p => p.Description).HasMaxLength(1024);
            policy.Property(p => p.ImageId).HasMaxLength(128);
            policy.Property(p => p.ImageType).HasConversion<string>().HasMaxLength(16);
            policy.Property(p => p.ImageDisplayName).HasMaxLength(256);
            policy.Property(p => p.CloudPcNamingTemplate).HasMaxLength(64);
            policy.PrimitiveCollection(p => p.RegionNames);
            policy.PrimitiveCollection(p => p.NetworkConnectionIds);
            policy.HasIndex(p => new { p.TenantId, p.DisplayName }).IsUnique();
        });
        modelBuilder.Entity<Settings.UserSetting>(setting =>
        {
            setting.ToTable("user_settings");
            setting.HasKey(s => s.Id);
            setting.Property(s => s.DisplayName).HasMaxLength(128);
            setting.Property(s => s.RestorePointFrequency).HasConversion<string>().HasMaxLength(32);
            setting.Property(s => s.DisasterRecoveryType).HasConversion<string>().HasMaxLength(32);
            setting.Property(s => s.BackupRegionName).HasMaxLength(64);
            setting.HasIndex(s => new { s.TenantId, s.DisplayName }).IsUnique();
        });
        modelBuilder.Entity<Settings.UserSettingAssignment>(assignment =>
        {
            assignment.ToTable("user_setting_assignments");
            assignment.HasKey(a => a.Id);
            assignment.HasIndex(a => new { a.TenantId, a.GroupId });
            assignment.HasIndex(a => new { a.UserSettingId, a.GroupId }).IsUnique();
        });
        modelBuilder.Entity<RestorePoints.RestorePoint>(point =>
        {
            point.ToTable("restore_points");
            point.HasKey(r => r.Id);
            point.Ignore(r => r.SnapshotName);
            point.Property(r => r.Type).HasConversion<string>().HasMaxLength(16);
            point.Property(r => r.Retention).HasConversion<string>().HasMaxLength(16);
            point.Property(r => r.Status).HasConversion<string>().HasMaxLength(16);
            point.Property(r => r.ExportedTo).HasMaxLength(1024);
            point.Property(r => r.FailureReason).HasMaxLength(4096);
            point.Property(r => r.Version).IsConcurrencyToken();
            // A slot is taken once, whichever instance or retry gets there first.
            point.HasIndex(r => new { r.CloudPcId, r.ScheduledFor }).IsUnique();
            point.HasIndex(r => r.DeleteOperationId);
            point.HasIndex(r => new { r.Status, r.ExpiresAt });
        });
        modelBuilder.Entity<PolicyAssignment>(assignment =>
        {
            assignment.ToTable("policy_assignments");
            assignment.HasKey(a => a.Id);
            assignment.HasIndex(a => new { a.PolicyId, a.GroupId, a.ServicePlanId }).IsUnique();
            assignment.HasIndex(a => a.TenantId);
        });
        modelBuilder.Entity<DirectoryUser>(user =>
        {
            user.ToTable("directory_users");
            user.HasKey(u => u.UserId);
            user.Property(u => u.UserPrincipalName).HasMaxLength(256);
            user.Property(u => u.DisplayName).HasMaxLength(256);
            user.HasIndex(u => u.TenantId);
        });
        modelBuilder.Entity<DirectoryMembership>(membership =>
        {
            membership.ToTable("directory_memberships");
            membership.HasKey(m => new { m.UserId, m.GroupId });
            membership.HasIndex(m => new { m.TenantId, m.GroupId });
        });
        modelBuilder.Entity<DirectoryLicense>(license =>
        {
            license.ToTable("directory_licenses");
            license.HasKey(l => new { l.UserId, l.ServicePlanId });
            license.HasIndex(l => l.TenantId);
        });
        modelBuilder.Entity<PlanCopy>(plan =>
        {
            plan.ToTable("plans");
            plan.HasKey(p => p.Id);
            plan.Property(p => p.DisplayName).HasMaxLength(256);
        });
        modelBuilder.Entity<CloudPc>(pc =>
        {
            pc.ToTable("cloud_pcs");
            pc.HasKey(p => p.Id);
            pc.Property(p => p.UserPrincipalName).HasMaxLength(256);
            pc.Property(p => p.DisplayName).HasMaxLength(256);
            pc.Property(p => p.ManagedDeviceName).HasMaxLength(32);
            pc.Property(p => p.ProvisioningPolicyName).HasMaxLength(256);
            pc.Property(p => p.ServicePlanName).HasMaxLength(256);
            pc.Property(p => p.ImageId).HasMaxLength(128);
            pc.Property(p => p.ImageDisplayName).HasMaxLength(256);
            pc.Property(p => p.RegionName).HasMaxLength(64);
            pc.Property(p => p.HostName).HasMaxLength(128);
            pc.Property(p => p.VmDetail).HasMaxLength(4096);
            pc.Property(p => p.Status).HasConversion<string>().HasMaxLength(32);
            pc.Property(p => p.PowerState).HasConversion<string>().HasMaxLength(16);
            pc.Property(p => p.Step).HasConversion<string>().HasMaxLength(16);
            pc.Property(p => p.DisasterRecoveryState).HasConversion<string>().HasMaxLength(32);
            pc.Property(p => p.PendingHostName).HasMaxLength(128);
            pc.Property(p => p.DisasterRecoveryRegionName).HasMaxLength(64);
            pc.Property(p => p.BackupRegionName).HasMaxLength(64);
            pc.Property(p => p.DiskCopyWarning).HasMaxLength(1024);
            pc.Property(p => p.DiskCopyWarningRegion).HasMaxLength(64);
            pc.Property(p => p.DisasterRecoveryChangedBy).HasMaxLength(256);
            pc.Property(p => p.StatusDetailCode).HasMaxLength(64);
            pc.Property(p => p.StatusDetailMessage).HasMaxLength(4096);
            pc.Property(p => p.NetworkConnectionName).HasMaxLength(256);
            pc.Property(p => p.IpAddress).HasMaxLength(64);
            pc.HasIndex(p => new { p.TenantId, p.NetworkConnectionId });
            pc.Property(p => p.Version).IsConcurrencyToken();

            // One Cloud PC per user and plan, whatever races: a second insert fails and its handler retries.
            pc.HasIndex(p => new { p.UserId, p.ServicePlanId }).IsUnique();
            pc.HasIndex(p => p.VmId).IsUnique();
            pc.HasIndex(p => p.PendingVmId);
            pc.HasIndex(p => new { p.TenantId, p.Status });
            pc.HasIndex(p => new { p.Status, p.NextRestorePointAt });
        });
        modelBuilder.Entity<Network.NetworkMove>(move =>
        {
            move.ToTable("network_moves");
            move.HasKey(m => m.Id);
            move.PrimitiveCollection(m => m.CloudPcIds);
            move.Property(m => m.CurrentTargetName).HasMaxLength(256);
            move.Property(m => m.Reason).HasMaxLength(1024);
            move.Property(m => m.RequestedBy).HasMaxLength(256);
            move.Property(m => m.Version).IsConcurrencyToken();
            move.HasIndex(m => m.CurrentOperationId);
            move.HasIndex(m => new { m.TenantId, m.FromConnectionId });
        });
        modelBuilder.Entity<CloudPcOperation>(operation =>
        {
            operation.ToTable("cloud_pc_operations");
            operation.HasKey(o => o.Id);
            operation.Property(o => o.Action).HasMaxLength(32);
            operation.Property(o => o.Status).HasConversion<string>().HasMaxLength(16);
            operation.Property(o => o.Detail).HasMaxLength(4096);
            operation.Property(o => o.IdempotencyKey).HasMaxLength(128);
            operation.Property(o => o.RequestedBy).HasMaxLength(256);
            operation.HasIndex(o => new { o.TenantId, o.IdempotencyKey }).IsUnique();
            operation.HasIndex(o => o.CloudPcId);
        });
    }
}

public sealed class SqliteProvisioningDbContext(DbContextOptions<SqliteProvisioningDbContext> options, TimeProvider clock) : ProvisioningDbContext(options, clock);

public sealed class PostgresProvisioningDbContext(DbContextOptions<PostgresProvisioningDbContext> options, TimeProvider clock) : ProvisioningDbContext(options, clock);

internal sealed class SqliteProvisioningDesignTimeFactory : IDesignTimeDbContextFactory<SqliteProvisioningDbContext>
{
    public SqliteProvisioningDbContext CreateDbContext(string[] args) => new(DesignTime.Sqlite<SqliteProvisioningDbContext>(), TimeProvider.System);
}

internal sealed class PostgresProvisioningDesignTimeFactory : IDesignTimeDbContextFactory<PostgresProvisioningDbContext>
{
    public PostgresProvisioningDbContext CreateDbContext(string[] args) => new(DesignTime.Postgres<PostgresProvisioningDbContext>(ProvisioningDbContext.SchemaName), TimeProvider.System);
}
