using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Stratus.Platform.Persistence;

/// <summary>
/// Named locks held until the current transaction ends, so that two handlers changing the same thing at once (the
/// same user's membership and license, handled by two workers) take turns, and the second reads what the first
/// committed instead of deciding on half the picture.
/// </summary>
public static class TransactionLocks
{
    /// <summary>Takes the named locks (in one order, so that two callers never wait on each other in a cycle).</summary>
    public static async Task LockAsync(this DatabaseFacade database, IEnumerable<string> names, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(names);
        if (database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("A transaction lock needs a transaction: begin one first.");
        }

        if (!database.IsNpgsql())
        {
            // SQLite: a transaction holds the database's one write lock from its start (BEGIN IMMEDIATE).
            return;
        }

        foreach (var key in names.Select(AdvisoryLockKey.For).Distinct().Order())
        {
            await database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({key})", cancellationToken);
        }
    }
}
