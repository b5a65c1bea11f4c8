using System.Diagnostics;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Stratus.Identity.Accounts;
using Stratus.Identity.Groups;
using Stratus.Identity.Sync;
using Stratus.Identity.Users;
using Stratus.Platform.Audit;

namespace Stratus.Identity.Ldap;

/// <summary>What one sync did, counted as it commits.</summary>
public sealed class LdapSyncTally
{
    public const int MaxWarnings = 20;

    public int UsersCreated { get; set; }

    public int UsersUpdated { get; set; }

    public int UsersDisabled { get; set; }

    public int GroupsCreated { get; set; }

    public int GroupsUpdated { get; set; }

    public int GroupsDeleted { get; set; }

    public int MembershipsAdded { get; set; }

    public int MembershipsRemoved { get; set; }

    public int Skipped { get; set; }

    public List<string> Warnings { get; } = [];

    /// <summary>The changes that published a directory event.</summary>
    public int Events => UsersCreated + UsersUpdated + UsersDisabled + GroupsDeleted + MembershipsAdded + MembershipsRemoved;

    public void Skip(string warning)
    {
        Skipped++;
        Warn(warning);
    }

    public void Warn(string warning)
    {
        if (Warnings.Count < MaxWarnings)
        {
            Warnings.Add(warning);
        }
    }
}

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

    private async Task ApplyUsersAsync(LdapConfiguration configuration, LdapSnapshot snapshot, string domain, List<Account> existingUsers,
        MemberIndex members, HashSet<Guid> seen, LdapSyncTally tally, CancellationToken cancellationToken)
    {
        var byExternalId = new Dictionary<string, Account>(StringComparer.OrdinalIgnoreCase);
        foreach (var user in existingUsers.Where(u => u.ExternalId is not null))
        {
            byExternalId.TryAdd(user.ExternalId!, user);
        }

        var byName = existingUsers.ToDictionary(u => u.NormalizedUserName, StringComparer.Ordinal);
        var claimed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in snapshot.Users.OrderBy(e => e.DistinguishedName, StringComparer.OrdinalIgnoreCase))
        {
            var externalId = configuration.ExternalIdAttribute is { } idAttribute ? entry.First(idAttribute) : entry.DistinguishedName;
            var rawName = entry.First(configuration.UserNameAttribute);
            var nameError = UserPrincipalNames.Check(rawName, domain, out var upn);
            var existing = externalId is not null && byExternalId.TryGetValue(externalId, out var byId) ? byId
                : nameError is null && byName.TryGetValue(Account.Normalize(upn), out var byUpn) ? byUpn
                : null;
            if (existing is not null)
            {
                // Still in the directory, even if it cannot be applied now: never disabled for it.
                seen.Add(existing.Id);
                members.Add(existing.Id, existing.UserName, entry.DistinguishedName, rawName);
            }

            if (externalId is null)
            {
                tally.Skip($"{entry.DistinguishedName}: it has no '{configuration.ExternalIdAttribute}', the id attribute.");
                continue;
            }

            if (nameError is not null)
            {
                tally.Skip($"{entry.DistinguishedName}: its '{configuration.UserNameAttribute}' {(rawName is null ? "is missing" : $"'{rawName}' {nameError}")}");
                continue;
            }

            if (!claimed.Add(Account.Normalize(upn)))
            {
                tally.Skip($"{entry.DistinguishedName}: another entry already has the user name {upn}.");
                continue;
            }

            var wanted = Map(configuration, entry, externalId, upn, tally);
            var id = existing is null
                ? await CreateUserAsync(configuration.TenantId, wanted, tally, cancellationToken)
                : await UpdateUserAsync(configuration.TenantId, existing, wanted, tally, cancellationToken);
            if (id is { } userId)
            {
                seen.Add(userId);
                members.Add(userId, upn, entry.DistinguishedName, rawName);
            }
        }
    }

    private async Task<Guid?> CreateUserAsync(Guid tenantId, WantedUser wanted, LdapSyncTally tally, CancellationToken cancellationToken)
    {
        var normalized = Account.Normalize(wanted.UserPrincipalName);
        var created = await directory.ChangeAsync(tenantId, async change =>
        {
            // Names are unique; a local or SCIM user with this one is not the sync's to take over.
            if (await change.Db.Accounts.AnyAsync(a => a.NormalizedUserName == normalized, cancellationToken))
            {
                change.Refuse();
                return (Guid?)null;
            }

            var user = UserChanges.New(tenantId, wanted.UserPrincipalName, wanted.DisplayName, DirectorySource.Ldap, change.Now);
            user.GivenName = wanted.GivenName;
            user.Surname = wanted.Surname;
            user.Mail = wanted.Mail;
            user.ExternalId = wanted.ExternalId;
            change.Db.Accounts.Add(user);
            change.UserCreated(user);
            change.Audit(Actor, "CreateUser", $"Created user {user.UserName} from LDAP", TenantChange.Resource(user));
            return user.Id;
        }, cancellationToken);
        if (created is null)
        {
            tally.Skip($"{wanted.DistinguishedName}: a user that does not come from LDAP already has the name {wanted.UserPrincipalName}; Stratus leaves it alone.");
        }
        else
        {
            tally.UsersCreated++;
        }

        return created;
    }

    private async Task<Guid?> UpdateUserAsync(Guid tenantId, Account existing, WantedUser wanted, LdapSyncTally tally, CancellationToken cancellationToken)
    {
        if (!wanted.Differs(existing))
        {
            return existing.Id;
        }

        var normalized = Account.Normalize(wanted.UserPrincipalName);
        var (updated, warning) = await directory.ChangeAsync(tenantId, async change =>
        {
            var user = await change.Db.Accounts.FirstOrDefaultAsync(
                a => a.Id == existing.Id && a.TenantId == tenantId && a.Source == DirectorySource.Ldap, cancellationToken);
            if (user is null)
            {
                change.Refuse();
                return (false, (string?)null);
            }

            string? warning = null;
            var changed = false;
            if (user.NormalizedUserName != normalized)
            {
                if (await change.Db.Accounts.AnyAsync(a => a.NormalizedUserName == normalized && a.Id != user.Id, cancellationToken))
                {
                    warning = $"{wanted.DistinguishedName}: cannot rename {user.UserName} to {wanted.UserPrincipalName}, another user has that name.";
                }
                else
                {
                    user.UserName = wanted.UserPrincipalName;
                    user.NormalizedUserName = normalized;
                    changed = true;
                }
            }

            changed |= Set(user.DisplayName, wanted.DisplayName, v => user.DisplayName = v!);
            changed |= Set(user.GivenName, wanted.GivenName, v => user.GivenName = v);
            changed |= Set(user.Surname, wanted.Surname, v => user.Surname = v);
            changed |= Set(user.Mail, wanted.Mail, v => user.Mail = v);
            changed |= Set(user.ExternalId, wanted.ExternalId, v => user.ExternalId = v);
            if (!changed)
            {
                change.Refuse();
                return (false, warning);
            }

            user.UpdatedAt = change.Now;
            change.UserUpdated(user);
            change.Audit(Actor, "UpdateUser", $"Updated user {user.UserName} from LDAP", TenantChange.Resource(user));
            return (true, warning);
        }, cancellationToken);
        if (warning is not null)
        {
            tally.Warn(warning);
        }

        tally.UsersUpdated += updated ? 1 : 0;
        return existing.Id;
    }

    private async Task ApplyGroupsAsync(LdapConfiguration configuration, LdapSnapshot snapshot, MemberIndex members, LdapSyncTally tally, CancellationToken cancellationToken)
    {
        var db = directory.Db;
        var tenantId = configuration.TenantId;
        var existingGroups = await db.Groups.AsNoTracking()
            .Where(g => g.TenantId == tenantId && g.Source == DirectorySource.Ldap).ToListAsync(cancellationToken);
        var byExternalId = new Dictionary<string, Group>(StringComparer.OrdinalIgnoreCase);
        foreach (var group in existingGroups.Where(g => g.ExternalId is not null))
        {
            byExternalId.TryAdd(group.ExternalId!, group);
        }

        var groupIds = existingGroups.Select(g => g.Id).ToList();
        var currentMembers = (await db.GroupMembers.AsNoTracking().Where(m => groupIds.Contains(m.GroupId)).ToListAsync(cancellationToken))
            .ToLookup(m => m.GroupId, m => m.UserId);
        var ldapUsers = (await db.Accounts.AsNoTracking().Where(a => a.TenantId == tenantId && a.Source == DirectorySource.Ldap)
            .Select(a => a.Id).ToListAsync(cancellationToken)).ToHashSet();

        var seen = new HashSet<Guid>();
        var skippedAny = false;
        foreach (var entry in snapshot.Groups.OrderBy(e => e.DistinguishedName, StringComparer.OrdinalIgnoreCase))
        {
            var externalId = configuration.ExternalIdAttribute is { } idAttribute ? entry.First(idAttribute) : entry.DistinguishedName;
            if (externalId is null)
            {
                tally.Skip($"{entry.DistinguishedName}: it has no '{configuration.ExternalIdAttribute}', the id attribute.");
                skippedAny = true;
                continue;
            }

            var name = Truncate(entry.First(configuration.GroupNameAttribute) ?? DistinguishedNames.FirstValue(entry.DistinguishedName), 256)!;
            var wanted = entry.All(configuration.MemberAttribute).Select(members.Resolve).OfType<Guid>().ToHashSet();
            var existing = byExternalId.GetValueOrDefault(externalId);
            if (existing is not null)
            {
                seen.Add(existing.Id);
                var current = currentMembers[existing.Id].ToHashSet();
                if (existing.DisplayName == name && wanted.IsSubsetOf(current) && current.Where(ldapUsers.Contains).All(wanted.Contains))
                {
                    continue;
                }
            }

            var result = await directory.ChangeAsync(tenantId, change => ApplyGroupAsync(change, existing?.Id, externalId, name, wanted, members, cancellationToken), cancellationToken);
            seen.Add(result.GroupId);
            tally.GroupsCreated += result.Created ? 1 : 0;
            tally.GroupsUpdated += result.Renamed ? 1 : 0;
            tally.MembershipsAdded += result.Added;
            tally.MembershipsRemoved += result.Removed;
        }

        if (skippedAny)
        {
            tally.Warn("Some groups were skipped, so no group was deleted in this sync.");
            return;
        }

        foreach (var gone in existingGroups.Where(g => !seen.Contains(g.Id)).OrderBy(g => g.DisplayName, StringComparer.Ordinal))
        {
            var deleted = await directory.ChangeAsync(tenantId, async change =>
            {
                var group = await change.Db.Groups.FirstOrDefaultAsync(
                    g => g.Id == gone.Id && g.TenantId == tenantId && g.Source == DirectorySource.Ldap, cancellationToken);
                if (group is null)
                {
                    change.Refuse();
                    return false;
                }

                await GroupChanges.RemoveAsync(change, group, cancellationToken);
                change.Audit(Actor, "DeleteGroup", $"Deleted group {group.DisplayName}: it is no longer in the LDAP directory", TenantChange.Resource(group));
                return true;
            }, cancellationToken);
            tally.GroupsDeleted += deleted ? 1 : 0;
        }
    }

    private static async Task<GroupResult> ApplyGroupAsync(TenantChange change, Guid? existingId, string externalId, string name,
        HashSet<Guid> wanted, MemberIndex members, CancellationToken cancellationToken)
    {
        var db = change.Db;
        var tenantId = change.Tenant.Id;
        var group = existingId is { } id
            ? await db.Groups.FirstOrDefaultAsync(g => g.Id == id && g.TenantId == tenantId && g.Source == DirectorySource.Ldap, cancellationToken)
            : null;
        var created = false;
        var renamed = false;
        if (group is null)
        {
            group = new Group
            {
                Id = Guid.CreateVersion7(change.Now),
                TenantId = tenantId,
                DisplayName = name,
                ExternalId = externalId,
                Source = DirectorySource.Ldap,
                CreatedAt = change.Now,
            };
            db.Groups.Add(group);
            change.Audit(Actor, "CreateGroup", $"Created group {name} from LDAP", TenantChange.Resource(group));
            created = true;
        }
        else if (group.DisplayName != name)
        {
            group.DisplayName = name;
            change.Audit(Actor, "UpdateGroup", $"Renamed group to {name} from LDAP", TenantChange.Resource(group));
            renamed = true;
        }

        var groupId = group.Id;
        var current = created ? [] : await db.GroupMembers.Where(m => m.GroupId == groupId).Select(m => m.UserId).ToListAsync(cancellationToken);
        var managed = await db.Accounts.Where(a => current.Contains(a.Id) && a.Source == DirectorySource.Ldap).Select(a => a.Id).ToListAsync(cancellationToken);

        // Only users of this tenant that still exist: an administrator may have deleted one since the read.
        var candidates = wanted.Except(current).ToList();
        var addable = await db.Accounts.Where(a => candidates.Contains(a.Id) && a.TenantId == tenantId).Select(a => a.Id).ToListAsync(cancellationToken);
        var added = 0;
        foreach (var userId in addable.Order())
        {
            if (await GroupChanges.AddMemberAsync(change, group, userId, cancellationToken))
            {
                added++;
                change.Audit(Actor, "AddGroupMember", $"Added {members.NameOf(userId)} to {group.DisplayName} from LDAP",
                    TenantChange.Resource(group), new AuditResource(userId.ToString(), "user", members.NameOf(userId)));
            }
        }

        // Local and SCIM users in an LDAP group are not the sync's to remove.
        var removed = 0;
        foreach (var userId in managed.Where(u => !wanted.Contains(u)).Order())
        {
            if (await GroupChanges.RemoveMemberAsync(change, group, userId, cancellationToken))
            {
                removed++;
                change.Audit(Actor, "RemoveGroupMember", $"Removed {members.NameOf(userId)} from {group.DisplayName}: not a member in LDAP",
                    TenantChange.Resource(group), new AuditResource(userId.ToString(), "user", members.NameOf(userId)));
            }
        }

        if (!created && !renamed && added == 0 && removed == 0)
        {
            change.Refuse();
        }

        return new GroupResult(groupId, created, renamed, added, removed);
    }

    private static WantedUser Map(LdapConfiguration configuration, LdapEntry entry, string externalId, string upn, LdapSyncTally tally)
    {
        var mail = Truncate(entry.First(configuration.MailAttribute), 256);
        if (mail is not null && !System.Net.Mail.MailAddress.TryCreate(mail, out _))
        {
            tally.Warn($"{entry.DistinguishedName}: '{mail}' is not an e-mail address; mail left empty.");
            mail = null;
        }

        return new WantedUser(
            entry.DistinguishedName,
            externalId,
            upn,
            Truncate(entry.First(configuration.DisplayNameAttribute), 256) ?? upn,
            Truncate(entry.First(configuration.GivenNameAttribute), 64),
            Truncate(entry.First(configuration.SurnameAttribute), 64),
            mail);
    }

    private static bool Set(string? current, string? wanted, Action<string?> set)
    {
        if (string.Equals(current, wanted, StringComparison.Ordinal))
        {
            return false;
        }

        set(wanted);
        return true;
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

    private sealed record WantedUser(string DistinguishedName, string ExternalId, string UserPrincipalName, string DisplayName,
        string? GivenName, string? Surname, string? Mail)
    {
        public bool Differs(Account user) =>
            user.NormalizedUserName != Account.Normalize(UserPrincipalName)
            || user.DisplayName != DisplayName
            || user.GivenName != GivenName
            || user.Surname != Surname
            || user.Mail != Mail
            || user.ExternalId != ExternalId;
    }

    private sealed record GroupResult(Guid GroupId, bool Created, bool Renamed, int Added, int Removed);

    /// <summary>Resolves a group's member values: DNs (member, uniqueMember) or user names (posixGroup's memberUid).</summary>
    private sealed class MemberIndex
    {
        private readonly Dictionary<string, Guid> byDn = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Guid> byName = new(StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<Guid, string> names = [];

        public void Add(Guid userId, string userPrincipalName, string distinguishedName, string? rawName)
        {
            byDn[DistinguishedNames.Normalize(distinguishedName)] = userId;
            byName[userPrincipalName] = userId;
            if (rawName is not null)
            {
                byName[rawName] = userId;
            }

            names[userId] = userPrincipalName;
        }

        public Guid? Resolve(string value)
        {
            if (value.Contains('=', StringComparison.Ordinal))
            {
                return byDn.TryGetValue(DistinguishedNames.Normalize(value), out var byDistinguishedName) ? byDistinguishedName : null;
            }

            return byName.TryGetValue(value.Trim(), out var id) ? id : null;
        }

        public string NameOf(Guid userId) => names.TryGetValue(userId, out var name) ? name : userId.ToString("D", CultureInfo.InvariantCulture);
    }
}
