using Stratus.Platform.Regions;

namespace Stratus.Platform.Tests.Regions;

/// <summary>A lease is the span the front door gave, counted on this machine's clock from when the question left.</summary>
public sealed class LeaseClockTests
{
    private static readonly DateTimeOffset FrontDoorNow = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Lease_FromAFrontDoorWhoseClockIsAMinuteAhead_EndsTheSpanAfterTheQuestionNotAMinuteLater()
    {
        var lease = new RegionLease("A", true, "A", 1, FrontDoorNow.AddSeconds(10));
        var sentAt = FrontDoorNow.AddMinutes(-1);

        Assert.Equal(sentAt.AddSeconds(9), RegionLeaseKeeper.MeasuredOnThisClock(lease, FrontDoorNow, sentAt));
    }

    [Fact]
    public void Lease_FromAFrontDoorWhoseClockIsAMinuteBehind_StillLastsItsSpan()
    {
        var lease = new RegionLease("A", true, "A", 1, FrontDoorNow.AddSeconds(10));
        var sentAt = FrontDoorNow.AddMinutes(1);

        Assert.Equal(sentAt.AddSeconds(9), RegionLeaseKeeper.MeasuredOnThisClock(lease, FrontDoorNow, sentAt));
    }

    [Fact]
    public void Lease_WithoutADateHeader_EndsWhereItSays()
    {
        var lease = new RegionLease("A", true, "A", 1, FrontDoorNow.AddSeconds(10));

        Assert.Equal(lease.ValidUntil, RegionLeaseKeeper.MeasuredOnThisClock(lease, null, FrontDoorNow));
    }
}
