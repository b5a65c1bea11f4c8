using Stratus.Testing;

namespace Stratus.IntegrationTests.Cli;

/// <summary>The client commands as a person runs them, each with its own session folder (XDG_CONFIG_HOME).</summary>
internal static class ClientCli
{
    public static Task<ProcessResult> RunAsync(string configFolder, string[] arguments, Dictionary<string, string?>? environment = null)
    {
        var variables = new Dictionary<string, string?>(environment ?? []) { ["XDG_CONFIG_HOME"] = configFolder };
        return ProcessRunner.RunAsync(StratusProcess.BinaryPath, arguments, TimeSpan.FromMinutes(3), variables);
    }

    /// <summary>Runs a command that must succeed.</summary>
    public static async Task<ProcessResult> CheckedAsync(string configFolder, string[] arguments, Dictionary<string, string?>? environment = null)
    {
        var result = await RunAsync(configFolder, arguments, environment);
        Assert.True(result.ExitCode == 0, $"stratus {string.Join(' ', arguments)}: exit {result.ExitCode}: {result.StandardError}");
        return result;
    }
}
