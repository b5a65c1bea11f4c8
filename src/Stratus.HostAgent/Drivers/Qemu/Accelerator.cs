using System.Diagnostics;
using Microsoft.Extensions.Logging;

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
/// only if that line arrives within the timeout.
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
                AcceleratorMode.Auto => await ProbeAsync(options.QemuSystem, image, options.KvmProbeTimeout, time, cancellationToken),
            };
            LogChosen(logger, _choice.Name, _choice.Reason, _choice.ProbeTime.TotalMilliseconds);
            return _choice;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Boots <paramref name="image"/>'s kernel under KVM and reports KVM if user space is reached in time, else TCG.</summary>
    public static async Task<AcceleratorChoice> ProbeAsync(string qemuSystem, GalleryImage image, TimeSpan timeout, TimeProvider time,
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

        var start = new ProcessStartInfo(qemuSystem)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        // -no-reboot: a guest that resets (a boot loop is one way a broken KVM shows) ends QEMU at once.
        string[] arguments =
        [
            "-accel", "kvm", "-nodefaults", "-no-reboot", "-machine", "q35", "-m", "256", "-display", "none",
            "-serial", "stdio", "-kernel", image.KernelPath, "-initrd", image.InitrdPath,
            "-append", $"console=ttyS0 panic=-1 rdinit=/bin/echo -- {ProbeMarker}",
        ];
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new VmDriverException($"Cannot run {qemuSystem}.");
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
                    return new AcceleratorChoice(AcceleratorKind.Kvm, "a KVM boot reached user space", time.GetElapsedTime(started));
                }
            }

            await process.WaitForExitAsync(deadline.Token);
            var error = (await errors).Trim();
            return Tcg($"QEMU under KVM ended (exit {process.ExitCode}) before the guest's user space: {error}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Tcg($"a KVM boot did not reach user space within {timeout.TotalSeconds:0.#} s");
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
