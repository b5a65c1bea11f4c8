using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Stratus.HostAgent.Confinement;

namespace Stratus.HostAgent.Drivers.Qemu;

public enum AcceleratorKind
{
    /// <summary>QEMU's software emulation: works everywhere, about ten times slower.</summary>
    Tcg,

    /// <summary>Hardware virtualization through /dev/kvm.</summary>
    Kvm,
}

public enum AcceleratorMode
{
    /// <summary>KVM when a real boot under it works, else TCG.</summary>
    Auto,
    Kvm,
    Tcg,
}

/// <summary>What a KVM probe's boot showed: the guest's user space reached, or why not.</summary>
internal sealed record KvmProbeBoot(bool ReachedUserSpace, string? Failure);

public sealed record AcceleratorChoice(AcceleratorKind Kind, string Reason, TimeSpan ProbeTime)
{
    /// <summary>The name QEMU's -accel takes, and the one reported: "kvm" or "tcg".</summary>
    public string Name => Kind switch
    {
        AcceleratorKind.Kvm => "kvm",
        AcceleratorKind.Tcg => "tcg",
    };
}

/// <summary>
/// Chooses between KVM and TCG once per driver. /dev/kvm existing proves little: on some hosts (nested
/// virtualization) it opens and QEMU starts, but the guest never gets past its first instructions. So the
/// probe boots the image's kernel under KVM for real, with an init that only prints a line, and takes KVM
/// only if that line arrives within the timeout. The probe's QEMU is confined as a VM's is (the guest user, no
/// capabilities, QEMU's seccomp sandbox): it runs the image's kernel, which is as untrusted as any guest.
/// </summary>
public sealed partial class Accelerator(QemuDriverOptions options, ILogger<Accelerator> logger, TimeProvider time)
{
    internal const string ProbeMarker = "STRATUS-KVM-PROBE";
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile AcceleratorChoice? _choice;

