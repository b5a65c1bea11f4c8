using System.Diagnostics;

namespace Stratus.IntegrationTests.Support;

/// <summary>The QEMU processes of the embedded hosts under a data folder, found by their pid files.</summary>
internal static class QemuProcesses
{
    /// <summary>
    /// QEMU processes of the VMs under the data folder: DATA/hosts/HOST/vms/VM for the hosts of `stratus up`,
    /// DATA/vms/VM for a separate `stratus host`.
    /// </summary>
    public static List<int> Running(string dataFolder)
    {
        return !Directory.Exists(dataFolder) ? [] : Directory.EnumerateFiles(dataFolder, "qemu.pid", SearchOption.AllDirectories)
            .Select(f => int.TryParse(File.ReadAllText(f).Trim(), out var p) ? p : 0)
            .Where(p => p > 0 && IsRunning(p))
            .ToList();
    }

    /// <summary>The VM folders the hosts keep: one per VM, its disk inside.</summary>
    public static List<string> VmFolders(string dataFolder)
    {
        var hosts = Path.Combine(dataFolder, "hosts");
        return !Directory.Exists(hosts) ? [] : Directory.GetDirectories(hosts)
            .Select(h => Path.Combine(h, "vms")).Where(Directory.Exists).SelectMany(Directory.GetDirectories).ToList();
    }

    public static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited && File.Exists($"/proc/{pid}/cmdline")
                && File.ReadAllText($"/proc/{pid}/cmdline").Contains("qemu-system", StringComparison.Ordinal);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Whatever a test did, none of its VMs outlives it.</summary>
    public static void KillAll(string dataFolder)
    {
        foreach (var pid in Running(dataFolder))
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
                process.WaitForExit(5000);
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
        }
    }
}
