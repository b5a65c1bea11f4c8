using System.Globalization;

namespace Stratus.Bench;

/// <summary>What one provisioning run measured and found, and the table printed from it.</summary>
internal sealed class ProvisionFigures
{
    /// <summary>From the first directory change to the last one's answer; null when the run stopped before.</summary>
    public TimeSpan? Directory { get; set; }

    /// <summary>From the first directory change to every Cloud PC provisioned, or to when the run stopped waiting.</summary>
    public TimeSpan Total { get; set; }

    public bool Complete { get; set; }

    public int Provisioned { get; set; }

    public int Failed { get; set; }

    public int DeadLetters { get; set; }

    public int Vms { get; set; }

    public int VmsReady { get; set; }

    public int VmsBeingDeleted { get; set; }

    public List<int> VmsPerHost { get; set; } = [];

    public List<TimeSpan> EachCloudPc { get; } = [];

    public double PeakMemoryMiB { get; set; }

    public TimeSpan CpuTime { get; set; }

    public void Print(TextWriter output, int count, int concurrency, string commit, string loadBefore, string loadAfter)
    {
        output.WriteLine($"Provisioning of {count} Cloud PCs: `stratus up --hosts simulated` (SQLite), {concurrency} concurrent clients");
        output.WriteLine($"Machine: {Environment.ProcessorCount} cores, {Machine.CpuModel()}; stratus at commit {commit}");
        output.WriteLine($"Load average (1, 5, 15 min): {loadBefore} before, {loadAfter} after");
        output.WriteLine();
        const string Format = "{0,-64} {1}";
        Row(output, Format, "Measurement", "value");
        Row(output, Format, $"Directory changes: {count} users created, in the group, licensed",
            Directory is { } directory ? $"{Seconds(directory)} ({count / directory.TotalSeconds:0.0} users/s)" : "did not finish");
        Row(output, Format, $"First directory change to all {count} Cloud PCs provisioned",
            Complete ? Seconds(Total) : $"did not finish: {Provisioned} after {Seconds(Total)}");
        Row(output, Format, "Cloud PCs provisioned per second", (Provisioned / Total.TotalSeconds).ToString("0.00", CultureInfo.InvariantCulture));
        Row(output, Format, "Each Cloud PC, record created to provisioned: median, p95, max",
            EachCloudPc.Count == 0 ? "none" : $"{Seconds(Percentile(0.5))}, {Seconds(Percentile(0.95))}, {Seconds(Percentile(1))}");
        Row(output, Format, "Cloud PCs provisioned, failed", $"{Provisioned}, {Failed}");
        Row(output, Format, "Dead letters", DeadLetters.ToString(CultureInfo.InvariantCulture));
        Row(output, Format, $"VMs (exactly one per Cloud PC: {count})",
            $"{Vms} {(Vms == count ? "ok" : "WRONG")} (ready {VmsReady}; per host {string.Join(" + ", VmsPerHost)}; being deleted {VmsBeingDeleted})");
        Row(output, Format, "stratus peak memory (VmHWM)", $"{PeakMemoryMiB:0} MiB");
        Row(output, Format, "stratus CPU time during the run (average cores busy)",
            $"{Seconds(CpuTime)} ({CpuTime.TotalSeconds / Total.TotalSeconds:0.00} of {Environment.ProcessorCount})");
    }

    private TimeSpan Percentile(double share)
    {
        var sorted = EachCloudPc.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(share * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    private static string Seconds(TimeSpan value) => Figures.Seconds(value);

    private static void Row(TextWriter output, string format, string name, string value) =>
        output.WriteLine(string.Format(CultureInfo.InvariantCulture, format, name, value));
}
