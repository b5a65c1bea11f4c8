using System.Diagnostics;

namespace Stratus.Testing;

/// <summary>
/// Lets at most one stratus start per core run at a time on this machine, across every test process. A start
/// (migrations of seven stores, then every service) is the heaviest moment of a test; a dozen at once on two cores
/// (every test project and class starting its own) put the load at 50 to 80 and made each take minutes. Once started,
/// a process mostly waits, so the tests themselves still run in parallel.
/// </summary>
/// <remarks>
/// A slot is a lock file held open with an exclusive lock (FileShare.None is flock on Linux), so a test process that
/// dies, however it dies, gives its slot back with its file descriptors.
/// </remarks>
public sealed class StartGate : IDisposable
{
    private static readonly string Folder = Path.Combine(Path.GetTempPath(), "stratus-test-starts");

    private readonly FileStream slot;

    private StartGate(FileStream slot, int index, TimeSpan waited)
    {
        this.slot = slot;
        Index = index;
        Waited = waited;
    }

    /// <summary>How many starts may run at once: one per core this process may use.</summary>
    public static int Slots => Environment.ProcessorCount;

    public int Index { get; }

    /// <summary>How long the caller waited for its slot (it counts against nobody's start deadline).</summary>
    public TimeSpan Waited { get; }

    /// <summary>Takes a free slot, waiting for one up to <paramref name="timeout"/>.</summary>
    public static async Task<StartGate> EnterAsync(TimeSpan timeout, int? slots = null, string? folder = null)
    {
        var directory = folder ?? Folder;
        Directory.CreateDirectory(directory);
        var count = slots ?? Slots;
        var waiting = Stopwatch.StartNew();
        while (true)
        {
            for (var index = 0; index < count; index++)
            {
                if (TryTake(Path.Combine(directory, $"slot-{index}.lock")) is { } slot)
                {
                    return new StartGate(slot, index, waiting.Elapsed);
                }
            }

            if (waiting.Elapsed > timeout)
            {
                throw new TimeoutException(
                    $"No stratus start slot was free within {timeout} ({count} slots in {directory}): other tests' starts held them all.");
            }

            await Task.Delay(200);
        }
    }

    public void Dispose() => slot.Dispose();

    private static FileStream? TryTake(string path)
    {
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
