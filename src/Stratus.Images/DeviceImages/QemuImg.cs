using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;

namespace Stratus.Images.DeviceImages;

internal sealed record ToolResult(int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>The first line of what the tool complained about, for a message a person reads.</summary>
    public string Complaint => (StandardError.Trim().Split('\n').FirstOrDefault(l => l.Trim().Length > 0) ?? $"exit code {ExitCode}").Trim();
}

/// <summary>Runs qemu-img to its end, killed on timeout.</summary>
internal sealed class QemuImg(IOptions<ImagesOptions> options)
{
    private const string Prlimit = "/usr/bin/prlimit";

    /// <summary>
    /// Runs qemu-img. <paramref name="untrusted"/> caps its memory and CPU time (with prlimit, where there is one),
    /// as QEMU's security guide asks for qemu-img reading an image that a user supplied: a crafted header must
    /// not exhaust the host.
    /// </summary>
    public async Task<ToolResult> RunAsync(IReadOnlyList<string> arguments, TimeSpan timeout, bool untrusted, CancellationToken cancellationToken)
    {
        var program = options.Value.QemuImg;
        List<string> argv = [.. arguments];
        if (untrusted && File.Exists(Prlimit))
        {
            argv.InsertRange(0, ["--as=2147483648", $"--cpu={Math.Max(1, (int)timeout.TotalSeconds).ToString(CultureInfo.InvariantCulture)}", "--", program]);
            program = Prlimit;
        }

        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in argv)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = start };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"Cannot run {options.Value.QemuImg}: {e.Message}. Install qemu-utils (scripts/install-deps.sh).", e);
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"qemu-img {arguments[0]} did not finish within {timeout.TotalSeconds:0} s.");
        }

        // The parameterless wait also drains the output readers.
        process.WaitForExit();
        return new ToolResult(process.ExitCode, stdout.ToString(), stderr.ToString());
    }
}
