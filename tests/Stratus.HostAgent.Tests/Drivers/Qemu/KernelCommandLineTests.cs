using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Drivers.Qemu;

namespace Stratus.HostAgent.Tests.Drivers.Qemu;

/// <summary>
/// A gallery image's kernel always boots with no_timer_check (two VMs booting at once under TCG on a loaded machine
/// panicked on the IO-APIC timer check): the image's own command line when it has it, added when an older image lacks it.
/// </summary>
public sealed class KernelCommandLineTests
{
    [Theory]
    [InlineData("console=tty1 console=ttyS0", "no_timer_check console=tty1 console=ttyS0")]
    [InlineData("no_timer_check console=tty1 console=ttyS0", "no_timer_check console=tty1 console=ttyS0")]
    [InlineData("console=ttyS0 no_timer_check", "console=ttyS0 no_timer_check")]
    [InlineData("", "no_timer_check")]
    public void The_kernel_command_line_carries_no_timer_check_once(string manifest, string expected)
    {
        var image = new GalleryImage("/images/tiny", "Tiny", "1", "/images/tiny/vmlinux", "/images/tiny/initrd.img", "/images/tiny/disk.qcow2", manifest, "STRATUS-READY");

        Assert.Equal(expected, QemuDriver.KernelCommandLine(image));
    }
}
