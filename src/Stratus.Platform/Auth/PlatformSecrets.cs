using Microsoft.EntityFrameworkCore;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;

namespace Stratus.Platform.Auth;

/// <summary>Named values every instance on one database shares, created once by whichever instance needs one first.</summary>
public static class PlatformSecrets
{
    public static async Task<string> GetOrCreateAsync(PlatformDbContext db, string name, Func<string> create, TimeProvider clock, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(create);
        ArgumentNullException.ThrowIfNull(clock);
        if (await db.Secrets.AsNoTracking().FirstOrDefaultAsync(s => s.Name == name, cancellationToken) is { } known)
        {
            return known.Value;
        }

        db.Secrets.Add(new PlatformSecret { Name = name, Value = create(), CreatedAt = clock.GetUtcNow() });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (!ReadOnlyStore.Refused(e))
        {
            // Another instance created it first; use theirs. (A standby's refusal is not that: it reaches the caller.)
        }
        finally
        {
            db.ChangeTracker.Clear();
        }

        return (await db.Secrets.AsNoTracking().FirstAsync(s => s.Name == name, cancellationToken)).Value;
    }
}
