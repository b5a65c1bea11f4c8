using System.Diagnostics;
using System.Text;

namespace Stratus.Bench;

/// <summary>What the figures depend on (cores, CPU, QEMU, load), and the few host commands the benchmark runs.</summary>
internal sealed record Machine(int Cores, string Cpu, string Qemu, string LoadBefore)
{
    public static async Task<Machine> DescribeAsync(string qemuSystem, CancellationToken cancellationToken)
    {
        var version = await RunAsync(qemuSystem, ["--version"], TimeSpan.FromSeconds(30), cancellationToken);
        return new Machine(Environment.ProcessorCount, CpuModel(), version.Split('\n')[0].Trim(), LoadAverage());
    }

    /// <summary>The "model name" of /proc/cpuinfo.</summary>
    public static string CpuModel() => File.ReadLines("/proc/cpuinfo")
        .FirstOrDefault(line => line.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";

    /// <summary>As uptime prints it: a high load means other work shared the cores with the boots.</summary>
    public static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3]);

    public override string ToString() => $"{Cores} cores, {Cpu}, {Qemu}";

    /// <summary>Runs a command to its end and returns its stdout; a failure or a timeout throws.</summary>
    public static async Task<string> RunAsync(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout,
        CancellationToken cancellationToken, bool echo = false)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = start };
        var output = new StringBuilder();
        var errors = new StringBuilder();
        process.OutputDataReceived += (_, e) => Collect(output, e.Data, echo);
        process.ErrorDataReceived += (_, e) => Collect(errors, e.Data, echo);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
            }
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} exited with {process.ExitCode}: {errors.ToString().Trim()}");
        }

        lock (output)
        {
            return output.ToString();
        }
    }

    /// <summary>Kills the QEMU processes whose command line holds <paramref name="text"/> (the benchmark's own data folder).</summary>
    public static void KillQemuProcesses(string text)
    {
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid))
            {
                continue;
            }

            try
            {
                var commandLine = File.ReadAllText(Path.Combine(entry, "cmdline")).Replace('\0', ' ');
                if (commandLine.Contains("qemu-system", StringComparison.Ordinal) && commandLine.Contains(text, StringComparison.Ordinal))
                {
                    using var process = Process.GetProcessById(pid);
                    process.Kill();
                    process.WaitForExit(TimeSpan.FromSeconds(10));
                    Console.Error.WriteLine($"Killed QEMU process {pid}, left by the benchmark.");
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
            {
                // Ended while we looked.
            }
        }
    }

    private static void Collect(StringBuilder into, string? line, bool echo)
    {
        if (line is null)
        {
            return;
        }

        lock (into)
        {
            into.AppendLine(line);
        }

        if (echo)
        {
            Console.Error.WriteLine(line);
        }
    }
}
