using Microsoft.EntityFrameworkCore;
using Stratus.Identity.Accounts;
using Stratus.Identity.Sync;
using Stratus.Identity.Users;

namespace Stratus.Identity.Ldap;

/// <summary>The sync's users: each directory entry created or updated as its own change, matched by external id, then by name.</summary>
public sealed partial class LdapSync
{
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
}
