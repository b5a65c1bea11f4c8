using System.Diagnostics;
using System.Text;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Support;

/// <summary>A `stratus host` agent process whose output the test reads; disposing it kills it.</summary>
public sealed class HostAgentProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    private HostAgentProcess(Process process)
    {
        this.process = process;
    }

    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>Starts `stratus host` with the arguments after "host".</summary>
    public static HostAgentProcess Start(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(StratusProcess.BinaryPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("host");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var agent = new HostAgentProcess(Process.Start(start) ?? throw new InvalidOperationException("cannot start stratus host"));
        agent.process.OutputDataReceived += agent.Collect;
        agent.process.ErrorDataReceived += agent.Collect;
        agent.process.BeginOutputReadLine();
        agent.process.BeginErrorReadLine();
        return agent;
    }

    /// <summary>The agent's exit code once it exits, or null if it still runs after <paramref name="timeout"/>.</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout)
    {
        using var waiting = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(waiting.Token);
            return process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        await process.WaitForExitAsync();
        process.Dispose();
    }

    private void Collect(object sender, DataReceivedEventArgs e)
    {
        lock (output)
        {
            output.AppendLine(e.Data);
        }
    }
}
