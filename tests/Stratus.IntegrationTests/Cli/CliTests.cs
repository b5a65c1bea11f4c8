using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Cli;

/// <summary>The command line: what it prints, and how it refuses a mistake (one line, non-zero, no stack trace).</summary>
public sealed class CliTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public async Task Version_PrintsTheVersion_Exits0()
    {
        var result = await RunAsync(["version"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"^stratus \d+\.\d+\.\d+", result.StandardOutput);
        Assert.Equal("", result.StandardError);
    }

    [Theory]
    [InlineData("", "up", "run", "version")]
    [InlineData("up", "--data", "--urls", "./.stratus", "http://127.0.0.1:8080")]
    [InlineData("run", "--targets", "--database", "--data", "--urls")]
    [InlineData("version", "--help")]
    public async Task Help_OnEveryCommand_Exits0AndNamesItsOptions(string command, params string[] mentions)
    {
        var result = await RunAsync(command.Length == 0 ? ["--help"] : [command, "--help"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Usage:", result.StandardOutput, StringComparison.Ordinal);
        foreach (var mention in mentions)
        {
            Assert.Contains(mention, result.StandardOutput, StringComparison.Ordinal);
        }

        Assert.Equal("", result.StandardError);
    }

    [Theory]
    [InlineData("--bogus", "up --bogus")]
    [InlineData("--targets", "run --data {data}")]
    [InlineData("nope", "run --targets identity,nope --data {data}")]
    [InlineData("--database", "run --targets all --data {data} --database Host=;;=x")]
    [InlineData("--database", "run --targets all --data {data} --database sqlite:")]
    [InlineData("--urls", "up --data {data} --urls ftp://127.0.0.1:1")]
    [InlineData("--urls", "up --data {data} --urls http://127.0.0.1:99999")]
    [InlineData("--data", "up --data {file}/sub")]
    [InlineData("--data", "up --data {file}")]
    public async Task Mistake_IsOneErrorLine_NonZeroExit_NoStackTrace(string named, string arguments)
    {
        var file = Path.Combine(temp.Path, "a-file");
        await File.WriteAllTextAsync(file, "not a folder");
        var args = arguments.Split(' ')
            .Select(a => a.Replace("{data}", Path.Combine(temp.Path, "data"), StringComparison.Ordinal)
                .Replace("{file}", file, StringComparison.Ordinal))
            .ToArray();

        var result = await RunAsync(args);

        var line = AssertOneErrorLine(result);
        Assert.Contains(named, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BootstrapPasswordTooShort_IsOneErrorLine()
    {
        var result = await RunAsync(["up", "--data", Path.Combine(temp.Path, "data"), "--urls", $"http://127.0.0.1:{FreePort.Next()}"],
            new Dictionary<string, string?> { ["STRATUS_BOOTSTRAP_PASSWORD"] = "short" });

        var line = AssertOneErrorLine(result);
        Assert.Contains("STRATUS_BOOTSTRAP_PASSWORD", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreachablePostgres_IsOneErrorLine_Quickly()
    {
        var port = FreePort.Next();
        var clock = Stopwatch.StartNew();

        var result = await RunAsync(["run", "--targets", "all", "--data", Path.Combine(temp.Path, "data"),
            "--database", $"Host=127.0.0.1;Port={port};Database=stratus;Username=stratus"]);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"It took {clock.Elapsed} to give up.");
        var line = AssertOneErrorLine(result);
        Assert.Contains("database", line, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PortInUse_IsOneErrorLine_Quickly()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        var clock = Stopwatch.StartNew();

        var result = await RunAsync(["up", "--data", Path.Combine(temp.Path, "data"), "--urls", url]);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"It took {clock.Elapsed} to give up.");
        var line = AssertOneErrorLine(result);
        Assert.Contains(url, line, StringComparison.Ordinal);
        Assert.Contains("in use", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddressNotOnThisMachine_IsOneErrorLine()
    {
        // 192.0.2.0/24 is reserved for documentation (RFC 5737): no machine has it.
        var result = await RunAsync(["up", "--data", Path.Combine(temp.Path, "data"), "--urls", "http://192.0.2.1:8080"]);

        var line = AssertOneErrorLine(result);
        Assert.Contains("http://192.0.2.1:8080", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.1.2.3/24")]
    [InlineData("control-plane")]
    public async Task HostGuestDenyNotANetwork_IsOneErrorLine_AndNothingStarts(string network)
    {
        var data = Path.Combine(temp.Path, "host");

        var result = await RunAsync(["host", "--control-plane", $"http://127.0.0.1:{FreePort.Next()}", "--zone", "z1", "--data", data,
            "--guest-deny", "192.0.2.0/24", "--guest-deny", network]);

        var line = AssertOneErrorLine(result);
        Assert.Contains("--guest-deny", line, StringComparison.Ordinal);
        Assert.Contains($"'{network}'", line, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(data, "agent.json")), "The agent started although its options were refused.");
    }

    private static string AssertOneErrorLine(ProcessResult result)
    {
        var everything = result.StandardOutput + result.StandardError;
        Assert.True(result.ExitCode != 0, $"Exited 0:\n{everything}");
        var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"Expected one line on stderr, got {lines.Length}:\n{result.StandardError}");
        Assert.StartsWith("error: ", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", everything, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", lines[0], StringComparison.Ordinal);
        return lines[0];
    }

    // The working directory is a temporary folder, so that a default ./.stratus lands nowhere that matters.
    private Task<ProcessResult> RunAsync(string[] arguments, IDictionary<string, string?>? environment = null) =>
        ProcessRunner.RunAsync(StratusProcess.BinaryPath, arguments, Timeout, environment, temp.Path);
}
