using System.Diagnostics;

namespace Stratus.HostAgent.Drivers.Qemu;

/// <summary>
/// Looks at a VM's QEMU process through /proc. The process is not the agent's child (it is detached so
/// that it survives the agent), so there is no handle to wait on: only its pid, checked against its command
/// line so that a pid reused by another program is never taken for the VM (nor killed).
/// </summary>
internal static class HostProcess
{
    /// <summary>True when <paramref name="pid"/> runs, is not a zombie, and its command line contains <paramref name="mark"/>.</summary>
    public static bool IsRunning(int pid, string mark)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The state follows the command name in parentheses, which may itself hold spaces or ')'.
            var state = stat[(stat.LastIndexOf(')') + 2)..].AsSpan()[0];
            if (state is 'Z' or 'X' or 'x')
            {
                return false;
            }

            var commandLine = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
            return commandLine.Contains(mark, StringComparison.Ordinal);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return false;
        }
    }

    /// <summary>SIGKILL, only when it is still the process we mean.</summary>
    public static void Kill(int pid, string mark)
    {
        if (!IsRunning(pid, mark))
        {
            return;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
        }
        catch (Exception exception) when (exception is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Gone in between.
        }
    }

    /// <summary>Polls until the process is gone; false when it still runs at the deadline.</summary>
    public static async Task<bool> WaitForExitAsync(int pid, string mark, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (IsRunning(pid, mark))
        {
            if (time.GetElapsedTime(started) >= timeout)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken);
        }

        return true;
    }
}
