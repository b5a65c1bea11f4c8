using System.Globalization;
using Microsoft.Extensions.Logging;
using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Drivers.Qemu;

namespace Stratus.Bench;

/// <summary>
/// Times boots of a gallery image to its ready marker: through the QEMU driver (one VM, then four created at
/// once) and with qemu-system-x86_64 alone. The three are interleaved run by run, so that a change in the
/// machine's load during the benchmark touches each of them alike.
/// </summary>
internal static class BootBenchmark
{
    private const int Concurrent = 4;

    // The size the driver tests boot the tiny image with; it needs no more.
    private static readonly VmSize Size = new(VCpus: 1, MemoryMiB: 256, DiskGiB: 8);

    public static async Task<int> RunAsync(string? imageOption, int runs, CancellationToken cancellationToken)
    {
        var time = TimeProvider.System;
        // Loaded with its checksums: this also brings the kernel and initrd into the page cache before any clock runs.
        var image = await GalleryImage.LoadAsync(await ImageFolderAsync(imageOption, cancellationToken), verify: true, cancellationToken);
        if (image is not { KernelPath: not null, InitrdPath: not null, ReadyMarker: not null })
        {
            // The bare boot starts the image's kernel itself and waits for its marker: an image that boots from
            // its disk, or announces nothing, has no such boot to compare with.
            Console.Error.WriteLine($"Image '{image.Name}' in {image.FolderPath} needs a kernel, an initrd and a ready marker for this benchmark.");
            return 2;
        }

        // Under /tmp whatever TMPDIR says, and short: QEMU's unix sockets live below it (a socket path has 108 bytes).
        // The driver creates it.
        var data = $"/tmp/sb-{Guid.NewGuid().ToString("N")[..8]}";
        var options = new QemuDriverOptions { DataDirectory = data };
        // The driver's warnings (a failed boot, a forced stop) go to stderr with the progress, not into the figures.
        using var logs = LoggerFactory.Create(builder => builder
            .SetMinimumLevel(LogLevel.Warning)
            .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace));
        // One accelerator for the driver and the bare boots, probed as the agent does and before any clock
        // runs: the figures are boots, not the one-time KVM probe.
        var accelerator = new Accelerator(options, logs.CreateLogger<Accelerator>(), time);
        var choice = await accelerator.ResolveAsync(image, cancellationToken);
        var machine = await Machine.DescribeAsync(options.QemuSystem, cancellationToken);
        Console.Error.WriteLine($"{image.Name} {image.Version}, {choice.Name} ({choice.Reason}), runs: {runs}, data in {data}; load {Machine.LoadAverage()}");

        var figures = new Figures();
        var vms = new HashSet<string>(StringComparer.Ordinal);
        var driver = new QemuDriver(options, accelerator, logs.CreateLogger<QemuDriver>(), time);
        try
        {
            for (var run = 1; run <= runs; run++)
            {
                var started = time.GetTimestamp();
                var (created, ready) = await BootAsync(driver, image, $"one-{run}", vms, started, time, cancellationToken);
                figures.OneCreate.Add(created);
                figures.OneReady.Add(ready);
                await DeleteAsync(driver, vms);
                Console.Error.WriteLine($"run {run}/{runs} one VM:    create {Figures.Seconds(created)}, ready {Figures.Seconds(ready)}; load {Machine.LoadAverage()}");

                var bare = await BareQemu.BootAsync(image, choice.Name, Size, options, Path.Combine(data, "bare"), time, cancellationToken);
                figures.Bare.Add(bare);
                Console.Error.WriteLine($"run {run}/{runs} bare QEMU: ready {Figures.Seconds(bare)}; load {Machine.LoadAverage()}");

                started = time.GetTimestamp();
                var each = await Task.WhenAll(Enumerable.Range(1, Concurrent).Select(async vm =>
                    (await BootAsync(driver, image, $"four-{run}-{vm}", vms, started, time, cancellationToken)).Ready));
                var all = time.GetElapsedTime(started);
                figures.FourAll.Add(all);
                figures.FourEach.AddRange(each);
                await DeleteAsync(driver, vms);
                Console.Error.WriteLine(
                    $"run {run}/{runs} four VMs:  all ready {Figures.Seconds(all)} (each {string.Join(", ", each.Select(Figures.Seconds))}); load {Machine.LoadAverage()}");
            }
        }
        catch (Exception exception)
        {
            // Any failure ends the benchmark with its reason; the figures of a partial run would mislead.
            Console.Error.WriteLine(cancellationToken.IsCancellationRequested
                ? "The benchmark was cancelled; its VMs, disks and processes are removed."
                : $"The benchmark stopped: {exception.Message}");
            return 1;
        }
        finally
        {
            await CleanUpAsync(driver, vms, data);
        }

