using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Stratus.HostAgent.Copies;
using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Drivers.Qemu;

using Stratus.Testing;

namespace Stratus.Bench;

/// <summary>
/// Disk copies of the tiny image on real QEMU (issue 18): one running VM copied to a file:// store, first in full,
/// then once after writing N MiB of random bytes in the guest for each N, with the bytes each copy shipped and how long
/// it took; then the restore a host loss makes: a new VM made from the chain (CreateFromCopyAsync) and booted, with
/// the guest's data checked.
/// </summary>
internal static class CopiesBenchmark
{
    // The driver tests' size, as in the boot benchmark.
    private static readonly VmSize Size = new(VCpus: 1, MemoryMiB: 256, DiskGiB: 8);

    public static async Task<int> RunAsync(string? imageOption, IReadOnlyList<int> writesMiB, CancellationToken cancellationToken)
    {
        var root = BootBenchmark.RepositoryRoot();
        var image = await GalleryImage.LoadAsync(await BootBenchmark.ImageFolderAsync(imageOption, cancellationToken), verify: true, cancellationToken);
        var commit = await ProvisionBenchmark.CommitAsync(root, cancellationToken);

        // Under /tmp whatever TMPDIR says, and short: QEMU's unix sockets live below the driver's folder.
        var data = $"/tmp/sc-{Guid.NewGuid().ToString("N")[..8]}";
        var options = new QemuDriverOptions { DataDirectory = Path.Combine(data, "host") };
        var store = new FileSystemCopyStore(Path.Combine(data, "store"));
        using var logs = LoggerFactory.Create(builder => builder
            .SetMinimumLevel(LogLevel.Warning)
            .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace));
        var accelerator = new Accelerator(options, logs.CreateLogger<Accelerator>(), TimeProvider.System);
        var choice = await accelerator.ResolveAsync(image, cancellationToken);
        var machine = await Machine.DescribeAsync(options.QemuSystem, cancellationToken);
        Console.Error.WriteLine($"{image.Name} {image.Version}, {choice.Name} ({choice.Reason}), writes {string.Join(", ", writesMiB)} MiB, data in {data}; load {machine.LoadBefore}");

        var driver = new QemuDriver(options, accelerator, logs.CreateLogger<QemuDriver>(), TimeProvider.System);
        var rows = new List<CopyRow>();
        TimeSpan restored, restoredReady;
        try
        {
            const string Id = "copied";
            var started = Stopwatch.GetTimestamp();
            await driver.CreateAsync(new VmSpec { Id = Id, ImagePath = image.FolderPath, Size = Size }, cancellationToken);
            var vm = await driver.StartAsync(Id, cancellationToken);
            Console.Error.WriteLine($"VM created and ready in {Figures.Seconds(Stopwatch.GetElapsedTime(started))} (first boot); load {Machine.LoadAverage()}");

            rows.Add(await CopyAsync(driver, store, Id, "full copy (first)", 0, cancellationToken));
            var written = new List<int>();
            foreach (var mebibytes in writesMiB)
            {
                if (mebibytes > 0)
                {
                    await WriteAsync(vm.Console.SerialSocketPath, mebibytes, cancellationToken);
                    written.Add(mebibytes);
                }

                rows.Add(await CopyAsync(driver, store, Id, $"incremental after {mebibytes} MiB written", mebibytes, cancellationToken));
            }

            // A host loss: the VM is made again from its own chain, here beside the source (another host would do the same).
            const string Restored = "restored";
            var spec = new VmSpec { Id = Restored, ImagePath = image.FolderPath, Size = Size };
            // The source stops first (not timed): one VM runs at a time, as on a host that lost its peer.
            await driver.StopAsync(Id, cancellationToken: cancellationToken);
            started = Stopwatch.GetTimestamp();
            await driver.CreateFromCopyAsync(spec, store, Id, cancellationToken);
            restored = Stopwatch.GetElapsedTime(started);
            var restoredVm = await driver.StartAsync(Restored, cancellationToken);
            restoredReady = Stopwatch.GetElapsedTime(started);
            Console.Error.WriteLine($"restored from the chain in {Figures.Seconds(restored)}, ready {Figures.Seconds(restoredReady)}; load {Machine.LoadAverage()}");
            // Not timed: the copy holds every file written before it.
            await CheckAsync(restoredVm.Console.SerialSocketPath, written, cancellationToken);
        }
        catch (Exception exception)
        {
            Console.Error.WriteLine(cancellationToken.IsCancellationRequested
                ? "The benchmark was cancelled; its VMs, processes and folders are removed."
                : $"The benchmark stopped: {exception.Message}");
            return 1;
        }
        finally
        {
            await CleanUpAsync(driver, data);
        }

