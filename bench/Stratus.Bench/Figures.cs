using System.Globalization;

namespace Stratus.Bench;

/// <summary>The boot times of every run, and the table printed from them.</summary>
internal sealed class Figures
{
    public List<TimeSpan> OneCreate { get; } = [];
    public List<TimeSpan> OneReady { get; } = [];
    public List<TimeSpan> FourAll { get; } = [];
    public List<TimeSpan> FourEach { get; } = [];
    public List<TimeSpan> Bare { get; } = [];

    public void Print(TextWriter output)
    {
        const string Format = "{0,-58} {1,8} {2,8} {3,8}";
        output.WriteLine(string.Format(CultureInfo.InvariantCulture, Format, "Measurement (seconds)", "median", "min", "max"));
        Row(output, Format, "a. one VM: driver create+start to ready", OneReady);
        Row(output, Format, "   of which create (clone, image checksums)", OneCreate);
        Row(output, Format, "b. four VMs created at once: until all four are ready", FourAll);
        Row(output, Format, $"   each of the four ({FourEach.Count} boots)", FourEach);
        Row(output, Format, "c. bare qemu-system-x86_64: process start to ready", Bare);
        output.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0,-58} {1,8:0.00}", "Ratio driver/bare, one VM (medians a/c)",
            Median(OneReady).TotalSeconds / Median(Bare).TotalSeconds));
    }

    public static string Seconds(TimeSpan value) => value.TotalSeconds.ToString("0.00 s", CultureInfo.InvariantCulture);

    private static void Row(TextWriter output, string format, string name, List<TimeSpan> values) =>
        output.WriteLine(string.Format(CultureInfo.InvariantCulture, format, name,
            Median(values).TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture),
            values.Min().TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture),
            values.Max().TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)));

    private static TimeSpan Median(List<TimeSpan> values)
    {
        var sorted = values.Order().ToList();
        var middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
