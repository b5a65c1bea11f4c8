using Microsoft.EntityFrameworkCore;
using Stratus.Identity.Groups;
using Stratus.Identity.Sync;
using Stratus.Platform.Audit;

namespace Stratus.Identity.Ldap;

/// <summary>The sync's groups: created, renamed and their LDAP members set, each group as its own change; gone groups deleted.</summary>
public sealed partial class LdapSync
{
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

    private sealed record GroupResult(Guid GroupId, bool Created, bool Renamed, int Added, int Removed);
}
