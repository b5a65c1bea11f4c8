using Stratus.HostAgent.Drivers.Qemu;

namespace Stratus.HostAgent.Tests.Drivers.Qemu;

/// <summary>The readiness rule as the README states it, on serial logs as guests write them.</summary>
public sealed class GuestReadinessTests
{
    private static readonly GuestReadiness DiskBooted = GuestReadiness.ForMarker(null);

    [Theory]
    [InlineData("\r\nDebian GNU/Linux 12 debian ttyS0\r\n\r\ndebian login: ")]
    [InlineData("Ubuntu 24.04 LTS ubuntu ttyS0\r\n\r\nubuntu login: root\r\nPassword: ")]
    [InlineData("\u001b[H\u001b[Jcustomdisk login: ")]
    [InlineData("[    2.100000] Run /init as init process\r\nSTRATUS-READY\r\n")]
    public void DiskBootedImage_IsReady_AtALoginPromptOrTheMarker(string serialLog) =>
        Assert.True(DiskBooted.IsReady(serialLog));

    [Theory]
    [InlineData("")]
    [InlineData("\r\nSYSLINUX 6.04 20210613 Copyright (C) 1994-2015 H. Peter Anvin et al\r\n")]
    [InlineData("[  OK  ] Started systemd-logind.service - User Login Management.\r\n")]
    [InlineData("[    1.000000] audit: type=1 msg=login: failed\r\n")]
    [InlineData("Please enter login: details on the console")]
    public void DiskBootedImage_IsNotReady_WithoutAPromptAtTheStartOfALine(string serialLog) =>
        Assert.False(DiskBooted.IsReady(serialLog));

    [Fact]
    public void ImageWithAMarker_IsReady_OnlyAtItsMarker()
    {
        var gallery = GuestReadiness.ForMarker("STRATUS-READY");

        Assert.False(gallery.IsReady("tiny login: "));
        Assert.True(gallery.IsReady("STRATUS-READY\r\n"));
    }

    [Fact]
    public void NotReadyReason_SaysWhatADiskBootedImageLacked()
    {
        Assert.StartsWith("no login prompt ('HOSTNAME login:') appeared on its serial console (ttyS0) within 180 s", DiskBooted.NotReadyWithin(TimeSpan.FromMinutes(3)), StringComparison.Ordinal);
        Assert.Equal("it did not report ready (STRATUS-READY) within 180 s", GuestReadiness.ForMarker("STRATUS-READY").NotReadyWithin(TimeSpan.FromMinutes(3)));
    }
}
