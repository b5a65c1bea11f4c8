using System.Diagnostics;
using System.Globalization;
using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Drivers.Qemu;

namespace Stratus.Bench;

/// <summary>
/// The reference the driver is compared with: the same guest as QemuDriver boots (machine, devices, kernel,
/// initrd, command line, a copy-on-write clone of the base disk, accelerator, vCPUs, memory), started directly,
/// without what the driver adds to manage a VM: the image checks, -daemonize, QMP, VNC, the serial socket and
/// log. The serial console is QEMU's stdout, read line by line, so the marker is seen as soon as it is written.
/// </summary>
internal static class BareQemu
{
    public static async Task<TimeSpan> BootAsync(GalleryImage image, string accelerator, VmSize size, QemuDriverOptions options,
        string folder, TimeProvider time, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var disk = Path.Combine(folder, "disk.qcow2");
        try
        {
            // Not timed: the driver's clone is made in its create, before the start this figure compares with.
            await Machine.RunAsync(options.QemuImg, ["create", "-q", "-f", "qcow2", "-b", image.BaseDiskPath, "-F", "qcow2", disk,
                BootBenchmark.Bytes(size.DiskGiB)], TimeSpan.FromMinutes(1), cancellationToken);
            return await BootToMarkerAsync(image, accelerator, size, options, disk, time, cancellationToken);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<TimeSpan> BootToMarkerAsync(GalleryImage image, string accelerator, VmSize size, QemuDriverOptions options,
        string disk, TimeProvider time, CancellationToken cancellationToken)
    {
        // Checked before the benchmark starts; the throws only satisfy the compiler.
        var kernel = image.KernelPath ?? throw new InvalidOperationException($"Image '{image.Name}' has no kernel.");
        var initrd = image.InitrdPath ?? throw new InvalidOperationException($"Image '{image.Name}' has no initrd.");
        var marker = image.ReadyMarker ?? throw new InvalidOperationException($"Image '{image.Name}' has no ready marker.");
        var start = new ProcessStartInfo(options.QemuSystem)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] arguments =
        [
            "-nodefaults", "-no-user-config",
            "-machine", "q35", "-accel", accelerator,
            "-smp", size.VCpus.ToString(CultureInfo.InvariantCulture),
            "-m", size.MemoryMiB.ToString(CultureInfo.InvariantCulture),
            "-kernel", kernel, "-initrd", initrd, "-append", $"{image.KernelCommandLine} stratus.hostname=bare",
            "-blockdev", $"driver=qcow2,node-name=disk0,file.driver=file,file.filename={disk}",
            "-device", "virtio-blk-pci,drive=disk0,id=vd0",
            "-netdev", "user,id=net0", "-device", "virtio-net-pci,netdev=net0,romfile=",
            "-device", "VGA",
            "-serial", "stdio", "-display", "none",
        ];
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var started = time.GetTimestamp();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Cannot run {options.QemuSystem}.");
        var errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
        // The driver's budget for a boot: a bare boot that needs more has failed just as a driver boot would.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.ReadyTimeout);
        try
        {
            while (await process.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
            {
                if (line.Contains(marker, StringComparison.Ordinal))
                {
                    return time.GetElapsedTime(started);
                }
            }

            await process.WaitForExitAsync(deadline.Token);
            throw new InvalidOperationException($"Bare QEMU ended (exit {process.ExitCode}) before {marker}: {(await errors).Trim()}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Bare QEMU did not print {marker} within {options.ReadyTimeout.TotalSeconds:0} s.");
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
}