    /// <summary>The accelerator for this host: from the options, or probed on first use and then cached.</summary>
    public async Task<AcceleratorChoice> ResolveAsync(GalleryImage image, CancellationToken cancellationToken = default)
    {
        if (_choice is { } cached)
        {
            return cached;
        }

        if (image.KernelPath is null && options.Accelerator == AcceleratorMode.Auto)
        {
            // The probe boots a kernel, and an image that boots from its disk has none. Not cached: the next
            // VM of an image with a kernel (the gallery's) probes and settles it.
            return new AcceleratorChoice(AcceleratorKind.Tcg, "no kernel to probe KVM with (the image boots from its disk)", TimeSpan.Zero);
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            _choice ??= options.Accelerator switch
            {
                AcceleratorMode.Kvm => new AcceleratorChoice(AcceleratorKind.Kvm, "configured", TimeSpan.Zero),
                AcceleratorMode.Tcg => new AcceleratorChoice(AcceleratorKind.Tcg, "configured", TimeSpan.Zero),
                AcceleratorMode.Auto => await ProbeAsync(options.QemuSystem, image, options.Confinement.User, options.KvmProbeTimeout, time, cancellationToken),
            };
            LogChosen(logger, _choice.Name, _choice.Reason, _choice.ProbeTime.TotalMilliseconds);
            return _choice;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Boots <paramref name="image"/>'s kernel under KVM, confined as <paramref name="guestUser"/> (ADR 0007: the probe is
    /// a QEMU like any other), and reports KVM if user space is reached in time, else TCG.
    /// </summary>
    public static async Task<AcceleratorChoice> ProbeAsync(string qemuSystem, GalleryImage image, string guestUser, TimeSpan timeout, TimeProvider time,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.KernelPath is null || image.InitrdPath is null)
        {
            throw new ArgumentException($"Image '{image.Name}' has no kernel to probe KVM with.", nameof(image));
        }

        var started = time.GetTimestamp();
        AcceleratorChoice Tcg(string reason) => new(AcceleratorKind.Tcg, reason, time.GetElapsedTime(started));

        if (!File.Exists("/dev/kvm"))
        {
            return Tcg("/dev/kvm does not exist");
        }

        try
        {
            using var device = new FileStream("/dev/kvm", FileMode.Open, FileAccess.ReadWrite);
        }
        catch (Exception exception) when (exception is UnauthorizedAccessException or IOException)
        {
            return Tcg($"/dev/kvm cannot be opened: {exception.Message}");
        }

        GuestUser user;
        try
        {
            // Never an unconfined QEMU: a host that cannot confine one starts no VM either (HostConfinement).
            user = await GuestUser.EnsureAsync(guestUser, cancellationToken);
        }
        catch (VmDriverException exception)
        {
            return Tcg($"the probe cannot run as {guestUser}: {exception.Message}");
        }

        var boot = await BootAsync(ProbeCommand(qemuSystem, image, AcceleratorKind.Kvm, user), timeout, cancellationToken);
        return boot.ReachedUserSpace
            ? new AcceleratorChoice(AcceleratorKind.Kvm, "a KVM boot reached user space", time.GetElapsedTime(started))
            : Tcg(boot.Failure!);
    }

    /// <summary>
    /// The probe's command (program first): QEMU under <paramref name="accelerator"/>, run as <paramref name="user"/> with
    /// no groups, no capabilities and no_new_privs, under QEMU's seccomp sandbox, as a VM's QEMU is (ConfinedLaunch).
    /// It boots the kernel with an init that prints <see cref="ProbeMarker"/>, with no network and no disk.
    /// </summary>
    internal static IReadOnlyList<string> ProbeCommand(string qemuSystem, GalleryImage image, AcceleratorKind accelerator, GuestUser user) =>
    [
        .. ConfinedLaunch.AsUser(user),
        qemuSystem,
        "-sandbox", ConfinedLaunch.Sandbox,
        // -no-reboot: a guest that resets (a boot loop is one way a broken KVM shows) ends QEMU at once.
        "-accel", accelerator == AcceleratorKind.Kvm ? "kvm" : "tcg", "-nodefaults", "-no-reboot", "-machine", "q35", "-m", "256", "-display", "none",
        "-serial", "stdio", "-kernel", image.KernelPath!, "-initrd", image.InitrdPath!,
        "-append", $"console=ttyS0 panic=-1 rdinit=/bin/echo -- {ProbeMarker}",
    ];

    /// <summary>Runs a probe <paramref name="command"/> until its guest prints the marker, QEMU ends, or the timeout.</summary>
    /// <param name="started">Told the process id once it runs (tests read its /proc entry).</param>
    internal static async Task<KvmProbeBoot> BootAsync(IReadOnlyList<string> command, TimeSpan timeout, CancellationToken cancellationToken,
        Action<int>? started = null)
    {
        var start = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in command.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new VmDriverException($"Cannot run {command[0]}.");
        started?.Invoke(process.Id);
        process.StandardInput.Close();
        var errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            // The echo's own line, not the kernel's lines that quote the command line (they start with a timestamp).
            while (await process.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
            {
                if (line.TrimEnd('\r') == ProbeMarker)
                {
                    return new KvmProbeBoot(true, null);
                }
            }

            await process.WaitForExitAsync(deadline.Token);
            var error = (await errors).Trim();
            return new KvmProbeBoot(false, $"QEMU under KVM ended (exit {process.ExitCode}) before the guest's user space: {error}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new KvmProbeBoot(false, $"a KVM boot did not reach user space within {timeout.TotalSeconds:0.#} s");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync(CancellationToken.None);
            await errors;
        }
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "VMs run under {Accelerator}: {Reason} (probe {ProbeMilliseconds:0} ms)")]
    private static partial void LogChosen(ILogger logger, string accelerator, string reason, double probeMilliseconds);
}
