using System.Text.RegularExpressions;

namespace Stratus.HostAgent.Drivers.Qemu;

/// <summary>
/// When a booting guest counts as ready, read from what it wrote on its serial console (ttyS0). An image that names
/// a marker (the gallery image: STRATUS-READY) is ready once that line appears. An image that boots from its disk
/// (a custom image: a distribution that knows nothing of Stratus) is ready once a login prompt appears, a line that
/// is a host name followed by "login:" as getty and agetty print it, or STRATUS-READY if it prints that. A positive
/// signal from the guest rather than "QEMU runs": a disk the firmware cannot boot, or a kernel without a serial
/// console, fails at the deadline with a reason that says what was missing.
/// </summary>
internal sealed partial class GuestReadiness
{
    private readonly string? _marker;

    private GuestReadiness(string? marker) => _marker = marker;

    /// <summary>The rule for an image's marker (<see cref="GalleryImage.ReadyMarker"/>): null for a disk-booted image.</summary>
    public static GuestReadiness ForMarker(string? marker) => new(marker);

    public bool IsReady(string serialLog) => _marker is { } marker
        ? serialLog.Contains(marker, StringComparison.Ordinal)
        : serialLog.Contains(GalleryImage.DefaultReadyMarker, StringComparison.Ordinal)
            || (serialLog.Contains("login:", StringComparison.Ordinal) && LoginPrompt().IsMatch(SerialLog.Clean(serialLog)));

    /// <summary>Why a guest that was not ready by <paramref name="timeout"/> failed, in words an image's author can act on.</summary>
    public string NotReadyWithin(TimeSpan timeout) => _marker is { } marker
        ? $"it did not report ready ({marker}) within {timeout.TotalSeconds:0} s"
        : $"no login prompt ('HOSTNAME login:') appeared on its serial console (ttyS0) within {timeout.TotalSeconds:0} s: "
            + "a custom image must boot from its disk with BIOS firmware and run a getty on ttyS0 (console=ttyS0 on its kernel command line)";

    // Multiline: the prompt starts a line of its own; what follows it on that line (a name typed there) does not matter.
    [GeneratedRegex(@"^\S+ login:", RegexOptions.Multiline)]
    private static partial Regex LoginPrompt();
}
