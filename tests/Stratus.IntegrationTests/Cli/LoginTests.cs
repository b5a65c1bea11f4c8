using System.Diagnostics;
using System.Text;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Cli;

/// <summary>
/// `stratus login` as the README types it: no password on the command line; a prompt that does not echo in a
/// terminal, the first line of standard input in a pipe.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class LoginTests(StratusUpFixture fixture) : IClassFixture<StratusUpFixture>, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);
    private readonly TempFolder config = new();

    public void Dispose() => config.Dispose();

    private string Url => fixture.Stratus.BaseAddress.ToString().TrimEnd('/');

    [Fact]
    public async Task Login_ReadsThePasswordFromAPipe_WithoutAFlag()
    {
        var result = await RunWithInputAsync(["login", "--url", Url, "--user", "operator"], TestAccounts.OperatorPassword + "\n");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("Signed in to", result.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(CredentialsFile));
    }

    [Fact]
    public async Task Login_WithPasswordStdin_StillReadsStandardInput()
    {
        var result = await RunWithInputAsync(["login", "--url", Url, "--user", "operator", "--password-stdin"], TestAccounts.OperatorPassword + "\n");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.True(File.Exists(CredentialsFile));
    }

    [Fact]
    public async Task Login_WithAnEmptyPipe_IsOneErrorLine()
    {
        var result = await RunWithInputAsync(["login", "--url", Url, "--user", "operator"], "");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: no password: type it at the prompt, pass it on standard input, or set STRATUS_PASSWORD.", result.Output.Trim());
    }

    /// <summary>A terminal (script(1) gives the command a pseudo-terminal): it asks, and what is typed is not shown.</summary>
    [Fact]
    public async Task Login_InATerminal_PromptsForThePasswordWithoutEchoingIt()
    {
        var command = string.Join(' ', new[] { StratusProcess.BinaryPath, "login", "--url", Url, "--user", "operator" }.Select(a => $"'{a}'"));
        var start = new ProcessStartInfo("script") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "--quiet", "--flush", "--return", "--command", command, "/dev/null" })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["XDG_CONFIG_HOME"] = config.Path;
        start.Environment.Remove("STRATUS_PASSWORD");
        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        var prompted = new TaskCompletionSource();
        var reading = Task.Run(async () =>
        {
            var buffer = new char[256];
            int read;
            while ((read = await process.StandardOutput.ReadAsync(buffer)) > 0)
            {
                lock (output)
                {
                    output.Append(buffer, 0, read);
                    if (output.ToString().Contains("Password:", StringComparison.Ordinal))
                    {
                        prompted.TrySetResult();
                    }
                }
            }
        });

        await prompted.Task.WaitAsync(Timeout);
        // The prompt is printed just before the terminal's echo is turned off; typing at once could race it.
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        await process.StandardInput.WriteAsync(TestAccounts.OperatorPassword + "\r");
        await process.StandardInput.FlushAsync();
        using var deadline = new CancellationTokenSource(Timeout);
        await process.WaitForExitAsync(deadline.Token);
        // The process has ended, but its last lines ("Signed in to ...") may still be on their way through the pipe:
        // the reader ends at the pipe's end.
        await reading.WaitAsync(Timeout);

        string shown;
        lock (output)
        {
            shown = output.ToString();
        }

        Assert.True(process.ExitCode == 0, shown);
        Assert.Contains("Signed in to", shown, StringComparison.Ordinal);
        Assert.DoesNotContain(TestAccounts.OperatorPassword, shown, StringComparison.Ordinal);
        Assert.True(File.Exists(CredentialsFile));
    }

    private string CredentialsFile => Path.Combine(config.Path, "stratus", "credentials.json");

    private async Task<(int ExitCode, string Output)> RunWithInputAsync(string[] arguments, string input)
    {
        var start = new ProcessStartInfo(StratusProcess.BinaryPath) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["XDG_CONFIG_HOME"] = config.Path;
        start.Environment.Remove("STRATUS_PASSWORD");
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(Timeout);
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
