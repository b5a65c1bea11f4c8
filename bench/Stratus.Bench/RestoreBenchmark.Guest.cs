using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Drivers.Qemu;

using Stratus.Testing;

namespace Stratus.Bench;

/// <summary>The restore benchmark's guest: data written to the VM's persistent disk, checked after a revert, and its QEMU process watched.</summary>
internal static partial class RestoreBenchmark
{
    /// <summary>Random bytes (so that nothing compresses or reads as zeros) in a file on /home, the persistent disk.</summary>
    private static async Task<GuestData> WriteGuestDataAsync(string serialSocket, string diskFile, CancellationToken cancellationToken)
    {
        await using var console = await SerialConsole.ConnectAsync(serialSocket, cancellationToken);
        var line = await console.RunAsync(
            $"head -c {DataMiB * 1024 * 1024} /dev/urandom > /home/bench.bin && sync && df -Pk /home | tail -n 1", TimeSpan.FromMinutes(5), cancellationToken);
        // Filesystem 1024-blocks Used Available Capacity Mounted-on
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 6 || fields[^1] != "/home" || !long.TryParse(fields[2], CultureInfo.InvariantCulture, out var usedKiB))
        {
            throw new InvalidOperationException($"Writing {DataMiB} MiB to the guest's /home answered '{line}', not a line of df.");
        }

        await CheckGuestDataAsync(console, cancellationToken);
        return new GuestData(usedKiB / 1024.0, new FileInfo(diskFile).Length / 1024.0 / 1024);
    }

    private static async Task CheckGuestDataAsync(string serialSocket, CancellationToken cancellationToken)
    {
        await using var console = await SerialConsole.ConnectAsync(serialSocket, cancellationToken);
        await CheckGuestDataAsync(console, cancellationToken);
    }

    private static async Task CheckGuestDataAsync(SerialConsole console, CancellationToken cancellationToken)
    {
        var size = (await console.RunAsync("wc -c < /home/bench.bin", TimeSpan.FromMinutes(1), cancellationToken)).Trim();
        if (size != (DataMiB * 1024 * 1024).ToString(CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException($"The guest's /home/bench.bin has '{size}' bytes, not the {DataMiB} MiB written before the point.");
        }
    }

    /// <summary>From <paramref name="started"/> until the VM's QEMU process ends: the guest's shutdown part of the revert.</summary>
    private static async Task<TimeSpan> WaitForExitAsync(int pid, long started, Task revert)
    {
        while (Running(pid))
        {
            if (revert.IsCompleted)
            {
                // A revert that failed says why when awaited; one that ended with the process alive is wrong.
                await revert;
                throw new InvalidOperationException($"The revert returned while QEMU process {pid} still runs.");
            }

            await Task.Delay(20, CancellationToken.None);
        }

        return Stopwatch.GetElapsedTime(started);
    }

    private static bool Running(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The state follows the command name in parentheses; a zombie has ended.
            return stat[(stat.LastIndexOf(')') + 2)] is not ('Z' or 'X' or 'x');
        }
        catch (IOException)
        {
            return false;
        }
    }
}

/// <summary>How much the guest's /home held once the data was written, and the size of the VM's disk file then.</summary>
internal sealed record GuestData(double HomeUsedMiB, double DiskFileMiB)
{
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"/home uses {HomeUsedMiB:0.0} MiB (df), the VM's disk file (copy-on-write clone) is {DiskFileMiB:0.0} MiB");
}
