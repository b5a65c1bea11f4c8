using Microsoft.EntityFrameworkCore;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;
using Stratus.Provisioning.CloudPcs;
using Stratus.Provisioning.Persistence;
using Stratus.Provisioning.Settings;

namespace Stratus.Provisioning.Directory;

/// <summary>
/// Applies one directory event to provisioning's copy, then evaluates the users it touches, in one transaction
/// with the inbox mark: a redelivered event changes nothing, and an older event never overwrites a newer row.
/// </summary>
internal sealed class DirectoryEventHandler(ProvisioningDbContext db, AssignmentEvaluator evaluator, Lifecycle lifecycle) :
    IMessageHandler<UserCreated>, IMessageHandler<UserUpdated>, IMessageHandler<UserDeleted>,
    IMessageHandler<GroupMemberAdded>, IMessageHandler<GroupMemberRemoved>, IMessageHandler<GroupDeleted>,
    IMessageHandler<LicenseAssigned>, IMessageHandler<LicenseRemoved>
{
    public Task HandleAsync(UserCreated message, MessageContext context, CancellationToken cancellationToken) =>
        ApplyAsync(context, message.TenantId, [message.UserId], async () =>
            await UpsertUserAsync(message.TenantId, message.UserId, message.Sequence, u => u.UserPrincipalName = message.UserPrincipalName, cancellationToken), cancellationToken);

    public Task HandleAsync(UserUpdated message, MessageContext context, CancellationToken cancellationToken) =>
        ApplyAsync(context, message.TenantId, [message.UserId], async () =>
            await UpsertUserAsync(message.TenantId, message.UserId, message.Sequence, u =>
            {
                u.UserPrincipalName = message.UserPrincipalName;
                u.DisplayName = message.DisplayName;
            }, cancellationToken), cancellationToken);

    public Task HandleAsync(UserDeleted message, MessageContext context, CancellationToken cancellationToken) =>
        ApplyAsync(context, message.TenantId, [message.UserId], async () =>
            await UpsertUserAsync(message.TenantId, message.UserId, message.Sequence, u => u.Deleted = true, cancellationToken), cancellationToken);

    public Task HandleAsync(GroupMemberAdded message, MessageContext context, CancellationToken cancellationToken) =>
        ApplyMembershipAsync(context, message.TenantId, [message.UserId], () => SetMembershipAsync(message.TenantId, message.UserId, message.GroupId, true, message.Sequence, cancellationToken), cancellationToken);

    public Task HandleAsync(GroupMemberRemoved message, MessageContext context, CancellationToken cancellationToken) =>
        ApplyMembershipAsync(context, message.TenantId, [message.UserId], () => SetMembershipAsync(message.TenantId, message.UserId, message.GroupId, false, message.Sequence, cancellationToken), cancellationToken);

    public Task HandleAsync(GroupDeleted message, MessageContext context, CancellationToken cancellationToken) =>
        ApplyMembershipAsync(context, message.TenantId, message.FormerMemberIds, async () =>
        {
            foreach (var member in message.FormerMemberIds)
            {
                await SetMembershipAsync(message.TenantId, member, message.GroupId, false, message.Sequence, cancellationToken);
            }
        }, cancellationToken);

    public Task HandleAsync(LicenseAssigned message, MessageContext context, CancellationToken cancellationToken) =>
        ApplyAsync(context, message.TenantId, [message.UserId], () => SetLicenseAsync(message.TenantId, message.UserId, message.SkuId, true, message.Sequence, cancellationToken), cancellationToken);

    public Task HandleAsync(LicenseRemoved message, MessageContext context, CancellationToken cancellationToken) =>
        ApplyAsync(context, message.TenantId, [message.UserId], () => SetLicenseAsync(message.TenantId, message.UserId, message.SkuId, false, message.Sequence, cancellationToken), cancellationToken);

    private Task ApplyAsync(MessageContext context, Guid tenantId, IReadOnlyList<Guid> users, Func<Task> apply, CancellationToken cancellationToken) =>
        ApplyAsync(context, tenantId, users, apply, membershipChanged: false, cancellationToken);

    /// <summary>A membership change: the users may now be under another user setting (settings are assigned to groups).</summary>
    private Task ApplyMembershipAsync(MessageContext context, Guid tenantId, IReadOnlyList<Guid> users, Func<Task> apply, CancellationToken cancellationToken) =>
        ApplyAsync(context, tenantId, users, apply, membershipChanged: true, cancellationToken);

    private async Task ApplyAsync(MessageContext context, Guid tenantId, IReadOnlyList<Guid> users, Func<Task> apply, bool membershipChanged, CancellationToken cancellationToken)
    {
        // One transaction: the evaluation reads the applied copy, and the inbox record joins the first save. The
        // users' locks first: two events of one user handled at once (a membership and a license, on two workers)
        // would each evaluate without the other's change and neither would provision; in turns, the second sees both.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.LockAsync(users.Select(user => $"provisioning.user:{user}"), cancellationToken);
        await apply();
        await db.SaveChangesAsync(cancellationToken);
        foreach (var user in users)
        {
            await evaluator.EvaluateAsync(tenantId, user, cancellationToken);
        }

        await db.SaveChangesAsync(cancellationToken);
        if (membershipChanged)
        {
            // Their VMs' copy policy (interval, backup region) follows their setting at once, as it does when a
            // setting itself changes.
            await DisasterRecoverySettings.PublishCopyPoliciesAsync(db, lifecycle, tenantId, users, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private async Task UpsertUserAsync(Guid tenantId, Guid userId, long sequence, Action<DirectoryUser> change, CancellationToken cancellationToken)
    {
        var user = await db.Users.FirstOrDefaultAsync(u => u.UserId == userId, cancellationToken);
        if (user is null)
        {
            user = new DirectoryUser { UserId = userId, TenantId = tenantId };
            db.Users.Add(user);
        }
        else if (user.Sequence > sequence)
        {
            return;
        }

        change(user);
        user.Sequence = sequence;
    }

    private async Task SetMembershipAsync(Guid tenantId, Guid userId, Guid groupId, bool present, long sequence, CancellationToken cancellationToken)
    {
        var row = await db.Memberships.FirstOrDefaultAsync(m => m.UserId == userId && m.GroupId == groupId, cancellationToken);
        if (row is null)
        {
            db.Memberships.Add(new DirectoryMembership { TenantId = tenantId, UserId = userId, GroupId = groupId, Present = present, Sequence = sequence });
        }
        else if (row.Sequence < sequence)
        {
            row.Present = present;
            row.Sequence = sequence;
        }
    }

    private async Task SetLicenseAsync(Guid tenantId, Guid userId, Guid planId, bool present, long sequence, CancellationToken cancellationToken)
    {
        var row = await db.Licenses.FirstOrDefaultAsync(l => l.UserId == userId && l.ServicePlanId == planId, cancellationToken);
        if (row is null)
        {
            db.Licenses.Add(new DirectoryLicense { TenantId = tenantId, UserId = userId, ServicePlanId = planId, Present = present, Sequence = sequence });
        }
        else if (row.Sequence < sequence)
        {
            row.Present = present;
            row.Sequence = sequence;
        }
    }
}

/// <summary>Evaluates every user of a tenant: after a policy's assignments change, and after reconciliation.</summary>
internal sealed class EvaluateTenantHandler(ProvisioningDbContext db, AssignmentEvaluator evaluator) : IMessageHandler<EvaluateTenant>
{
    public async Task HandleAsync(EvaluateTenant message, MessageContext context, CancellationToken cancellationToken)
    {
        var users = await db.Users.Where(u => u.TenantId == message.TenantId).Select(u => u.UserId)
            .Union(db.CloudPcs.Where(p => p.TenantId == message.TenantId).Select(p => p.UserId))
            .ToListAsync(cancellationToken);
        foreach (var chunk in users.Chunk(100))
        {
            foreach (var user in chunk)
            {
                await evaluator.EvaluateAsync(message.TenantId, user, cancellationToken);
            }

            // A chunk per transaction: evaluation is idempotent, so a crash mid-tenant just redoes it.
            await db.SaveChangesAsync(cancellationToken);
            db.ChangeTracker.Clear();
        }
    }
}
