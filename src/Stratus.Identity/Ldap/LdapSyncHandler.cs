using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Identity.Persistence;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;

namespace Stratus.Identity.Ldap;

/// <summary>An administrator asked for a sync now (POST /api/v1/ldapConfiguration/sync).</summary>
[MessageName("identity.ldapSyncRequested.v1")]
public sealed record LdapSyncRequested(Guid TenantId, Guid SyncId);

/// <summary>A tenant's periodic sync is due; only the one carrying the tenant's current schedule token runs.</summary>
[MessageName("identity.ldapSyncDue.v1")]
public sealed record LdapSyncDue(Guid TenantId, Guid ScheduleToken);

/// <summary>
/// Runs syncs from the durable queue: once per message (the inbox), one at a time per tenant (a lease on
/// its configuration row, across instances), and keeps each tenant's schedule a single chain of messages. The sync
/// saves page by page; its effect is the transaction that finishes it, which carries the inbox record.
/// </summary>
[EffectInOwnTransaction]
internal sealed partial class LdapSyncHandler(
    IdentityDbContext db,
    LdapSync sync,
    IOptions<LdapOptions> options,
    TimeProvider clock,
    ILogger<LdapSyncHandler> logger) : IMessageHandler<LdapSyncRequested>, IMessageHandler<LdapSyncDue>
{
    /// <summary>How long a sync waits when another one of the same tenant is running.</summary>
    private static readonly TimeSpan BusyRetry = TimeSpan.FromSeconds(5);

    public async Task HandleAsync(LdapSyncRequested message, MessageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var configuration = await db.LdapConfigurations.AsNoTracking().FirstOrDefaultAsync(c => c.TenantId == message.TenantId, cancellationToken);
        if (configuration is null)
        {
            return;
        }

        await RunAsync(configuration, message.SyncId, LdapSyncTrigger.Manual, null, message, context, cancellationToken);
    }

    public async Task HandleAsync(LdapSyncDue message, MessageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var configuration = await db.LdapConfigurations.AsNoTracking().FirstOrDefaultAsync(c => c.TenantId == message.TenantId, cancellationToken);
        if (configuration is null || configuration.ScheduleToken != message.ScheduleToken)
        {
            // The configuration was deleted or re-armed since: this schedule is over.
            return;
        }

        await RunAsync(configuration, Guid.CreateVersion7(clock.GetUtcNow()), LdapSyncTrigger.Scheduled, message.ScheduleToken, message, context, cancellationToken);
    }

    private async Task RunAsync<TMessage>(LdapConfiguration configuration, Guid syncId, LdapSyncTrigger trigger, Guid? scheduleToken,
        TMessage message, MessageContext context, CancellationToken cancellationToken)
        where TMessage : notnull
    {
        var tenantId = configuration.TenantId;
        var startedAt = clock.GetUtcNow();
        var owner = context.MessageId;
        var leased = await db.LdapConfigurations
            .Where(c => c.TenantId == tenantId && (c.SyncLeaseUntil == null || c.SyncLeaseUntil < startedAt || c.SyncLeaseOwner == owner))
            .ExecuteUpdateAsync(s => s
                .SetProperty(c => c.SyncLeaseUntil, startedAt + options.Value.LeaseDuration)
                .SetProperty(c => c.SyncLeaseOwner, owner), cancellationToken);
        if (leased == 0)
        {
            // Another sync of this tenant is running: ask again a little later, as a new message.
            LogBusy(logger, tenantId);
            db.Publish(message, startedAt + BusyRetry);
            await db.SaveChangesAsync(cancellationToken);
            return;
        }

        try
        {
            var outcome = await sync.RunAsync(configuration, cancellationToken);
            await FinishAsync(configuration, syncId, trigger, scheduleToken, startedAt, outcome, context, cancellationToken);
        }
        catch
        {
            // The delivery is retried; it must not find its own lease in the way.
            await ReleaseAsync(tenantId, owner);
            throw;
        }
    }

    /// <summary>The status, the released lease, the next scheduled sync and the inbox record: one transaction.</summary>
    private async Task FinishAsync(LdapConfiguration configuration, Guid syncId, LdapSyncTrigger trigger, Guid? scheduleToken,
        DateTimeOffset startedAt, LdapSyncOutcome outcome, MessageContext context, CancellationToken cancellationToken)
    {
        var tenantId = configuration.TenantId;
        db.ChangeTracker.Clear();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var current = await db.LdapConfigurations.AsNoTracking().FirstOrDefaultAsync(c => c.TenantId == tenantId, cancellationToken);
        if (current is not null)
        {
            await Release(tenantId, context.MessageId).ExecuteUpdateAsync(s => s
                .SetProperty(c => c.SyncLeaseUntil, (DateTimeOffset?)null)
                .SetProperty(c => c.SyncLeaseOwner, (Guid?)null), cancellationToken);

            var due = scheduleToken is { } token && current.ScheduleToken == token;
            var lost = current.NextSyncAt < now - LdapSchedule.Grace;
            if (due || lost)
            {
                await LdapSchedule.RearmAsync(db, current, now + current.SyncInterval, cancellationToken);
            }

            var status = await db.LdapSyncStatuses.FirstOrDefaultAsync(s => s.TenantId == tenantId, cancellationToken);
            if (status is null)
            {
                status = new LdapSyncStatus { TenantId = tenantId };
                db.LdapSyncStatuses.Add(status);
            }

            var tally = outcome.Tally;
            status.SyncId = syncId;
            status.Trigger = trigger;
            status.StartedAt = startedAt;
            status.FinishedAt = now;
            status.Succeeded = outcome.Succeeded;
            status.Error = outcome.Error;
            status.Reason = outcome.Reason is { Length: > 2048 } reason ? reason[..2048] : outcome.Reason;
            status.UsersCreated = tally.UsersCreated;
            status.UsersUpdated = tally.UsersUpdated;
            status.UsersDisabled = tally.UsersDisabled;
            status.GroupsCreated = tally.GroupsCreated;
            status.GroupsUpdated = tally.GroupsUpdated;
            status.GroupsDeleted = tally.GroupsDeleted;
            status.MembershipsAdded = tally.MembershipsAdded;
            status.MembershipsRemoved = tally.MembershipsRemoved;
            status.Skipped = tally.Skipped;
            status.Warnings = [.. tally.Warnings];
            status.LastSuccessAt = outcome.Succeeded ? now : status.LastSuccessAt;
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    // Only our own lease: one that ran out may belong to another sync by now.
    private IQueryable<LdapConfiguration> Release(Guid tenantId, Guid owner) =>
        db.LdapConfigurations.Where(c => c.TenantId == tenantId && c.SyncLeaseOwner == owner);

    private async Task ReleaseAsync(Guid tenantId, Guid owner)
    {
        try
        {
            await Release(tenantId, owner).ExecuteUpdateAsync(s => s
                .SetProperty(c => c.SyncLeaseUntil, (DateTimeOffset?)null)
                .SetProperty(c => c.SyncLeaseOwner, (Guid?)null), CancellationToken.None);
        }
        catch (Exception e) when (e is DbUpdateException or InvalidOperationException or System.Data.Common.DbException)
        {
            // The lease runs out by itself; the delivery is retried either way.
            LogReleaseFailed(logger, e, tenantId);
        }
    }

    [LoggerMessage(EventId = 2304, Level = LogLevel.Information, Message = "An LDAP sync of tenant {TenantId} is running; this one waits")]
    private static partial void LogBusy(ILogger logger, Guid tenantId);

    [LoggerMessage(EventId = 2305, Level = LogLevel.Warning, Message = "Releasing the LDAP sync lease of tenant {TenantId} failed")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, Guid tenantId);
}

/// <summary>Arms a tenant's periodic sync: a new token and one message that carries it.</summary>
internal static class LdapSchedule
{
    /// <summary>A schedule this far overdue is taken as lost (its message dead-lettered) and armed again.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Replaces the token only if it is still the one read, and publishes the next due message in the
    /// caller's transaction; false when someone else re-armed first (their message is the schedule).
    /// </summary>
    public static async Task<bool> RearmAsync(IdentityDbContext db, LdapConfiguration current, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var token = Guid.NewGuid();
        var previous = current.ScheduleToken;
        var tenantId = current.TenantId;
        var rearmed = await db.LdapConfigurations.Where(c => c.TenantId == tenantId && c.ScheduleToken == previous)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.ScheduleToken, token).SetProperty(c => c.NextSyncAt, at), cancellationToken);
        if (rearmed == 0)
        {
            return false;
        }

        db.Publish(new LdapSyncDue(tenantId, token), at);
        return true;
    }
}

/// <summary>At start, arms again the schedules that are long overdue, for example after their message failed every attempt.</summary>
internal sealed class RepairLdapSchedules(TimeProvider clock) : IStartupTask
{
    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
        var now = clock.GetUtcNow();
        var overdue = now - LdapSchedule.Grace;
        foreach (var configuration in await db.LdapConfigurations.AsNoTracking().Where(c => c.NextSyncAt < overdue).ToListAsync(cancellationToken))
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            if (await LdapSchedule.RearmAsync(db, configuration, now, cancellationToken))
            {
                await db.SaveChangesAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }
    }
}
