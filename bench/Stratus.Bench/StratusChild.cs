using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Stratus.Bench;

/// <summary>
/// The real `stratus up` binary as a child process on a free loopback port, its output in a log file in its
/// data folder, and what /proc says about its memory and CPU.
/// </summary>
internal sealed class StratusChild : IAsyncDisposable
{
    private readonly Process process;
    private readonly StreamWriter log;

    private StratusChild(Process process, StreamWriter log, Uri baseAddress, string logPath)
    {
        this.process = process;
        this.log = log;
        BaseAddress = baseAddress;
        LogPath = logPath;
    }

    public Uri BaseAddress { get; }

    public string LogPath { get; }

    public int Id => process.Id;

    public bool HasExited => process.HasExited;

    /// <summary>`stratus up --hosts HOSTS`: simulated (fake VMs, for the control plane alone) or qemu (real VMs).</summary>
    public static StratusChild Start(string binary, string dataFolder, string hosts, IReadOnlyDictionary<string, string> environment)
    {
        var baseAddress = new Uri($"http://127.0.0.1:{FreePort()}");
        return Start(binary, ["up", "--hosts", hosts, "--data", dataFolder, "--urls", baseAddress.ToString().TrimEnd('/')], environment,
            baseAddress, Path.Combine(dataFolder, "stratus.log"));
    }

    /// <summary>`stratus host ARGUMENTS`: a host agent of the control plane at <paramref name="controlPlane"/>, its output in <paramref name="logPath"/>.</summary>
    public static StratusChild StartHost(string binary, Uri controlPlane, IEnumerable<string> arguments, string logPath) =>
        Start(binary, ["host", .. arguments], new Dictionary<string, string>(), controlPlane, logPath);

    /// <summary>SIGKILL, as a host's crash: nothing of the process's own shutdown runs.</summary>
    public async Task KillAsync()
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync(CancellationToken.None);
    }

    private static StratusChild Start(string binary, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, Uri baseAddress,
        string logPath)
    {
        var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(log, e.Data);
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new StratusChild(process, log, baseAddress, logPath);
    }

    /// <summary>Peak and current resident memory in MiB (VmHWM, VmRSS of /proc/PID/status).</summary>
    public (double PeakMiB, double CurrentMiB) Memory()
    {
        double peak = 0, current = 0;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{process.Id}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    peak = Kibibytes(line) / 1024;
                }
                else if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    current = Kibibytes(line) / 1024;
                }
            }
        }
        catch (IOException)
        {
            // Exited between two samples: the last sample stands.
        }

        return (peak, current);
    }

    /// <summary>CPU time of the process so far, user and system, all threads (fields 14 and 15 of /proc/PID/stat).</summary>
    public TimeSpan CpuTime()
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{process.Id}/stat");
            // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / (double)ClockTicksPerSecond);
        }
        catch (IOException)
        {
            return TimeSpan.Zero;
        }
    }

    /// <summary>The last lines of its log, to explain a failure.</summary>
    /// <summary>What a benchmark prints when it stops on an error (and stratus's last lines, which usually say why); its exit code.</summary>
    public static int Stopped(Exception exception, StratusChild? stratus, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(exception);
        Console.Error.WriteLine(cancellationToken.IsCancellationRequested ? "The benchmark was cancelled." : $"The benchmark stopped: {exception.Message}");
        if (stratus is not null && !cancellationToken.IsCancellationRequested)
        {
            Console.Error.WriteLine($"The last lines of stratus's log:\n{stratus.Tail(30)}");
        }

        return 1;
    }

    public string Tail(int lines)
    {
        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return string.Join('\n', all.TakeLast(lines));
        }
        catch (IOException e)
        {
            return $"(its log {LogPath} cannot be read: {e.Message})";
        }
    }

    /// <summary>SIGTERM, as a service manager stops it; killed when it has not stopped within 30 s (its own shutdown timeout).</summary>
    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            using (var term = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)])
                ?? throw new InvalidOperationException("kill could not be started"))
            {
                await term.WaitForExitAsync(CancellationToken.None);
            }

            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var stopping = Stopwatch.StartNew();
            try
            {
                await process.WaitForExitAsync(wait.Token);
                Console.Error.WriteLine($"stratus stopped {stopping.Elapsed.TotalSeconds:0.0} s after SIGTERM.");
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine($"stratus (pid {process.Id}) did not stop within 30 s of SIGTERM: killed.");
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
            }
        }

        // WaitForExitAsync returns once the output is read to its end, so nothing is written after this.
        process.Dispose();
        await log.DisposeAsync();
    }

    // USER_HZ: 100 on every Linux architecture .NET runs on.
    private const int ClockTicksPerSecond = 100;

    private static double Kibibytes(string line) =>
        double.Parse(line.Split(':', 2)[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void Append(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.WriteLine(line);
        }
    }
}
