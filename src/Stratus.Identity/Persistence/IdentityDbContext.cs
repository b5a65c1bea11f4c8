using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Stratus.Identity.Accounts;
using Stratus.Identity.Auth;
using Stratus.Identity.Groups;
using Stratus.Identity.Ldap;
using Stratus.Identity.Licensing;
using Stratus.Identity.Tenants;
using Stratus.Platform.Persistence;

namespace Stratus.Identity.Persistence;

public abstract class IdentityDbContext(DbContextOptions options, TimeProvider clock) : ServiceDbContext(options, clock), IDataProtectionKeyContext
{
    public const string SchemaName = "identity";

    public override string Schema => SchemaName;

    public DbSet<Account> Accounts => Set<Account>();

    public DbSet<SignInAttempt> SignInAttempts => Set<SignInAttempt>();

    public DbSet<Tenant> Tenants => Set<Tenant>();

    public DbSet<Group> Groups => Set<Group>();

    public DbSet<GroupMember> GroupMembers => Set<GroupMember>();

    public DbSet<ServicePlan> ServicePlans => Set<ServicePlan>();

    public DbSet<SubscribedSku> SubscribedSkus => Set<SubscribedSku>();

    public DbSet<LicenseAssignment> LicenseAssignments => Set<LicenseAssignment>();

    public DbSet<LdapConfiguration> LdapConfigurations => Set<LdapConfiguration>();

    public DbSet<LdapSyncStatus> LdapSyncStatuses => Set<LdapSyncStatus>();

