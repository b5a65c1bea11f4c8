using Stratus.Testing;
using Xunit.Abstractions;

namespace Stratus.Resilience;

/// <summary>
/// The fault-injection harness as a test: each fault once with a small load in CI (the reduced profile),
/// `make chaos` for the full one. It fails when an accepted operation was lost, done twice or left something
/// behind, when a write went unanswered past the give-up time, or when the region did not converge after a
/// fault; the figures go to artifacts/chaos/.
/// </summary>
[Trait("Category", "Chaos")]
public sealed class ChaosTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Each_fault_leaves_every_accepted_operation_done_once_and_every_cloud_pc_converged()
    {
        var profile = ChaosProfile.FromEnvironment();
        var started = TimeProvider.System.GetUtcNow();
        var run = new ChaosRun(profile, line => Log(output, line));
        await run.RunAsync();

        var table = run.Table();
        output.WriteLine(table);
        Console.WriteLine(table);
        var folder = Path.Combine(StratusProcess.RepositoryRoot, "artifacts", "chaos");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, $"resilience-{profile.Name}.md"),
            $"Profile {profile.Name}, {started:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores.\n\n{table}");

        Assert.NotEmpty(run.Results);
        Assert.All(run.Results, r =>
        {
            Assert.True(r.ConvergedAfter is not null, $"{r.Fault}: did not converge: {r.Problems}");
            Assert.Equal(0, r.Lost);
            Assert.Equal(0, r.Duplicates);
            Assert.Equal(0, r.Orphans);
            Assert.Equal(0, r.Failed);
            // A write the region did not answer for minutes after the fault is no figure of availability but a failure.
            Assert.True(r.Abandoned.Count == 0, $"{r.Fault}: writes never answered: {string.Join("; ", r.Abandoned)}");
            Assert.True(r.Requests > 0, $"{r.Fault}: no load ran during the fault");
        });
    }

    private static void Log(ITestOutputHelper output, string line)
    {
        var stamped = $"{TimeProvider.System.GetUtcNow():HH:mm:ss} {line}";
        // The console too: a long run shows where it is (dotnet test --logger "console;verbosity=detailed").
        Console.WriteLine(stamped);
        try
        {
            output.WriteLine(stamped);
        }
        catch (InvalidOperationException)
        {
            // After the test ended (a late worker line).
        }
    }
}
