using Microsoft.EntityFrameworkCore;
using Stratus.Identity.Sync;
using Stratus.Platform.Auth;

namespace Stratus.Identity.Accounts;

/// <summary>The user changes that the API, SCIM and the LDAP sync share.</summary>
public static class UserChanges
{
    public static Account New(Guid tenantId, string userPrincipalName, string displayName, DirectorySource source, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(now),
        TenantId = tenantId,
        UserName = userPrincipalName,
        NormalizedUserName = Account.Normalize(userPrincipalName),
        DisplayName = displayName,
        Roles = [StratusRoles.User],
        Source = source,
        CreatedAt = now,
        UpdatedAt = now,
    };

    /// <summary>Applies the given values (null leaves a property as it is); true when anything changed.</summary>
    public static bool Apply(Account user, string? displayName, string? givenName, string? surname, string? mail, bool? enabled)
    {
        ArgumentNullException.ThrowIfNull(user);
        var changed = false;
        if (displayName is not null && displayName != user.DisplayName)
        {
            user.DisplayName = displayName;
            changed = true;
        }

        if (givenName is not null && givenName != user.GivenName)
        {
            user.GivenName = givenName;
            changed = true;
        }

        if (surname is not null && surname != user.Surname)
        {
            user.Surname = surname;
            changed = true;
        }

        if (mail is not null && mail != user.Mail)
        {
            user.Mail = mail;
            changed = true;
        }

        if (enabled is { } value && value != user.Enabled)
        {
            user.Enabled = value;
            changed = true;
        }

        return changed;
    }

    /// <summary>Publishes the event that fits a change of the user: disabled, or updated.</summary>
    public static void PublishChange(TenantChange change, Account user, bool wasEnabled)
    {
        ArgumentNullException.ThrowIfNull(change);
        ArgumentNullException.ThrowIfNull(user);
        user.UpdatedAt = change.Now;
        if (wasEnabled && !user.Enabled)
        {
            change.UserDisabled(user);
        }
        else
        {
            change.UserUpdated(user);
        }
    }

    /// <summary>Deletes a user with its memberships and licenses; consumers learn it from one event.</summary>
    public static async Task RemoveAsync(TenantChange change, Account user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        ArgumentNullException.ThrowIfNull(user);
        var db = change.Db;
        db.GroupMembers.RemoveRange(await db.GroupMembers.Where(m => m.UserId == user.Id).ToListAsync(cancellationToken));
        db.LicenseAssignments.RemoveRange(await db.LicenseAssignments.Where(l => l.UserId == user.Id).ToListAsync(cancellationToken));
        db.Accounts.Remove(user);
        change.UserDeleted(user.Id);
    }
}
