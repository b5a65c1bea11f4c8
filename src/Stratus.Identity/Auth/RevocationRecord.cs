using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Stratus.Identity.Accounts;
using Stratus.Identity.Persistence;
using Stratus.Identity.Tenants;
using Stratus.Platform.Auth;

namespace Stratus.Identity.Auth;

/// <summary>
/// The latest revocation of one account's or tenant's credentials (one row each, so the table grows with accounts,
/// not with changes): every service reads these rows through <c>/api/v1/auth/revocations</c> (ADR 0011).
/// </summary>
public sealed class RevocationRecord
{
    public RevokedSubject Subject { get; init; }

    public Guid SubjectId { get; init; }

    public DateTimeOffset NotBefore { get; set; }

    public DateTimeOffset RecordedAt { get; set; }

    public CredentialRevocation ToContract() => new(Subject, SubjectId, NotBefore, RecordedAt);
}

/// <summary>
/// Finds, in a save of the identity store, the changes that must end credentials already issued: an account disabled,
/// deleted or stripped of a role, a tenant suspended or deleted. Done in the store's save, so that every way to make
/// such a change (the API, SCIM, LDAP sync) revokes, in the change's own transaction.
/// </summary>
internal static class RevocationRecorder
{
    public static IReadOnlyList<(RevokedSubject Subject, Guid Id)> Revoked(ChangeTracker changes)
    {
        var revoked = new List<(RevokedSubject, Guid)>();
        foreach (var entry in changes.Entries<Account>())
        {
            if (entry.State == EntityState.Deleted
                || (entry.State == EntityState.Modified && entry.Property(a => a.Enabled).OriginalValue && !entry.Entity.Enabled)
                || (entry.State == EntityState.Modified && LostARole(entry)))
            {
                revoked.Add((RevokedSubject.Account, entry.Entity.Id));
            }
        }

        foreach (var entry in changes.Entries<Tenant>())
        {
            if (entry.State == EntityState.Deleted
                || (entry.State == EntityState.Modified && entry.Property(t => t.State).OriginalValue != TenantState.Suspended && entry.Entity.State == TenantState.Suspended))
            {
                revoked.Add((RevokedSubject.Tenant, entry.Entity.Id));
            }
        }

        return revoked;
    }

    private static bool LostARole(EntityEntry<Account> entry) =>
        entry.Property(a => a.Roles).OriginalValue is { } before && before.Except(entry.Entity.Roles, StringComparer.Ordinal).Any();

    /// <summary>Adds or moves forward the rows of <paramref name="revoked"/>; the caller saves.</summary>
    public static async Task RecordAsync(IdentityDbContext db, IReadOnlyList<(RevokedSubject Subject, Guid Id)> revoked, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var notBefore = CredentialRevocations.NotBeforeFor(now);
        foreach (var (subject, id) in revoked)
        {
            var record = await db.Revocations.FindAsync([subject, id], cancellationToken);
            if (record is null)
            {
                db.Revocations.Add(new RevocationRecord { Subject = subject, SubjectId = id, NotBefore = notBefore, RecordedAt = now });
            }
            else if (record.NotBefore < notBefore)
            {
                record.NotBefore = notBefore;
                record.RecordedAt = now;
            }
        }
    }
}