    /// <summary>Identity's data protection key ring, each key sealed with the master key (Keys/IdentitySecrets).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<RevocationRecord> Revocations => Set<RevocationRecord>();

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        RecordRevocationsAsync(CancellationToken.None).GetAwaiter().GetResult();
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    public override async Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        await RecordRevocationsAsync(cancellationToken);
        return await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    /// <summary>A change that must end credentials already issued revokes them in its own transaction (ADR 0011).</summary>
    private Task RecordRevocationsAsync(CancellationToken cancellationToken)
    {
        var revoked = RevocationRecorder.Revoked(ChangeTracker);
        return revoked.Count == 0 ? Task.CompletedTask : RevocationRecorder.RecordAsync(this, revoked, Clock.GetUtcNow(), cancellationToken);
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.Entity<Account>(account =>
        {
            account.ToTable("accounts");
            account.HasKey(a => a.Id);
            account.Property(a => a.UserName).HasMaxLength(256);
            account.Property(a => a.NormalizedUserName).HasMaxLength(256);
            account.HasIndex(a => a.NormalizedUserName).IsUnique();
            account.Property(a => a.DisplayName).HasMaxLength(256);
            account.Property(a => a.GivenName).HasMaxLength(64);
            account.Property(a => a.Surname).HasMaxLength(64);
            account.Property(a => a.Mail).HasMaxLength(256);
            account.Property(a => a.ExternalId).HasMaxLength(512);
            account.Property(a => a.Source).HasConversion<string>().HasMaxLength(16);
            account.HasIndex(a => a.TenantId);
            account.HasIndex(a => new { a.TenantId, a.ExternalId });
        });
        modelBuilder.Entity<Tenant>(tenant =>
        {
            tenant.ToTable("tenants");
            tenant.HasKey(t => t.Id);
            tenant.Property(t => t.DisplayName).HasMaxLength(256);
            tenant.Property(t => t.Domain).HasMaxLength(253);
            tenant.HasIndex(t => t.Domain).IsUnique();
            tenant.Property(t => t.State).HasConversion<string>().HasMaxLength(16);
            tenant.Property(t => t.LastSequence).IsConcurrencyToken();
            tenant.Property(t => t.ScimTokenHash).HasMaxLength(64);
            tenant.HasIndex(t => t.ScimTokenHash).IsUnique();
        });
        modelBuilder.Entity<Group>(group =>
        {
            group.ToTable("groups");
            group.HasKey(g => g.Id);
            group.Property(g => g.DisplayName).HasMaxLength(256);
            group.Property(g => g.Description).HasMaxLength(1024);
            group.Property(g => g.ExternalId).HasMaxLength(512);
            group.Property(g => g.Source).HasConversion<string>().HasMaxLength(16);
            group.HasIndex(g => new { g.TenantId, g.DisplayName });
            group.HasIndex(g => new { g.TenantId, g.ExternalId });
        });
        modelBuilder.Entity<GroupMember>(member =>
        {
            member.ToTable("group_members");
            member.HasKey(m => new { m.GroupId, m.UserId });
            member.HasIndex(m => new { m.TenantId, m.UserId });
        });
        modelBuilder.Entity<ServicePlan>(plan =>
        {
            plan.ToTable("service_plans");
            plan.HasKey(p => p.Id);
            plan.Property(p => p.DisplayName).HasMaxLength(256);
            plan.HasIndex(p => p.DisplayName).IsUnique();
        });
        modelBuilder.Entity<SubscribedSku>(sku =>
        {
            sku.ToTable("subscribed_skus");
            sku.HasKey(s => new { s.TenantId, s.ServicePlanId });
        });
        modelBuilder.Entity<LicenseAssignment>(license =>
        {
            license.ToTable("license_assignments");
            license.HasKey(l => new { l.UserId, l.ServicePlanId });
            license.HasIndex(l => new { l.TenantId, l.ServicePlanId });
        });
        modelBuilder.Entity<SignInAttempt>(attempt =>
        {
            attempt.ToTable("sign_in_attempts");
            attempt.HasKey(a => a.Id);
            attempt.Property(a => a.NormalizedUserName).HasMaxLength(256);
            attempt.Property(a => a.RemoteAddress).HasMaxLength(64);
            attempt.Property(a => a.Outcome).HasConversion<string>().HasMaxLength(32);
            attempt.HasIndex(a => new { a.NormalizedUserName, a.At });
            attempt.HasIndex(a => new { a.RemoteAddress, a.At });
        });
        modelBuilder.Entity<RevocationRecord>(revocation =>
        {
            revocation.ToTable("credential_revocations");
            revocation.HasKey(r => new { r.Subject, r.SubjectId });
            revocation.Property(r => r.Subject).HasConversion<string>().HasMaxLength(16);
            revocation.HasIndex(r => r.RecordedAt);
        });
        modelBuilder.Entity<LdapConfiguration>(ldap =>
        {
            ldap.ToTable("ldap_configurations");
            ldap.HasKey(c => c.TenantId);
            ldap.HasOne<Tenant>().WithOne().HasForeignKey<LdapConfiguration>(c => c.TenantId).OnDelete(DeleteBehavior.Cascade);
            ldap.Property(c => c.Url).HasMaxLength(512);
            ldap.Property(c => c.BindDn).HasMaxLength(1024);
            ldap.Property(c => c.UserFilter).HasMaxLength(4096);
            ldap.Property(c => c.GroupFilter).HasMaxLength(4096);
            ldap.Property(c => c.UserNameAttribute).HasMaxLength(128);
            ldap.Property(c => c.DisplayNameAttribute).HasMaxLength(128);
            ldap.Property(c => c.GivenNameAttribute).HasMaxLength(128);
            ldap.Property(c => c.SurnameAttribute).HasMaxLength(128);
            ldap.Property(c => c.MailAttribute).HasMaxLength(128);
            ldap.Property(c => c.GroupNameAttribute).HasMaxLength(128);
            ldap.Property(c => c.MemberAttribute).HasMaxLength(128);
            ldap.Property(c => c.ExternalIdAttribute).HasMaxLength(128);
            ldap.HasIndex(c => c.NextSyncAt);
        });
        modelBuilder.Entity<LdapSyncStatus>(status =>
        {
            status.ToTable("ldap_sync_status");
            status.HasKey(s => s.TenantId);
            status.HasOne<Tenant>().WithOne().HasForeignKey<LdapSyncStatus>(s => s.TenantId).OnDelete(DeleteBehavior.Cascade);
            status.Property(s => s.Trigger).HasConversion<string>().HasMaxLength(16);
            status.Property(s => s.Error).HasMaxLength(64);
            status.Property(s => s.Reason).HasMaxLength(2048);
        });
    }
}

public sealed class SqliteIdentityDbContext(DbContextOptions<SqliteIdentityDbContext> options, TimeProvider clock) : IdentityDbContext(options, clock);

public sealed class PostgresIdentityDbContext(DbContextOptions<PostgresIdentityDbContext> options, TimeProvider clock) : IdentityDbContext(options, clock);