        Console.WriteLine($"Disk copies of {image.Name} {image.Version} to a file:// store, one VM, QEMU driver");
        Console.WriteLine($"Machine: {machine}; accelerator {choice.Name} ({choice.Reason})");
        Console.WriteLine($"Stratus at commit {commit}");
        Console.WriteLine($"VM size: {Size.VCpus} vCPU, {Size.MemoryMiB} MiB, {Size.DiskGiB} GiB; random bytes written to /home (sync) before each incremental");
        Console.WriteLine($"Load average (1, 5, 15 min): {machine.LoadBefore} before, {Machine.LoadAverage()} after");
        Console.WriteLine();
        const string Format = "{0,-40} {1,10} {2,10} {3,9} {4,8} {5,6}";
        Console.WriteLine(string.Format(CultureInfo.InvariantCulture, Format, "Copy", "shipped", "disk", "% of disk", "seconds", "chain"));
        foreach (var row in rows)
        {
            Console.WriteLine(string.Format(CultureInfo.InvariantCulture, Format, row.Name, MiB(row.Result.BytesShipped), MiB(row.Result.DiskBytes),
                (100.0 * row.Result.BytesShipped / row.Result.DiskBytes).ToString("0.00", CultureInfo.InvariantCulture),
                row.Duration.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture), row.Result.ChainLength));
        }

        Console.WriteLine();
        Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0,-58} {1,8:0.00}", "Restore: CreateFromCopyAsync of the chain (seconds)", restored.TotalSeconds));
        Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0,-58} {1,8:0.00}", "Restore: that, then a boot to STRATUS-READY (seconds)", restoredReady.TotalSeconds));
        return 0;
    }

    private static async Task<CopyRow> CopyAsync(QemuDriver driver, ICopyStore store, string id, string name, int writtenMiB, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var result = await driver.CopyDiskAsync(id, store, cancellationToken);
        var duration = Stopwatch.GetElapsedTime(started);
        var expectedFull = name.StartsWith("full", StringComparison.Ordinal);
        if (result.Full != expectedFull)
        {
            throw new InvalidOperationException($"The {name} was {(result.Full ? "full" : "incremental")}.");
        }

        Console.Error.WriteLine($"{name}: {MiB(result.BytesShipped)} MiB of {MiB(result.DiskBytes)} MiB in {Figures.Seconds(duration)}, chain {result.ChainLength}; load {Machine.LoadAverage()}");
        return new CopyRow(name, writtenMiB, result, duration);
    }

    /// <summary>Random bytes (nothing compresses or reads as zeros) in a new file on /home, the persistent disk.</summary>
    private static async Task WriteAsync(string serialSocket, int mebibytes, CancellationToken cancellationToken)
    {
        await using var console = await SerialConsole.ConnectAsync(serialSocket, cancellationToken);
        var started = Stopwatch.GetTimestamp();
        var answer = await console.RunAsync($"head -c {mebibytes * 1024L * 1024} /dev/urandom > /home/bench-{mebibytes}.bin && sync && echo written",
            TimeSpan.FromMinutes(10), cancellationToken);
        if (answer.Trim() != "written")
        {
            throw new InvalidOperationException($"Writing {mebibytes} MiB in the guest answered '{answer}'.");
        }

        Console.Error.WriteLine($"wrote {mebibytes} MiB to /home in {Figures.Seconds(Stopwatch.GetElapsedTime(started))}");
    }

    private static async Task CheckAsync(string serialSocket, IReadOnlyList<int> written, CancellationToken cancellationToken)
    {
        await using var console = await SerialConsole.ConnectAsync(serialSocket, cancellationToken);
        foreach (var mebibytes in written)
        {
            var size = (await console.RunAsync($"wc -c < /home/bench-{mebibytes}.bin", TimeSpan.FromMinutes(1), cancellationToken)).Trim();
            if (size != (mebibytes * 1024L * 1024).ToString(CultureInfo.InvariantCulture))
            {
                throw new InvalidOperationException($"The restored guest's /home/bench-{mebibytes}.bin has '{size}' bytes, not {mebibytes} MiB.");
            }
        }
    }

    private static async Task CleanUpAsync(QemuDriver driver, string data)
    {
        try
        {
            // Not cancellable: a VM left running would outlive the benchmark.
            foreach (var vm in await driver.ListAsync(CancellationToken.None))
            {
                await driver.DeleteAsync(VmTombstone.Issue(vm.Id), CancellationToken.None);
            }
        }
        catch (Exception exception) when (exception is VmDriverException or TimeoutException or IOException)
        {
            Console.Error.WriteLine($"Deleting the VMs failed ({exception.Message}); their QEMU processes are killed instead.");
        }

        driver.Dispose();
        Machine.KillQemuProcesses(data + "/");
        if (Directory.Exists(data))
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static string MiB(long bytes) => (bytes / 1024.0 / 1024).ToString("0.0", CultureInfo.InvariantCulture);

    private sealed record CopyRow(string Name, int WrittenMiB, DiskCopyResult Result, TimeSpan Duration);
}
