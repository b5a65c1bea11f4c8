using System.Globalization;
using Microsoft.Extensions.Logging;
using Stratus.HostAgent.Confinement;

namespace Stratus.HostAgent.Drivers.Qemu;

/// <summary>Starting a VM (its confined QEMU, its command line, waiting for the guest) and stopping it.</summary>
public sealed partial class QemuDriver
{
    private async Task StartCoreAsync(VmFolder folder, CancellationToken cancellationToken)
    {
        var record = folder.ReadRecord();
        var image = await GalleryImage.LoadAsync(record.Spec.ImagePath, verify: false, cancellationToken);
        if (folder.RunningPid() is { } runningPid)
        {
            // Already running (perhaps adopted while booting): only wait for it to be ready.
            await WaitUntilReadyAsync(folder, runningPid, image.ReadyMarker, _time.GetTimestamp(), cancellationToken);
            return;
        }

        var accelerator = await _accelerator.ResolveAsync(image, cancellationToken);
        var confined = await _confinement.EnsureAsync(cancellationToken);
        folder.ClearRunFiles(includingRuntime: true);
        folder.RotateSerialLog();
        var cgroupProcs = await PrepareConfinedAsync(folder, record.Spec, image, confined, cancellationToken);
        if (record.Spec.Nic is { } nic)
        {
            await Networks.TapDevice.EnsureAsync(nic, confined.User.Uid, cancellationToken);
        }

        var started = _time.GetTimestamp();
        int pid;
        try
        {
            pid = await ConfinedLaunch.StartAsync(_options.QemuSystem, QemuArguments(folder, record.Spec, image, accelerator, _options.Confinement),
                folder, confined.User, cgroupProcs, _time, cancellationToken);
        }
        catch (VmDriverException)
        {
            folder.ClearRunFiles(includingRuntime: true);
            throw;
        }

        folder.WriteRuntime(new VmRuntime(pid, accelerator.Name, record.Spec.Size, _time.GetUtcNow()));
        LogStarting(_logger, folder.Id, pid, accelerator.Name, record.Spec.Size.VCpus, record.Spec.Size.MemoryMiB);
        await WaitUntilReadyAsync(folder, pid, image.ReadyMarker, started, cancellationToken);
    }

