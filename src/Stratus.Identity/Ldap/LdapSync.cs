using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Stratus.Identity.Accounts;
using Stratus.Identity.Sync;
using Stratus.Platform.Audit;

namespace Stratus.Identity.Ldap;
public sealed record LdapSyncOutcome(bool Succeeded, string? Error, string? Reason, LdapSyncTally Tally);

/// <summary>
/// One sync of a tenant: a complete read of the directory first, then every difference applied as its own
/// directory change (with its event and audit record). A read that fails in any way changes nothing; only
/// a complete read disables users and removes memberships. Only users and groups that came from LDAP are
/// touched.
/// </summary>
public sealed partial class LdapSync(DirectoryWriter directory, LdapDirectoryReader reader, LdapSecrets secrets, ILogger<LdapSync> logger)
{
    private static readonly AuditActor Actor = AuditActor.System("ldap-sync");
    private static readonly ActivitySource Activity = new("Stratus.Identity.Ldap");

    public async Task<LdapSyncOutcome> RunAsync(LdapConfiguration configuration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        using var activity = Activity.StartActivity("ldap sync");
        activity?.SetTag("stratus.tenant.id", configuration.TenantId.ToString());
        var outcome = await SyncAsync(configuration, cancellationToken);
        activity?.SetTag("stratus.ldap.result", outcome.Error ?? "succeeded");
        activity?.SetTag("stratus.ldap.changes", outcome.Tally.Events);
        if (!outcome.Succeeded)
        {
            activity?.SetStatus(ActivityStatusCode.Error, outcome.Error);
        }

        return outcome;
    }

    private async Task<LdapSyncOutcome> SyncAsync(LdapConfiguration configuration, CancellationToken cancellationToken)
    {
        var tally = new LdapSyncTally();
        LdapSnapshot snapshot;
        try
        {
            var password = secrets.Unprotect(configuration.ProtectedBindPassword);
            snapshot = await reader.ReadAsync(configuration, password, cancellationToken);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            return Failed(configuration, tally, new LdapReadException("passwordUnreadable",
                "The stored bind password cannot be decrypted (the data protection keys changed). Set it again with PUT /api/v1/ldapConfiguration. Nothing was changed.", e));
        }
        catch (LdapReadException e)
        {
            return Failed(configuration, tally, e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The client library itself failed (libldap missing, a malformed answer): still a read that did not complete.
            return Failed(configuration, tally, new LdapReadException("ldapError", $"Reading the LDAP directory failed: {e.Message}. Nothing was changed.", e));
        }

        try
        {
            await ApplyAsync(configuration, snapshot, tally, cancellationToken);
        }
        catch (LdapReadException e)
        {
            return Failed(configuration, tally, e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogApplyFailed(logger, e, configuration.TenantId, tally.Events);
            return new LdapSyncOutcome(false, "applyFailed",
                $"Applying the directory's changes failed after {tally.Events} of them: {e.Message}. Each change made is complete; the next sync continues from there.", tally);
        }

        LogSynced(logger, configuration.TenantId, tally.UsersCreated, tally.UsersUpdated, tally.UsersDisabled, tally.MembershipsAdded, tally.MembershipsRemoved);
        return new LdapSyncOutcome(true, null, null, tally);
    }

    private LdapSyncOutcome Failed(LdapConfiguration configuration, LdapSyncTally tally, LdapReadException e)
    {
        LogSyncFailed(logger, configuration.TenantId, e.Code, e.Message);
        return new LdapSyncOutcome(false, e.Code, e.Message, tally);
    }

    private async Task ApplyAsync(LdapConfiguration configuration, LdapSnapshot snapshot, LdapSyncTally tally, CancellationToken cancellationToken)
    {
        var db = directory.Db;
        var tenantId = configuration.TenantId;
        var domain = await db.Tenants.AsNoTracking().Where(t => t.Id == tenantId).Select(t => t.Domain).FirstOrDefaultAsync(cancellationToken)
            ?? throw new InvalidOperationException($"Tenant {tenantId} does not exist.");
        var existingUsers = await db.Accounts.AsNoTracking()
            .Where(a => a.TenantId == tenantId && a.Source == DirectorySource.Ldap).ToListAsync(cancellationToken);

        // An empty answer is far more often a wrong base DN or filter than a directory emptied on purpose.
        var enabled = existingUsers.Count(u => u.Enabled);
        if (snapshot.Users.Count == 0 && enabled > 0)
        {
            throw new LdapReadException("emptyRead",
                $"The directory returned no users for the user filter under the base DNs, but {enabled} enabled users came from it before. " +
                "Stratus disables nobody on an empty read: check the base DNs and the user filter. Nothing was changed.");
        }

        var members = new MemberIndex();
        var seen = new HashSet<Guid>();
        await ApplyUsersAsync(configuration, snapshot, domain, existingUsers, members, seen, tally, cancellationToken);

        // The read was complete: whoever came from LDAP and is no longer in it is disabled (never deleted).
        foreach (var gone in existingUsers.Where(u => u.Enabled && !seen.Contains(u.Id)).OrderBy(u => u.NormalizedUserName, StringComparer.Ordinal))
        {
            var disabled = await directory.ChangeAsync(tenantId, async change =>
            {
                var user = await change.Db.Accounts.FirstOrDefaultAsync(
                    a => a.Id == gone.Id && a.TenantId == tenantId && a.Source == DirectorySource.Ldap && a.Enabled, cancellationToken);
                if (user is null)
                {
                    change.Refuse();
                    return false;
                }

                user.Enabled = false;
                user.UpdatedAt = change.Now;
                change.UserDisabled(user);
                change.Audit(Actor, "DisableUser", $"Disabled user {user.UserName}: it is no longer in the LDAP directory", TenantChange.Resource(user));
                return true;
            }, cancellationToken);
            tally.UsersDisabled += disabled ? 1 : 0;
        }

        await ApplyGroupsAsync(configuration, snapshot, members, tally, cancellationToken);
    }

    private static string? Truncate(string? value, int length)
    {
        var trimmed = value?.Trim();
        return trimmed is null || trimmed.Length == 0 ? null : trimmed.Length <= length ? trimmed : trimmed[..length];
    }

    [LoggerMessage(EventId = 2301, Level = LogLevel.Warning, Message = "LDAP sync of tenant {TenantId} failed ({Error}): {Reason}")]
    private static partial void LogSyncFailed(ILogger logger, Guid tenantId, string error, string reason);

    [LoggerMessage(EventId = 2302, Level = LogLevel.Information,
        Message = "LDAP sync of tenant {TenantId}: {Created} users created, {Updated} updated, {Disabled} disabled, {Added} memberships added, {Removed} removed")]
    private static partial void LogSynced(ILogger logger, Guid tenantId, int created, int updated, int disabled, int added, int removed);

    [LoggerMessage(EventId = 2303, Level = LogLevel.Error, Message = "Applying the LDAP sync of tenant {TenantId} failed after {Changes} changes")]
    private static partial void LogApplyFailed(ILogger logger, Exception exception, Guid tenantId, int changes);
}
