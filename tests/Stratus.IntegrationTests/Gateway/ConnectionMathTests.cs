using Microsoft.Extensions.Time.Testing;
using Stratus.Gateway.Reports;

namespace Stratus.IntegrationTests.Gateway;

/// <summary>The reports' arithmetic: hours from session intervals clipped to the window, overlaps once; percentiles; categories.</summary>
public sealed class ConnectionMathTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Window = TimeSpan.FromDays(28);

    [Fact]
    public void Hours_are_clipped_to_the_window_overlaps_count_once_and_an_open_session_runs_to_now()
    {
        var clock = new FakeTimeProvider(Start + TimeSpan.FromDays(30));
        var now = clock.GetUtcNow();
        var windowStart = now - Window;
        (DateTimeOffset, DateTimeOffset?)[] sessions =
        [
            (At(0, 0), At(0, 10)), // before the window: nothing
            (At(1, 20), At(2, 6)), // straddles its start: 6 h inside
            (At(20, 0), At(20, 5)), // these two overlap: 8 h together, not 10
            (At(20, 3), At(20, 8)),
            (At(20, 4), At(20, 6)), // inside the two above: nothing more
            (At(29, 22), null), // still open: 2 h so far
        ];

        Assert.Equal(16, ConnectionMath.ConnectedHours(sessions, windowStart, now), 6);

        // Three days on, the straddler has left the window and the open session has grown.
        clock.Advance(TimeSpan.FromDays(3));
        Assert.Equal(8 + 74, ConnectionMath.ConnectedHours(sessions, clock.GetUtcNow() - Window, clock.GetUtcNow()), 6);
    }

    [Fact]
    public void A_session_that_starts_after_now_or_ends_before_it_starts_counts_nothing()
    {
        var now = Start + TimeSpan.FromDays(30);
        Assert.Equal(0, ConnectionMath.ConnectedHours([(now + TimeSpan.FromHours(1), null), (At(10, 5), At(10, 4))], now - Window, now));
        Assert.Equal(0, ConnectionMath.ConnectedHours([], now - Window, now));
    }

    [Theory]
    [InlineData(new[] { 70.0, 50, 250, 60, 80 }, 50, 70)]
    [InlineData(new[] { 70.0, 50, 250, 60, 80 }, 95, 250)]
    [InlineData(new[] { 42.0 }, 50, 42)]
    [InlineData(new[] { 42.0 }, 95, 42)]
    [InlineData(new[] { 10.0, 20 }, 50, 10)]
    [InlineData(new[] { 10.0, 20 }, 95, 20)]
    public void Percentiles_are_nearest_rank_so_always_a_measured_value(double[] values, double percent, double expected) =>
        Assert.Equal(expected, ConnectionMath.Percentile(values, percent));

    [Theory]
    [InlineData(0, "good")]
    [InlineData(99.99, "good")]
    [InlineData(100, "average")]
    [InlineData(200, "average")]
    [InlineData(200.01, "high")]
    public void Round_trip_times_fall_in_the_issue_buckets(double milliseconds, string category) =>
        Assert.Equal(category, ConnectionMath.QualityCategory(milliseconds));

    [Theory]
    [InlineData(0, 0, "neverConnected")]
    [InlineData(0, 1, "low")]
    [InlineData(39.99, 3, "low")]
    [InlineData(40, 3, "average")]
    [InlineData(80, 3, "average")]
    [InlineData(80.01, 3, "high")]
    public void Hours_fall_in_the_utilization_buckets(double hours, int sessions, string category) =>
        Assert.Equal(category, ConnectionMath.UtilizationCategory(hours, sessions));

    private static DateTimeOffset At(int day, int hour) => Start + TimeSpan.FromDays(day) + TimeSpan.FromHours(hour);
}
