using System.Diagnostics;
using System.Globalization;

namespace Stratus.Testing;

/// <summary>
/// Tells a start that is slow because the machine is busy from one that is stuck. A starting process that is only
/// slow keeps using processor time or keeps printing, however little; one that is stuck (waiting on a lock or an
/// address that never answers, stopped, deadlocked) does neither. So a start fails early when it made no progress
/// for <see cref="StuckAfter"/>, and otherwise may take up to a generous hard limit; either failure says which it was
/// and what the machine's load was.
/// </summary>
public sealed class StartProgress(Process process, Func<int> outputLength, TimeSpan stuckAfter)
{
    // Ten clock ticks (0.1 s at Linux's 100 Hz): less than that is the runtime's own timers, not work.
    private const long WorkTicks = 10;

    private readonly Stopwatch sinceProgress = Stopwatch.StartNew();
    private long lastTicks = CpuTicks(process.Id);
    private int lastOutput = outputLength();

    public TimeSpan StuckAfter { get; } = stuckAfter;

    /// <summary>The processor time the process has used so far, in seconds.</summary>
    public double CpuSeconds => lastTicks / 100.0;

    /// <summary>Looks at the process again; true while it made progress within <see cref="StuckAfter"/>.</summary>
    public bool Check()
    {
        var ticks = CpuTicks(process.Id);
        var output = outputLength();
        if (ticks - lastTicks >= WorkTicks || output != lastOutput)
        {
            lastTicks = ticks;
            lastOutput = output;
            sinceProgress.Restart();
        }

        return sinceProgress.Elapsed < StuckAfter;
    }

    /// <summary>What to say when a start failed: stuck or only slow, its processor time, and the machine's load.</summary>
    public string Describe(TimeSpan elapsed) => Check()
        ? $"slow, not stuck: it was still working after {elapsed.TotalSeconds:F0} s ({CpuSeconds:F1} s of processor time; load average {LoadAverage()})"
        : $"stuck: no processor time used and nothing printed for {sinceProgress.Elapsed.TotalSeconds:F0} s, after {elapsed.TotalSeconds:F0} s ({CpuSeconds:F1} s of processor time; load average {LoadAverage()})";

    /// <summary>User plus system time of a process in clock ticks (fields 14 and 15 of /proc/PID/stat); 0 once it is gone.</summary>
    public static long CpuTicks(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return 0;
        }

        // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
