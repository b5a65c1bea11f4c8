using Microsoft.EntityFrameworkCore;
using Stratus.Identity.Persistence;

namespace Stratus.Identity.Auth;

/// <summary>
/// Growing delays for guessing, never a lock-out: counted per user name and client address together (so that a
/// stranger's guesses slow down the stranger, while the account's owner signs in from their own client), and per
/// client address over every user name (so that one client cannot try a password on many accounts quickly).
/// Read from the recorded attempts, so every identity instance applies the same delays.
/// </summary>
internal static class SignInThrottle
{
    /// <summary>Failures forgotten after this: the delays start over.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    /// <summary>Mistakes of one user name from one client before the first delay.</summary>
    public const int FreeFailuresPerClient = 3;

    /// <summary>Failures from one address, any user name, before the first delay.</summary>
    public const int FreeFailuresPerAddress = 20;

    public static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(5);

    public static readonly TimeSpan LongestDelay = TimeSpan.FromMinutes(15);

    /// <summary>
    /// The wait after <paramref name="failures"/> failures: none for the free ones, then the first delay, doubled with
    /// each further failure (a refused early try counts too, so a client that keeps trying waits longer each time).
    /// </summary>
    public static TimeSpan DelayAfter(int failures, int free)
    {
        if (failures < free)
        {
            return TimeSpan.Zero;
        }

        var doublings = Math.Min(failures - free, 20);
        var delay = FirstDelay * Math.Pow(2, doublings);
        return delay < LongestDelay ? delay : LongestDelay;
    }

    /// <summary>
    /// Null when this client may try <paramref name="normalizedUserName"/> now; else how long it must wait, counting this
    /// refused try too (it is recorded as a failure), so that a client that waits that long is let in.
    /// </summary>
    public static async Task<TimeSpan?> RetryAfterAsync(IdentityDbContext db, string normalizedUserName, string remoteAddress, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var since = now - Window;

        // The client's latest tries of this user name, up to its last success: enough of them to reach the longest delay.
        var recent = await db.SignInAttempts.AsNoTracking()
            .Where(a => a.NormalizedUserName == normalizedUserName && a.RemoteAddress == remoteAddress && a.At >= since)
            .OrderByDescending(a => a.At).Take(32).Select(a => new { a.Outcome, a.At }).ToListAsync(cancellationToken);
        var clientFailures = recent.TakeWhile(a => a.Outcome != SignInOutcome.Succeeded).ToList();
        var clientFree = clientFailures.Count == 0 ? now : clientFailures[0].At + DelayAfter(clientFailures.Count, FreeFailuresPerClient);

        var addressFailures = db.SignInAttempts.AsNoTracking().Where(a => a.RemoteAddress == remoteAddress && a.At >= since && a.Outcome != SignInOutcome.Succeeded);
        var addressCount = await addressFailures.CountAsync(cancellationToken);
        var addressFree = now;
        if (addressCount >= FreeFailuresPerAddress)
        {
            addressFree = await addressFailures.OrderByDescending(a => a.At).Select(a => a.At).FirstAsync(cancellationToken) + DelayAfter(addressCount, FreeFailuresPerAddress);
        }

        if (clientFree <= now && addressFree <= now)
        {
            return null;
        }

        var clientWait = DelayAfter(clientFailures.Count + 1, FreeFailuresPerClient);
        var addressWait = DelayAfter(addressCount + 1, FreeFailuresPerAddress);
        return clientWait > addressWait ? clientWait : addressWait;
    }
}
