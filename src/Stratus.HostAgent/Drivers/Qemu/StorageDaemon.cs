using System.Diagnostics;

namespace Stratus.HostAgent.Drivers.Qemu;

/// <summary>
/// A qemu-storage-daemon holding a stopped VM's disk open, so that a copy uses the same QMP commands (and the same
/// persistent bitmaps, which live in the qcow2) as a running VM. It runs only for the copy, as the agent's child:
/// <c>quit</c> makes it write the bitmaps back into the qcow2; disposing kills it if it is still there.
/// </summary>
internal sealed class StorageDaemon : IAsyncDisposable
{
    private readonly Process _process;

    private StorageDaemon(Process process, QmpClient qmp)
    {
        _process = process;
        Qmp = qmp;
    }

    public QmpClient Qmp { get; }

    public static async Task<StorageDaemon> StartAsync(string executable, string disk, string node, string socket, TimeSpan timeout,
        TimeProvider time, CancellationToken cancellationToken)
    {
        File.Delete(socket);
        var start = new ProcessStartInfo(executable)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in (string[])[
            "--blockdev", $"driver=file,node-name={node}-file,filename={disk}",
            "--blockdev", $"driver=qcow2,node-name={node},file={node}-file",
            "--chardev", $"socket,id=qmp,path={socket},server=on,wait=off",
            "--monitor", "chardev=qmp",
        ])
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new VmDriverException($"{executable} did not start.");
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            throw new VmDriverException($"Cannot run {executable}: {exception.Message}. Is it installed (qemu-system-x86)?", exception);
        }

        var started = time.GetTimestamp();
        try
        {
            while (!File.Exists(socket))
            {
                if (process.HasExited)
                {
                    throw new VmDriverException($"qemu-storage-daemon on {disk} ended at once: {(await process.StandardError.ReadToEndAsync(cancellationToken)).Trim()}");
                }

                if (time.GetElapsedTime(started) > timeout)
                {
                    throw new TimeoutException($"qemu-storage-daemon on {disk} made no QMP socket within {timeout.TotalSeconds:0} s.");
                }

                await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken);
            }

            return new StorageDaemon(process, await QmpClient.ConnectAsync(socket, timeout, cancellationToken));
        }
        catch
        {
            Kill(process);
            process.Dispose();
            throw;
        }
    }

    /// <summary>Asks the daemon to close the disk (writing its bitmaps) and waits for it to end.</summary>
    public async Task QuitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await Qmp.ExecuteAsync("quit", null, cancellationToken);
        }
        catch (VmDriverException)
        {
            // The daemon may close the connection before its answer: only its exit counts.
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        await _process.WaitForExitAsync(deadline.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await Qmp.DisposeAsync();
        Kill(_process);
        _process.Dispose();
    }

    private static void Kill(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill();
            process.WaitForExit();
        }
    }
}
