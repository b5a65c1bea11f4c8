using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Stratus.Platform.Messaging;

namespace Stratus.Platform.Idempotency;

/// <summary>
/// The changes of an idempotency record, each one statement. Every change after the reservation names the
/// lease owner, so that a request whose key was taken over (see IdempotencyMiddleware) changes nothing.
/// </summary>
internal sealed class IdempotencyStore(PlatformDbContext db, TimeProvider clock, long? regionEpoch)
{
    /// <summary>
    /// How long a processing record counts as held without a renewal. Its holder renews it every
    /// <see cref="LeaseRenewal"/>, so only a holder that died (or lost the database) lets it lapse.
    /// </summary>
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    public static readonly TimeSpan LeaseRenewal = TimeSpan.FromSeconds(30);

    public Task<IdempotencyRecord?> FindAsync(string scope, string key, CancellationToken cancellationToken) =>
        db.IdempotencyRecords.AsNoTracking().FirstOrDefaultAsync(r => r.Scope == scope && r.Key == key, cancellationToken);

    /// <summary>Inserts a processing record held by <paramref name="owner"/>; false when the key exists.</summary>
    public async Task<bool> TryReserveAsync(string scope, string key, RequestFingerprint request, Guid owner, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        db.IdempotencyRecords.Add(new IdempotencyRecord
        {
            Scope = scope, Key = key, Fingerprint = request.Hash, RequestMethod = request.Method, RequestPath = request.Path,
            State = IdempotencyState.Processing, LeaseOwner = owner, LeaseUntil = now + Lease, RegionEpoch = regionEpoch, CreatedAt = now,
        });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException e) when (IsUniqueViolation(e))
        {
            db.ChangeTracker.Clear();
            return false;
        }
    }

    /// <summary>
    /// Takes a lapsed reservation for <paramref name="owner"/>: one conditional update, so that of two retries
    /// that find it lapsed at the same moment only one gets it.
    /// </summary>
    public async Task<bool> TryTakeOverAsync(IdempotencyRecord lapsed, Guid owner, CancellationToken cancellationToken)
    {
        var until = clock.GetUtcNow() + Lease;
        return await db.IdempotencyRecords
            .Where(r => r.Scope == lapsed.Scope && r.Key == lapsed.Key && r.State == IdempotencyState.Processing && r.LeaseOwner == lapsed.LeaseOwner)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.LeaseOwner, owner).SetProperty(r => r.LeaseUntil, until).SetProperty(r => r.RegionEpoch, regionEpoch), cancellationToken) == 1;
    }

    /// <summary>
    /// Whether a processing record's holder can no longer finish: its lease lapsed (it died or lost the store), or it
    /// reserved the key under an older region epoch (its region lost the writable region: its store is a standby now).
    /// </summary>
    public bool IsAbandoned(IdempotencyRecord processing) =>
        processing.LeaseUntil < clock.GetUtcNow() || (processing.RegionEpoch is { } held && regionEpoch is { } current && held < current);

    public Task<int> RenewAsync(string scope, string key, Guid owner, CancellationToken cancellationToken)
    {
        var until = clock.GetUtcNow() + Lease;
        return Held(scope, key, owner).ExecuteUpdateAsync(s => s.SetProperty(r => r.LeaseUntil, until), cancellationToken);
    }

    public Task<int> CompleteAsync(string scope, string key, Guid owner, int status, string? contentType, string? location, byte[] body, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        return Held(scope, key, owner).ExecuteUpdateAsync(s => s
            .SetProperty(r => r.State, IdempotencyState.Completed)
            .SetProperty(r => r.LeaseOwner, (Guid?)null)
            .SetProperty(r => r.LeaseUntil, (DateTimeOffset?)null)
            .SetProperty(r => r.CompletedAt, now)
            .SetProperty(r => r.ResponseStatus, status)
            .SetProperty(r => r.ResponseContentType, contentType)
            .SetProperty(r => r.ResponseLocation, location)
            .SetProperty(r => r.ResponseBody, body), cancellationToken);
    }

    /// <summary>Deletes the reservation, so that a retry is evaluated again.</summary>
    public Task<int> ReleaseAsync(string scope, string key, Guid owner, CancellationToken cancellationToken) =>
        Held(scope, key, owner).ExecuteDeleteAsync(cancellationToken);

    public Task<int> PruneAsync(DateTimeOffset createdBefore, CancellationToken cancellationToken) =>
        db.IdempotencyRecords.Where(r => r.CreatedAt < createdBefore).ExecuteDeleteAsync(cancellationToken);

    private IQueryable<IdempotencyRecord> Held(string scope, string key, Guid owner) =>
        db.IdempotencyRecords.Where(r => r.Scope == scope && r.Key == key && r.State == IdempotencyState.Processing && r.LeaseOwner == owner);

    private static bool IsUniqueViolation(DbUpdateException e) => e.InnerException switch
    {
        PostgresException postgres => postgres.SqlState == PostgresErrorCodes.UniqueViolation,
        SqliteException sqlite => sqlite.SqliteExtendedErrorCode is 1555 or 2067, // SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE
        _ => false,
    };
}