        Console.WriteLine($"Boot of {image.Name} {image.Version} to {image.ReadyMarker}, runs: {runs}");
        Console.WriteLine($"Machine: {machine}; accelerator {choice.Name} ({choice.Reason})");
        Console.WriteLine($"VM size: {Size.VCpus} vCPU, {Size.MemoryMiB} MiB, {Size.DiskGiB} GiB copy-on-write clone (first boot: the guest formats it)");
        Console.WriteLine($"Load average (1, 5, 15 min): {machine.LoadBefore} before, {Machine.LoadAverage()} after");
        Console.WriteLine();
        figures.Print(Console.Out);
        return 0;
    }

    /// <summary>Create then start, as the agent does for a new Cloud PC; both times are from <paramref name="started"/>.</summary>
    private static async Task<(TimeSpan Created, TimeSpan Ready)> BootAsync(QemuDriver driver, GalleryImage image, string id,
        HashSet<string> vms, long started, TimeProvider time, CancellationToken cancellationToken)
    {
        lock (vms)
        {
            vms.Add(id);
        }

        await driver.CreateAsync(new VmSpec { Id = id, ImagePath = image.FolderPath, Size = Size }, cancellationToken);
        var created = time.GetElapsedTime(started);
        await driver.StartAsync(id, cancellationToken);
        return (created, time.GetElapsedTime(started));
    }

    private static async Task DeleteAsync(QemuDriver driver, HashSet<string> vms)
    {
        foreach (var id in vms.ToList())
        {
            // Not cancellable: a VM left running would slow the next measurements (and outlive the benchmark).
            await driver.DeleteAsync(VmTombstone.Issue(id), CancellationToken.None);
            vms.Remove(id);
        }
    }

    private static async Task CleanUpAsync(QemuDriver driver, HashSet<string> vms, string data)
    {
        try
        {
            await DeleteAsync(driver, vms);
        }
        catch (Exception exception) when (exception is VmDriverException or TimeoutException or IOException)
        {
            Console.Error.WriteLine($"Deleting the VMs failed ({exception.Message}); their QEMU processes are killed instead.");
        }

        driver.Dispose();
        // The VMs are daemonized (not our children): whatever the driver could not stop is found by its data folder.
        Machine.KillQemuProcesses(data + "/");
        if (Directory.Exists(data))
        {
            Directory.Delete(data, recursive: true);
        }
    }

    internal static async Task<string> ImageFolderAsync(string? imageOption, CancellationToken cancellationToken)
    {
        if (imageOption is not null)
        {
            return Path.GetFullPath(imageOption);
        }

        var root = RepositoryRoot();
        var folder = Path.Combine(root, "artifacts", "tiny-image");
        if (!File.Exists(Path.Combine(folder, GalleryImage.ManifestFileName)))
        {
            Console.Error.WriteLine($"No image in {folder}: building it with scripts/build-tiny-image.sh");
            // The script's output is progress: stderr, so that stdout holds only the figures.
            await Machine.RunAsync("bash", [Path.Combine(root, "scripts", "build-tiny-image.sh"), folder], TimeSpan.FromMinutes(15),
                cancellationToken, echo: true);
        }

        return folder;
    }

    internal static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Stratus.slnx")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No Stratus.slnx above {AppContext.BaseDirectory}: run the benchmark from the repository (boot also takes --image DIR).");
    }

    internal static string Bytes(int gibibytes) => (gibibytes * 1024L * 1024 * 1024).ToString(CultureInfo.InvariantCulture);
}
