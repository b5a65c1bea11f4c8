using Microsoft.EntityFrameworkCore;
using Stratus.Identity.Accounts;
using Stratus.Identity.Groups;
using Stratus.Identity.Licensing;
using Stratus.Identity.Persistence;
using Stratus.Identity.Tenants;
using Stratus.Platform.Audit;

namespace Stratus.Identity.Sync;

/// <summary>
/// The one way to change a tenant's directory: the API, SCIM and the LDAP sync all go through it, so
/// that every change commits with its event (numbered in the tenant's sequence) and its audit record, in
/// one transaction.
/// </summary>
public sealed class DirectoryWriter(IdentityDbContext db, TimeProvider clock)
{
    private const int MaxAttempts = 5;

    public IdentityDbContext Db => db;

    public TimeProvider Clock => clock;

    /// <summary>
    /// Runs a change of one tenant and commits it. When another change of the same tenant committed first
    /// (the sequence token moved), the change runs again on fresh data, up to five times.
    /// </summary>
    public async Task<T> ChangeAsync<T>(Guid tenantId, Func<TenantChange, Task<T>> change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        for (var attempt = 1; ; attempt++)
        {
            db.ChangeTracker.Clear();

            // Changes of one tenant run one at a time: on PostgreSQL the tenant's row is locked for the
            // transaction; SQLite's transactions take the write lock when they begin. The sequence token
            // stays as the guard should either ever be bypassed.
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var tenant = await LockTenantAsync(tenantId, cancellationToken)
                ?? throw new InvalidOperationException($"Tenant {tenantId} does not exist.");
            var context = new TenantChange(db, tenant, clock);
            var result = await change(context);
            if (!context.Commit)
            {
                db.ChangeTracker.Clear();
                await transaction.RollbackAsync(cancellationToken);
                if (context.FailureAudit is { } failure)
                {
                    // The refusal itself is on record: who tried what, and why it failed.
                    db.Audit(clock, tenantId, failure.Actor, "user", failure.ActivityType, failure.DisplayName, false, failure.Resources);
                    await db.SaveChangesAsync(cancellationToken);
                }

                return result;
            }

            try
            {
                await db.SaveChangesAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return result;
            }
            catch (DbUpdateConcurrencyException) when (attempt < MaxAttempts)
            {
                // Another change of this tenant took the next sequence number first; run again.
                await transaction.RollbackAsync(cancellationToken);
            }
        }
    }

    private Task<Tenant?> LockTenantAsync(Guid tenantId, CancellationToken cancellationToken) =>
        db.Database.IsNpgsql()
            ? db.Tenants.FromSql($"SELECT * FROM identity.tenants WHERE \"Id\" = {tenantId} FOR UPDATE").FirstOrDefaultAsync(cancellationToken)
            : db.Tenants.FirstOrDefaultAsync(t => t.Id == tenantId, cancellationToken);
}

/// <summary>One change in progress: publish events and audit records into it, or refuse it.</summary>
public sealed class TenantChange(IdentityDbContext db, Tenant tenant, TimeProvider clock)
{
    public IdentityDbContext Db => db;

    public Tenant Tenant => tenant;

    public DateTimeOffset Now { get; } = clock.GetUtcNow();

    /// <summary>False when the change was refused: nothing is saved.</summary>
    public bool Commit { get; private set; } = true;

    public void Refuse() => Commit = false;

    /// <summary>Refuses the change and records the failed attempt in the audit log.</summary>
    public void Fail(AuditActor actor, string activityType, string displayName, params AuditResource[] resources)
    {
        Commit = false;
        FailureAudit = new RefusedChange(actor, activityType, displayName, resources);
    }

    internal RefusedChange? FailureAudit { get; private set; }

    internal sealed record RefusedChange(AuditActor Actor, string ActivityType, string DisplayName, AuditResource[] Resources);

    /// <summary>The next number in the tenant's sequence, for the next event.</summary>
    public long NextSequence() => tenant.NextSequence();

    public void Publish<TEvent>(TEvent message)
        where TEvent : notnull => db.Publish(message);

    public void Audit(AuditActor actor, string activityType, string displayName, params AuditResource[] resources) =>
        db.Audit(clock, tenant.Id, actor, "user", activityType, displayName, true, resources);

    public void UserCreated(Account user) =>
        Publish(new UserCreated(tenant.Id, NextSequence(), Now, user.Id, user.UserName, user.Enabled));

    public void UserUpdated(Account user) =>
        Publish(new UserUpdated(tenant.Id, NextSequence(), Now, user.Id, user.UserName, user.DisplayName, user.Enabled));

    public void UserDisabled(Account user) => Publish(new UserDisabled(tenant.Id, NextSequence(), Now, user.Id));

    public void UserDeleted(Guid userId) => Publish(new UserDeleted(tenant.Id, NextSequence(), Now, userId));

    public void MemberAdded(Guid groupId, Guid userId) => Publish(new GroupMemberAdded(tenant.Id, NextSequence(), Now, groupId, userId));

    public void MemberRemoved(Guid groupId, Guid userId) => Publish(new GroupMemberRemoved(tenant.Id, NextSequence(), Now, groupId, userId));

    public void GroupDeleted(Group group, IReadOnlyList<Guid> formerMembers) =>
        Publish(new GroupDeleted(tenant.Id, NextSequence(), Now, group.Id, formerMembers));

    public void LicenseAssigned(Guid userId, Guid skuId) => Publish(new LicenseAssigned(tenant.Id, NextSequence(), Now, userId, skuId));

    public void LicenseRemoved(Guid userId, Guid skuId) => Publish(new LicenseRemoved(tenant.Id, NextSequence(), Now, userId, skuId));

    public static AuditResource Resource(Account user) => new(user.Id.ToString(), "user", user.UserName);

    public static AuditResource Resource(Group group) => new(group.Id.ToString(), "group", group.DisplayName);

    public static AuditResource Resource(ServicePlan plan) => new(plan.Id.ToString(), "servicePlan", plan.DisplayName);
}
