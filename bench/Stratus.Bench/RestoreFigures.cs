using System.Globalization;

namespace Stratus.Bench;

/// <summary>The restore point times of every run, and the table printed from them.</summary>
internal sealed class RestoreFigures
{
    public GuestData? Driver { get; set; }
    public List<TimeSpan> DriverCreate { get; } = [];
    public List<TimeSpan> DriverRevert { get; } = [];
    public List<TimeSpan> DriverShutdown { get; } = [];
    public List<TimeSpan> DriverExport { get; } = [];
    public List<double> ExportMiB { get; } = [];
    public List<TimeSpan> DriverDelete { get; } = [];

    public string HostAccelerator { get; set; } = "unknown";
    public TimeSpan? Provisioned { get; set; }
    public GuestData? Api { get; set; }
    public List<TimeSpan> ApiCreate { get; } = [];
    public List<TimeSpan> ApiCreateService { get; } = [];
    public List<TimeSpan> ApiRestore { get; } = [];
    public List<TimeSpan> ApiRestoreService { get; } = [];

    public void Print(TextWriter output, int dataMiB)
    {
        output.WriteLine($"Guest data before the first point: {dataMiB} MiB of random bytes written to /home (the persistent disk)");
        output.WriteLine($"  A: {Driver}");
        output.WriteLine($"  B: {Api}");
        if (Provisioned is { } provisioned)
        {
            output.WriteLine($"B's Cloud PC was provisioned {Figures.Seconds(provisioned)} after the user's license (first boot, one sample)");
        }

        output.WriteLine();
        const string Format = "{0,-66} {1,8} {2,8} {3,8}";
        output.WriteLine(string.Format(CultureInfo.InvariantCulture, Format, "Measurement (seconds)", "median", "min", "max"));
        output.WriteLine("A. QEMU driver, running VM");
        Row(output, Format, "   create a point (QMP blockdev-snapshot-internal-sync)", Seconds(DriverCreate));
        Row(output, Format, "   revert: shutdown, qemu-img snapshot -a, boot to ready", Seconds(DriverRevert));
        Row(output, Format, "     of which the shutdown (ACPI power-off until QEMU exits)", Seconds(DriverShutdown));
        Row(output, Format, "   export to a standalone qcow2 (qemu-img convert -U)", Seconds(DriverExport));
        Row(output, Format, "     exported file size (MiB)", ExportMiB);
        Row(output, Format, "   delete the point (QMP blockdev-snapshot-delete-internal-sync)", Seconds(DriverDelete));
        output.WriteLine("B. public API of `stratus up --hosts qemu`");
        Row(output, Format, "   createSnapshot: POST to operation succeeded", Seconds(ApiCreate));
        Row(output, Format, "     by the service's clock (operation created to completed)", Seconds(ApiCreateService));
        Row(output, Format, "   restore: POST to operation succeeded and Cloud PC provisioned", Seconds(ApiRestore));
        Row(output, Format, "     by the service's clock (operation created to completed)", Seconds(ApiRestoreService));
    }

    private static List<double> Seconds(List<TimeSpan> values) => values.Select(v => v.TotalSeconds).ToList();

    private static void Row(TextWriter output, string format, string name, List<double> values) =>
        output.WriteLine(string.Format(CultureInfo.InvariantCulture, format, name,
            Median(values).ToString("0.00", CultureInfo.InvariantCulture),
            values.Min().ToString("0.00", CultureInfo.InvariantCulture),
            values.Max().ToString("0.00", CultureInfo.InvariantCulture)));

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        var middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
