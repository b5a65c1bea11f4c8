using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Stratus.HostAgent.Drivers.Qemu;

/// <summary>Finding VMs again: what an earlier driver (or a crash) left in the data folder, and each VM's actual state.</summary>
public sealed partial class QemuDriver
{
    public async Task<IReadOnlyList<VmInfo>> AdoptAsync(CancellationToken cancellationToken = default)
    {
        foreach (var partial in Directory.EnumerateDirectories(_vmsRoot, "*" + PartialSuffix))
        {
            // A create that died before its atomic rename: no one knows of this VM yet.
            Directory.Delete(partial, recursive: true);
            LogRemovedPartial(_logger, partial);
        }

        KillOrphans();
        try
        {
            await _confinement.EnsureAsync(cancellationToken);
        }
        catch (VmDriverException)
        {
            // Set up at the agent's start; a failure (logged) keeps VMs from starting, not the agent from running.
        }

        var adopted = new List<VmInfo>();
        foreach (var folder in Folders())
        {
            await using var _ = await LockAsync(folder.Id, cancellationToken);
            var info = Describe(folder);
            if (info.PowerState == VmPowerState.Running)
            {
                try
                {
                    await QmpAsync(folder, "query-status", null, cancellationToken);
                    LogAdopted(_logger, folder.Id, info.ProcessId ?? 0);
                }
                catch (Exception exception) when (exception is VmDriverException or TimeoutException)
                {
                    info = info with { PowerState = VmPowerState.Unresponsive };
                    LogUnresponsive(_logger, folder.Id, exception.Message);
                }
            }
            else if (info.PowerState == VmPowerState.Crashed)
            {
                LogCrashed(_logger, folder.Id);
            }

            adopted.Add(info);
        }

        return adopted;
    }

    private VmInfo Describe(VmFolder folder)
    {
        var spec = folder.ReadRecord().Spec;
        var runtime = folder.ReadRuntime();
        if (folder.RunningPid() is { } pid)
        {
            var marker = ReadyMarkerOf(spec);
            return new VmInfo
            {
                Id = folder.Id,
                PowerState = VmPowerState.Running,
                Spec = spec,
                Ready = GuestReadiness.ForMarker(marker).IsReady(folder.ReadSerialLog()),
                BootedSize = runtime?.BootedSize,
                ProcessId = pid,
                Accelerator = runtime?.Accelerator,
                StartedAt = runtime?.StartedAt,
                Console = folder.Console,
            };
        }

        // Meant to run but no process: a crash, unless the guest powered itself off.
        var state = runtime is not null && !SerialLog.EndsWithPowerOff(folder.ReadSerialLog())
            ? VmPowerState.Crashed
            : VmPowerState.Stopped;
        return new VmInfo { Id = folder.Id, PowerState = state, Spec = spec, Console = folder.Console };
    }

    /// <summary>As <see cref="GalleryImage.ReadyMarker"/>: null for an image that boots from its disk and names no marker.</summary>
    private static string? ReadyMarkerOf(VmSpec spec)
    {
        try
        {
            using var stream = File.OpenRead(Path.Combine(spec.ImagePath, GalleryImage.ManifestFileName));
            using var manifest = JsonDocument.Parse(stream);
            if (manifest.RootElement.TryGetProperty("readyMarker", out var marker) && marker.GetString() is { } named)
            {
                return named;
            }

            return manifest.RootElement.TryGetProperty("kernel", out _) ? GalleryImage.DefaultReadyMarker : null;
        }
        catch (Exception exception) when (exception is IOException or JsonException or UnauthorizedAccessException)
        {
            return GalleryImage.DefaultReadyMarker;
        }
    }

    private IEnumerable<VmFolder> Folders() =>
        Directory.EnumerateDirectories(_vmsRoot)
            .Where(path => !path.EndsWith(PartialSuffix, StringComparison.Ordinal))
            .Select(path => new VmFolder(path))
            .Where(folder => folder.Exists)
            .OrderBy(folder => folder.Id, StringComparer.Ordinal);

    /// <summary>QEMU processes of this data folder whose VM folder is gone (deleted by hand, or a delete cut short).</summary>
    private void KillOrphans()
    {
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid))
            {
                continue;
            }

            string commandLine;
            try
            {
                commandLine = File.ReadAllText(Path.Combine(entry, "cmdline"));
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            var arguments = commandLine.Split('\0');
            var pidFile = Array.IndexOf(arguments, "-pidfile") is var index and >= 0 && index + 1 < arguments.Length ? arguments[index + 1] : null;
            if (pidFile is not null && Path.GetDirectoryName(Path.GetDirectoryName(pidFile)) == _vmsRoot
                && !File.Exists(Path.Combine(Path.GetDirectoryName(pidFile)!, "vm.json")))
            {
                HostProcess.Kill(pid, pidFile);
                LogKilledOrphan(_logger, pid, pidFile);
            }
        }
    }

    [LoggerMessage(EventId = 6008, Level = LogLevel.Information, Message = "Adopted running VM {VmId} (pid {Pid})")]
    private static partial void LogAdopted(ILogger logger, string vmId, int pid);

    [LoggerMessage(EventId = 6009, Level = LogLevel.Warning, Message = "VM {VmId} was running and its process is gone: crashed")]
    private static partial void LogCrashed(ILogger logger, string vmId);

    [LoggerMessage(EventId = 6010, Level = LogLevel.Warning, Message = "Removed {Path}, left by an interrupted create")]
    private static partial void LogRemovedPartial(ILogger logger, string path);

    [LoggerMessage(EventId = 6011, Level = LogLevel.Warning, Message = "Killed QEMU process {Pid} ({PidFile}): its VM folder is gone")]
    private static partial void LogKilledOrphan(ILogger logger, int pid, string pidFile);

    [LoggerMessage(EventId = 6014, Level = LogLevel.Warning, Message = "VM {VmId} runs but its QMP does not answer: {Error}")]
    private static partial void LogUnresponsive(ILogger logger, string vmId, string error);
}
