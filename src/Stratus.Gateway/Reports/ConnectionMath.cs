namespace Stratus.Gateway.Reports;

/// <summary>The reports' arithmetic, pure so that it is tested on its own with any clock.</summary>
public static class ConnectionMath
{
    /// <summary>
    /// Hours covered by <paramref name="sessions"/> within [<paramref name="windowStart"/>, <paramref name="now"/>]: each
    /// interval clipped to the window (an open one runs to now), overlapping intervals counted once, since two consoles
    /// open on one Cloud PC at once are one Cloud PC in use.
    /// </summary>
    public static double ConnectedHours(IEnumerable<(DateTimeOffset Start, DateTimeOffset? End)> sessions, DateTimeOffset windowStart, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(sessions);
        var clipped = sessions
            .Select(s => (Start: Max(s.Start, windowStart), End: Min(s.End ?? now, now)))
            .Where(s => s.End > s.Start)
            .OrderBy(s => s.Start);
        var total = TimeSpan.Zero;
        DateTimeOffset? runStart = null, runEnd = null;
        foreach (var (start, end) in clipped)
        {
            if (runEnd is { } open && start <= open)
            {
                runEnd = Max(open, end);
                continue;
            }

            total += runEnd - runStart ?? TimeSpan.Zero;
            (runStart, runEnd) = (start, end);
        }

        total += runEnd - runStart ?? TimeSpan.Zero;
        return total.TotalHours;
    }

    /// <summary>The nearest-rank percentile (<paramref name="percent"/> in 0-100) of non-empty <paramref name="values"/>: always one of the values.</summary>
    public static double Percentile(IReadOnlyCollection<double> values, double percent)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfZero(values.Count);
        ArgumentOutOfRangeException.ThrowIfNegative(percent);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 100);
        var sorted = values.Order().ToList();
        var rank = (int)Math.Ceiling(percent / 100 * sorted.Count);
        return sorted[Math.Max(rank, 1) - 1];
    }

    /// <summary>Good under 100 ms, Average 100 to 200 ms, High over 200 ms (issue 21).</summary>
    public static string QualityCategory(double roundTripMilliseconds) => roundTripMilliseconds switch
    {
        < 100 => "good",
        <= 200 => "average",
        _ => "high",
    };

    /// <summary>High over 80 hours in the window, Average 40 to 80, Low under 40; never connected: no session at all in it.</summary>
    public static string UtilizationCategory(double hours, int sessionsInWindow) => sessionsInWindow == 0 ? "neverConnected" : hours switch
    {
        > 80 => "high",
        >= 40 => "average",
        _ => "low",
    };

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
