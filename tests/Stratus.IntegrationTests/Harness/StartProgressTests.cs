using System.Diagnostics;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Harness;

/// <summary>
/// The suite's own guard against a busy machine: a start that is slow because the machine is busy keeps its chance,
/// one that is stuck fails early and says so, and starts take turns one per core.
/// </summary>
public sealed class StartProgressTests
{
    private static readonly TimeSpan StuckAfter = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task A_process_that_neither_works_nor_prints_is_stuck_within_its_window()
    {
        using var sleeper = Start("sleep", "600");
        try
        {
            var progress = new StartProgress(sleeper, () => 0, StuckAfter);
            var watching = Stopwatch.StartNew();
            while (progress.Check())
            {
                Assert.True(watching.Elapsed < StuckAfter * 4, $"not called stuck after {watching.Elapsed}");
                await Task.Delay(200);
            }

            Assert.InRange(watching.Elapsed, StuckAfter, StuckAfter * 4);
            Assert.StartsWith("stuck: no processor time used and nothing printed", progress.Describe(watching.Elapsed), StringComparison.Ordinal);
        }
        finally
        {
            sleeper.Kill();
        }
    }

    [Fact]
    public async Task A_process_that_works_is_slow_not_stuck()
    {
        using var busy = Start("sh", "-c", "while :; do :; done");
        try
        {
            var progress = new StartProgress(busy, () => 0, StuckAfter);
            var watching = Stopwatch.StartNew();
            while (watching.Elapsed < StuckAfter * 2)
            {
                Assert.True(progress.Check(), $"a busy loop was called stuck after {watching.Elapsed} ({progress.CpuSeconds} s of processor time)");
                await Task.Delay(200);
            }

            Assert.True(progress.CpuSeconds > 0.1, $"{progress.CpuSeconds} s of processor time");
            Assert.StartsWith("slow, not stuck", progress.Describe(watching.Elapsed), StringComparison.Ordinal);
        }
        finally
        {
            busy.Kill();
        }
    }

    [Fact]
    public async Task A_process_that_prints_without_working_is_not_stuck()
    {
        using var sleeper = Start("sleep", "600");
        try
        {
            var printed = 0;
            var progress = new StartProgress(sleeper, () => printed, StuckAfter);
            var watching = Stopwatch.StartNew();
            while (watching.Elapsed < StuckAfter * 2)
            {
                printed++;
                Assert.True(progress.Check(), $"a process printing a line every 200 ms was called stuck after {watching.Elapsed}");
                await Task.Delay(200);
            }
        }
        finally
        {
            sleeper.Kill();
        }
    }

    [Fact]
    public async Task Starts_take_turns_when_every_slot_is_held()
    {
        using var folder = new TempFolder();
        var first = await StartGate.EnterAsync(TimeSpan.FromSeconds(5), slots: 1, folder: folder.Path);
        try
        {
            var refused = await Assert.ThrowsAsync<TimeoutException>(() => StartGate.EnterAsync(TimeSpan.FromSeconds(1), slots: 1, folder: folder.Path));
            Assert.Contains("No stratus start slot was free", refused.Message, StringComparison.Ordinal);

            // The slot is given back half a second after the second start asks: it gets the slot then, not before.
            var waiting = StartGate.EnterAsync(TimeSpan.FromSeconds(30), slots: 1, folder: folder.Path);
            await Task.Delay(500);
            first.Dispose();
            using var second = await waiting;
            Assert.Equal(0, second.Index);
            Assert.True(second.Waited >= TimeSpan.FromMilliseconds(450), $"the second start took the slot after {second.Waited}, while the first held it");
        }
        finally
        {
            first.Dispose();
        }
    }

    private static Process Start(string file, params string[] arguments) =>
        Process.Start(new ProcessStartInfo(file, arguments) { UseShellExecute = false }) ?? throw new InvalidOperationException($"cannot start {file}");
}