    private async Task WaitUntilReadyAsync(VmFolder folder, int pid, string? marker, long started, CancellationToken cancellationToken)
    {
        var readiness = GuestReadiness.ForMarker(marker);
        string? failure = null;
        while (failure is null)
        {
            var log = folder.ReadSerialLog();
            if (readiness.IsReady(log))
            {
                LogReady(_logger, folder.Id, _time.GetElapsedTime(started).TotalSeconds);
                return;
            }

            if (log.Contains("Kernel panic - not syncing", StringComparison.Ordinal))
            {
                // A panicked kernel never comes back: no point in waiting out the timeout.
                failure = "its kernel panicked";
            }
            else if (!HostProcess.IsRunning(pid, folder.ProcessMark))
            {
                failure = "its QEMU process ended while it booted";
            }
            else if (_time.GetElapsedTime(started) > _options.ReadyTimeout)
            {
                failure = readiness.NotReadyWithin(_options.ReadyTimeout);
            }
            else
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), _time, cancellationToken);
            }
        }

        // A guest that cannot boot is turned off rather than left spinning; its log stays for diagnosis.
        var tail = SerialLog.Tail(folder.ReadSerialLog(), 40);
        await StopCoreAsync(folder, TimeSpan.Zero, CancellationToken.None);
        LogBootFailed(_logger, folder.Id, failure);
        throw new VmBootFailedException(folder.Id, failure, tail);
    }

    private async Task StopCoreAsync(VmFolder folder, TimeSpan gracePeriod, CancellationToken cancellationToken)
    {
        if (folder.RunningPid() is not { } pid)
        {
            folder.ClearRunFiles(includingRuntime: true);
            return;
        }

        var how = "forced";
        if (gracePeriod > TimeSpan.Zero)
        {
            try
            {
                await QmpAsync(folder, "system_powerdown", null, cancellationToken);
                if (await HostProcess.WaitForExitAsync(pid, folder.ProcessMark, gracePeriod, _time, cancellationToken))
                {
                    how = "graceful (ACPI power-off)";
                }
            }
            catch (Exception exception) when (exception is VmDriverException or TimeoutException)
            {
                LogPowerdownFailed(_logger, folder.Id, exception.Message);
            }
        }

        if (HostProcess.IsRunning(pid, folder.ProcessMark))
        {
            // quit lets QEMU flush the disk's metadata; SIGKILL only if QEMU itself is stuck.
            string? quitError = null;
            try
            {
                await QmpAsync(folder, "quit", null, cancellationToken, TimeSpan.FromSeconds(5));
            }
            catch (Exception exception) when (exception is VmDriverException or TimeoutException)
            {
                // QEMU may close the connection before its answer to quit: only a process that stays counts.
                quitError = exception.Message;
            }

            if (!await HostProcess.WaitForExitAsync(pid, folder.ProcessMark, TimeSpan.FromSeconds(10), _time, cancellationToken))
            {
                LogPowerdownFailed(_logger, folder.Id, quitError ?? "quit was answered but QEMU still runs");
                HostProcess.Kill(pid, folder.ProcessMark);
                how = "killed";
                if (!await HostProcess.WaitForExitAsync(pid, folder.ProcessMark, TimeSpan.FromSeconds(10), _time, cancellationToken))
                {
                    throw new VmDriverException($"QEMU process {pid} of VM '{folder.Id}' survives SIGKILL.");
                }
            }
        }

        folder.ClearRunFiles(includingRuntime: true);
        _confinement.Current?.Cgroups.Remove(CgroupName(folder.Id));
        LogStopped(_logger, folder.Id, how);
    }

    /// <summary>The VM's cgroup: the id, prefixed by this data folder's, as two agents of one machine may share ids.</summary>
    private string CgroupName(string vmId) =>
        $"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(_vmsRoot)))[..8]}-{vmId}";

    /// <summary>What the guest user must read (the image) and own (the VM's folder), and the VM's cgroups.</summary>
    private async Task<IReadOnlyList<string>> PrepareConfinedAsync(VmFolder folder, VmSpec spec, GalleryImage image, HostConfinement.Ready confined,
        CancellationToken cancellationToken)
    {
        foreach (var file in new[] { image.KernelPath, image.InitrdPath, image.BaseDiskPath }.OfType<string>())
        {
            confined.User.RequireReadable(file);
        }

        // The folder itself is the user's (below); the folders above it must let the user through.
        confined.User.RequirePassable(Path.GetDirectoryName(folder.Path)!);
        await confined.User.OwnAsync(folder.Path, [folder.DiskFile, folder.SerialLog, folder.PreviousSerialLog], cancellationToken);
        return confined.Cgroups.Prepare(CgroupName(folder.Id), spec.Size.VCpus, _confinement.MemoryLimitBytes(spec.Size.MemoryMiB));
    }

    /// <summary>
    /// The image's kernel command line with no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer check
    /// can miss its ticks and panic at boot ("IO-APIC + timer doesn't work"), as two VMs booting at once on a busy
    /// machine did. Added here too, so that images built before scripts/build-tiny-image.sh carried it boot safely.
    /// </summary>
    internal static string KernelCommandLine(GalleryImage image) =>
        image.KernelCommandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("no_timer_check")
            ? image.KernelCommandLine
            : $"no_timer_check {image.KernelCommandLine}".Trim();

    private static List<string> QemuArguments(VmFolder folder, VmSpec spec, GalleryImage image, AcceleratorChoice accelerator,
        GuestConfinementOptions confinement)
    {
        // A gallery image boots its kernel directly; a custom image boots from its disk (the firmware's first boot device).
        // stratus.net=dhcp: the tiny image's init asks the connection's DHCP server (udhcpc) instead of the hosted network's fixed address.
        var network = spec.Nic is null ? "" : " stratus.net=dhcp";
        var commandLine = $"{KernelCommandLine(image)} stratus.hostname={spec.HostName ?? spec.Id}{network} {spec.KernelArguments}".Trim();
        string[] boot = image.KernelPath is { } kernel
            ? ["-kernel", kernel, "-initrd", image.InitrdPath!, "-append", commandLine]
            : [];
        var disk = image.KernelPath is null ? $"virtio-blk-pci,drive={DiskNode},id=vd0,bootindex=0" : $"virtio-blk-pci,drive={DiskNode},id=vd0";
        return
        [
            "-name", $"guest={spec.Id},process=stratus-{spec.Id}",
            "-nodefaults", "-no-user-config",
            "-machine", "q35",
            "-accel", accelerator.Name == "tcg" ? $"tcg,tb-size={confinement.TranslationCacheMiB.ToString(CultureInfo.InvariantCulture)}" : accelerator.Name,
            // seccomp: no obsolete syscalls, no setuid, no fork/exec, no scheduler or cgroup changes (docs/adr/0007).
            "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
            "-smp", spec.Size.VCpus.ToString(CultureInfo.InvariantCulture),
            "-m", spec.Size.MemoryMiB.ToString(CultureInfo.InvariantCulture),
            .. boot,
            "-blockdev", $"driver=qcow2,node-name={DiskNode},file.driver=file,file.filename={folder.DiskFile}",
            "-device", disk,
            // Hosted network: QEMU's user-mode NAT. romfile= because Debian's QEMU ships no iPXE ROM without ipxe-qemu.
            .. NetworkArguments(spec.Nic),
            "-device", "VGA",
            // The serial console: a socket to type on, and a log QEMU writes whether or not anyone is connected.
            "-chardev", $"socket,id=serial0,path={folder.SerialSocket},server=on,wait=off,logfile={folder.SerialLog},logappend=on",
            "-serial", "chardev:serial0",
            "-chardev", $"socket,id=qmp,path={folder.QmpSocket},server=on,wait=off",
            "-mon", "chardev=qmp,mode=control",
            "-vnc", $"unix:{folder.VncSocket}",
            "-display", "none",
            // Detached from the agent by ConfinedLaunch (its own session, stdio on /dev/null): an agent restart leaves VMs running.
            "-pidfile", folder.PidFile,
        ];
    }

    /// <summary>
    /// The NIC: on a tenant network, the tap the agent made (owned by the guest user: QEMU opens it with no privilege and
    /// runs no script) with the VM's MAC; else the hosted network, QEMU's user-mode NAT.
    /// </summary>
    private static string[] NetworkArguments(VmNic? nic) => nic is null
        ? ["-netdev", "user,id=net0", "-device", "virtio-net-pci,netdev=net0,romfile="]
        : ["-netdev", $"tap,id=net0,ifname={nic.TapName},script=no,downscript=no",
           "-device", $"virtio-net-pci,netdev=net0,mac={nic.MacAddress},host_mtu={nic.Mtu.ToString(CultureInfo.InvariantCulture)},romfile="];

    [LoggerMessage(EventId = 6003, Level = LogLevel.Information, Message = "Started VM {VmId} (pid {Pid}, {Accelerator}, {VCpus} vCPU, {MemoryMiB} MiB)")]
    private static partial void LogStarting(ILogger logger, string vmId, int pid, string accelerator, int vCpus, int memoryMiB);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Information, Message = "VM {VmId} is ready, {Seconds:0.0} s after its start")]
    private static partial void LogReady(ILogger logger, string vmId, double seconds);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Warning, Message = "VM {VmId} failed to boot: {Reason}")]
    private static partial void LogBootFailed(ILogger logger, string vmId, string reason);

    [LoggerMessage(EventId = 6006, Level = LogLevel.Information, Message = "Stopped VM {VmId}: {How}")]
    private static partial void LogStopped(ILogger logger, string vmId, string how);

    [LoggerMessage(EventId = 6015, Level = LogLevel.Warning, Message = "VM {VmId}: QMP request failed while stopping: {Error}")]
    private static partial void LogPowerdownFailed(ILogger logger, string vmId, string error);
}
