using Stratus.Testing;

namespace Stratus.IntegrationTests.Cli;

/// <summary>`make install`: the README's `stratus` command on the PATH, from the program `make up` built.</summary>
public sealed class InstallTests : IDisposable
{
    private readonly TempFolder prefix = new();

    public void Dispose() => prefix.Dispose();

    [Fact]
    public async Task MakeInstall_WithAPrefix_PutsARunnableStratusInItsBin()
    {
        // -o build: the tests run on the build there is; installing must not build again under them.
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var make = await ProcessRunner.RunAsync("make", ["-C", StratusProcess.RepositoryRoot, "-o", "build", "install", $"PREFIX={prefix.Path}", $"CONFIGURATION={configuration}"],
            TimeSpan.FromMinutes(2));
        Assert.True(make.ExitCode == 0, make.StandardOutput + make.StandardError);

        // Run from elsewhere, as a command on the PATH is.
        var installed = Path.Combine(prefix.Path, "bin", "stratus");
        var version = await ProcessRunner.RunAsync(installed, ["version"], TimeSpan.FromMinutes(1), workingDirectory: Path.GetTempPath());

        Assert.True(version.ExitCode == 0, version.StandardOutput + version.StandardError);
        Assert.Matches(@"^stratus \d+\.\d+\.\d+", version.StandardOutput);
    }
}
