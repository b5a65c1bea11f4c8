using System.Buffers.Binary;
using System.Security.Cryptography;
using Stratus.Provisioning.Settings;

namespace Stratus.Provisioning.RestorePoints;

/// <summary>
/// When restore points are taken and how long they are kept, as in Windows 365: one automatic point per
/// frequency period, the last 10 kept short-term, one a week kept long-term (the last 4), and one manual point
/// that lasts 28 days. Pure functions of the points and the time, so that they are tested over weeks in a test.
/// </summary>
public static class RestorePointSchedule
{
    public const int ShortTermKept = 10;
    public const int LongTermKept = 4;
    public static readonly TimeSpan LongTermSpacing = TimeSpan.FromDays(7);
    public static readonly TimeSpan LongTermLifetime = TimeSpan.FromDays(28);
    public static readonly TimeSpan ManualLifetime = TimeSpan.FromDays(28);

    /// <summary>A failed point stays listed this long, so that an admin sees it, then its row goes.</summary>
    public static readonly TimeSpan FailedKept = TimeSpan.FromDays(1);

    /// <summary>
    /// The first slot strictly after <paramref name="after"/>. Each Cloud PC's slots are offset within the
    /// period by a hash of its id, so that a tenant's Cloud PCs (made together) do not all snapshot at once.
    /// </summary>
    public static DateTimeOffset NextSlot(Guid cloudPcId, TimeSpan period, DateTimeOffset after)
    {
        var periodTicks = period.Ticks;
        var hash = BinaryPrimitives.ReadUInt64LittleEndian(SHA256.HashData(cloudPcId.ToByteArray()));
        // Whole seconds: stores keep less precision than ticks, and a slot is matched by its value.
        var offsetTicks = (long)(hash % (ulong)(periodTicks / TimeSpan.TicksPerSecond)) * TimeSpan.TicksPerSecond;
        var origin = DateTimeOffset.UnixEpoch.Ticks + offsetTicks;
        var periods = Math.Floor((double)(after.UtcTicks - origin) / periodTicks);
        var slot = origin + ((long)periods + 1) * periodTicks;
        while (slot <= after.UtcTicks)
        {
            slot += periodTicks;
        }

        return new DateTimeOffset(slot, TimeSpan.Zero);
    }

    public static TimeSpan Period(RestorePointFrequency frequency, TimeSpan hour) => hour * (int)frequency;

    /// <summary>
    /// Decides what keeps a point that just became ready: an automatic point is long-term when no other
    /// long-term point of its Cloud PC is less than a week older, otherwise short-term.
    /// </summary>
    public static void Classify(RestorePoint point, IEnumerable<RestorePoint> others, TimeSpan period)
    {
        if (point.Type == RestorePointType.Manual)
        {
            point.Retention = RestorePointRetention.Manual;
            point.ExpiresAt = point.CreatedAt + ManualLifetime;
            return;
        }

        var recentLongTerm = others.Any(o => o.Id != point.Id && o.Retention == RestorePointRetention.LongTerm
            && o.Status is RestorePointStatus.Ready && o.CreatedAt > point.CreatedAt - LongTermSpacing);
        point.Retention = recentLongTerm ? RestorePointRetention.ShortTerm : RestorePointRetention.LongTerm;
        // Short-term points go by count: ten periods is when the tenth newer one pushes this one out.
        point.ExpiresAt = point.CreatedAt + (recentLongTerm ? period * ShortTermKept : LongTermLifetime);
    }

    /// <summary>The points of one Cloud PC that retention lets go now.</summary>
    public static IReadOnlyList<RestorePoint> Expired(IReadOnlyCollection<RestorePoint> points, DateTimeOffset now)
    {
        var ready = points.Where(p => p.Status == RestorePointStatus.Ready).OrderByDescending(p => p.CreatedAt).ToList();
        var expired = new List<RestorePoint>();
        expired.AddRange(ready.Where(p => p.Retention == RestorePointRetention.ShortTerm).Skip(ShortTermKept));
        var longTerm = ready.Where(p => p.Retention == RestorePointRetention.LongTerm).ToList();
        expired.AddRange(longTerm.Skip(LongTermKept));
        expired.AddRange(longTerm.Take(LongTermKept).Where(p => p.ExpiresAt <= now));
        // A new manual point replaces the previous one.
        var manual = ready.Where(p => p.Retention == RestorePointRetention.Manual).ToList();
        expired.AddRange(manual.Skip(1));
        expired.AddRange(manual.Take(1).Where(p => p.ExpiresAt <= now));
        expired.AddRange(points.Where(p => p.Status == RestorePointStatus.Failed && p.CreatedAt + FailedKept <= now));
        return expired;
    }

    /// <summary>The point a bulk restore picks for a Cloud PC: the closest to the time on the side asked for.</summary>
    public static RestorePoint? Closest(IEnumerable<RestorePoint> points, DateTimeOffset time, string timeRange, DateTimeOffset now) =>
        points.Where(p => IsRestorable(p, now)).Where(p => timeRange switch
            {
                "before" => p.CreatedAt <= time,
                "after" => p.CreatedAt >= time,
                _ => true,
            })
            .OrderBy(p => (p.CreatedAt - time).Duration()).FirstOrDefault();

    public static bool IsRestorable(RestorePoint point, DateTimeOffset now) =>
        point.Status == RestorePointStatus.Ready && (point.ExpiresAt is not { } expires || expires > now || point.Retention == RestorePointRetention.ShortTerm);
}
