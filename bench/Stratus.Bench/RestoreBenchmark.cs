using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Drivers.Qemu;

using Stratus.Testing;

namespace Stratus.Bench;

/// <summary>
/// Restore points of the tiny image on real QEMU, twice: A. through the QEMU driver on one running VM (take a
/// point, revert to it, export it, delete it), and B. end to end through the public API of `stratus up --hosts
/// qemu` on a provisioned Cloud PC (createSnapshot, then restore to that point), the time a user waits. A runs
/// all its runs first and B after it, so that only one VM runs at a time.
/// </summary>
internal static partial class RestoreBenchmark
{
    // What goes on the guest's persistent disk (/home) before the first point, so that the points hold data.
    private const int DataMiB = 64;

    private const string ImageId = "stratus-tiny-linux";
    private const string PlanId = "5c1a0000-0000-4000-8000-000000010108";
    private const string Domain = "bench.test";
    private const string AdminPassword = "bench-admin-password-1";
    private const string Region = "local-1";

    // The driver tests' size, as in the boot benchmark.
    private static readonly VmSize Size = new(VCpus: 1, MemoryMiB: 256, DiskGiB: 8);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan OperationTimeout = TimeSpan.FromMinutes(5);

    public static async Task<int> RunAsync(string? imageOption, string? binaryOption, int runs, CancellationToken cancellationToken)
    {
        var root = BootBenchmark.RepositoryRoot();
        var binary = binaryOption ?? Path.Combine(root, "src", "Stratus", "bin", "Release", "net10.0", "stratus");
        if (!File.Exists(binary))
        {
            // Checked before A runs: B would only find out minutes later.
            Console.Error.WriteLine($"No stratus binary at {binary}: build it first with `dotnet build src/Stratus -c Release`.");
            return 2;
        }

        var image = await GalleryImage.LoadAsync(await BootBenchmark.ImageFolderAsync(imageOption, cancellationToken), verify: true, cancellationToken);
        var commit = await ProvisionBenchmark.CommitAsync(root, cancellationToken);
        var figures = new RestoreFigures();

        // Under /tmp whatever TMPDIR says, and short: QEMU's unix sockets live below both folders.
        var driverData = $"/tmp/sb-{Guid.NewGuid().ToString("N")[..8]}";
        var stratusData = $"/tmp/sr-{Guid.NewGuid().ToString("N")[..8]}";
        var options = new QemuDriverOptions { DataDirectory = driverData };
        using var logs = LoggerFactory.Create(builder => builder
            .SetMinimumLevel(LogLevel.Warning)
            .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace));
        var accelerator = new Accelerator(options, logs.CreateLogger<Accelerator>(), TimeProvider.System);
        var choice = await accelerator.ResolveAsync(image, cancellationToken);
        var machine = await Machine.DescribeAsync(options.QemuSystem, cancellationToken);
        Console.Error.WriteLine($"{image.Name} {image.Version}, {choice.Name} ({choice.Reason}), runs: {runs}; load {machine.LoadBefore}");

        var driver = new QemuDriver(options, accelerator, logs.CreateLogger<QemuDriver>(), TimeProvider.System);
        StratusChild? stratus = null;
        try
        {
            Console.Error.WriteLine($"A. QEMU driver, data in {driverData}");
            await DriverRunsAsync(driver, image, driverData, runs, figures, cancellationToken);
            await CleanUpDriverAsync(driver, driverData);

            Console.Error.WriteLine($"B. stratus up --hosts qemu, data in {stratusData}");
            InstallImage(image.FolderPath, Path.Combine(stratusData, "images", "gallery", ImageId));
            var operatorPassword = $"bench-operator-{Guid.NewGuid():N}";
            stratus = StratusChild.Start(binary, stratusData, "qemu", new Dictionary<string, string>
            {
                ["STRATUS_BOOTSTRAP_PASSWORD"] = operatorPassword,
                // As the tests: the agents' long polls end sooner, so that a command waits less for the next one.
                ["Stratus__Compute__LongPollTimeout"] = "00:00:05",
            });
            Console.Error.WriteLine($"stratus (pid {stratus.Id}) on {stratus.BaseAddress}; load {Machine.LoadAverage()}");
            await ApiRunsAsync(stratus, stratusData, operatorPassword, runs, figures, cancellationToken);
        }
        catch (Exception exception)
        {
            // Any failure ends the benchmark with its reason; the figures of a partial run would mislead.
            Console.Error.WriteLine(cancellationToken.IsCancellationRequested
                ? "The benchmark was cancelled; its VMs, processes and folders are removed."
                : $"The benchmark stopped: {exception.Message}");
            if (stratus is not null && !cancellationToken.IsCancellationRequested)
            {
                Console.Error.WriteLine($"The last lines of stratus's log:\n{stratus.Tail(30)}");
            }

            return 1;
        }
        finally
        {
            await CleanUpDriverAsync(driver, driverData);
            if (stratus is not null)
            {
                await stratus.DisposeAsync();
                Console.Error.WriteLine("stratus leaves its VMs running when it stops (it adopts them at its next start): they are killed.");
            }

            Machine.KillQemuProcesses(stratusData + "/");
            if (Directory.Exists(stratusData))
            {
                Directory.Delete(stratusData, recursive: true);
            }
        }

        Console.WriteLine($"Restore points of {image.Name} {image.Version}, runs: {runs}");
        Console.WriteLine($"Machine: {machine}; accelerator {choice.Name} ({choice.Reason}); B's host: {figures.HostAccelerator}");
        Console.WriteLine($"Stratus at commit {commit}");
        Console.WriteLine($"VM size: A {Size.VCpus} vCPU, {Size.MemoryMiB} MiB, {Size.DiskGiB} GiB; B the small plan (1 vCPU, 1 GiB, 8 GiB)");
        Console.WriteLine($"Load average (1, 5, 15 min): {machine.LoadBefore} before, {Machine.LoadAverage()} after");
        Console.WriteLine();
        figures.Print(Console.Out, DataMiB);
        return 0;
    }

    /// <summary>A: one VM booted once and given data, then per run a point taken, reverted to, exported and deleted.</summary>
    private static async Task DriverRunsAsync(QemuDriver driver, GalleryImage image, string data, int runs, RestoreFigures figures,
        CancellationToken cancellationToken)
    {
        const string Id = "restore";
        var started = Stopwatch.GetTimestamp();
        await driver.CreateAsync(new VmSpec { Id = Id, ImagePath = image.FolderPath, Size = Size }, cancellationToken);
        var vm = await driver.StartAsync(Id, cancellationToken);
        Console.Error.WriteLine($"VM created and ready in {Figures.Seconds(Stopwatch.GetElapsedTime(started))} (first boot); load {Machine.LoadAverage()}");
        var disk = Path.Combine(data, "vms", Id, "disk.qcow2");
        figures.Driver = await WriteGuestDataAsync(vm.Console.SerialSocketPath, disk, cancellationToken);
        Console.Error.WriteLine($"Guest data: {figures.Driver}; load {Machine.LoadAverage()}");

        var exports = Path.Combine(data, "exports");
        for (var run = 1; run <= runs; run++)
        {
            var name = $"bench-{run}";
            started = Stopwatch.GetTimestamp();
            await driver.CreateSnapshotAsync(Id, name, cancellationToken);
            var created = Stopwatch.GetElapsedTime(started);

            var pid = (await driver.GetAsync(Id, cancellationToken))?.ProcessId
                ?? throw new InvalidOperationException($"VM '{Id}' is not running before the revert.");
            started = Stopwatch.GetTimestamp();
            var revert = driver.RevertSnapshotAsync(Id, name, cancellationToken);
            var shutdown = await WaitForExitAsync(pid, started, revert);
            vm = await revert;
            var reverted = Stopwatch.GetElapsedTime(started);
            if (!vm.Ready)
            {
                throw new InvalidOperationException($"VM '{Id}' is not ready after the revert.");
            }

            // Not timed: the guest still has its data after the restore (the point was taken after it was written).
            await CheckGuestDataAsync(vm.Console.SerialSocketPath, cancellationToken);

            var file = Path.Combine(exports, $"{name}.qcow2");
            started = Stopwatch.GetTimestamp();
            await driver.ExportSnapshotAsync(Id, name, file, cancellationToken);
            var exported = Stopwatch.GetElapsedTime(started);
            var exportBytes = new FileInfo(file).Length;
            File.Delete(file);

            started = Stopwatch.GetTimestamp();
            await driver.DeleteSnapshotAsync(Id, name, cancellationToken);
            var deleted = Stopwatch.GetElapsedTime(started);

            figures.DriverCreate.Add(created);
            figures.DriverRevert.Add(reverted);
            figures.DriverShutdown.Add(shutdown);
            figures.DriverExport.Add(exported);
            figures.ExportMiB.Add(exportBytes / 1024.0 / 1024);
            figures.DriverDelete.Add(deleted);
            Console.Error.WriteLine(
                $"run {run}/{runs} driver: create {Figures.Seconds(created)}, revert {Figures.Seconds(reverted)} (shutdown {Figures.Seconds(shutdown)}), " +
                $"export {Figures.Seconds(exported)} ({exportBytes / 1024.0 / 1024:0.0} MiB), delete {Figures.Seconds(deleted)}; load {Machine.LoadAverage()}");
        }
    }

    /// <summary>B: a tenant whose one user gets a Cloud PC, then per run a manual point and a restore to it, through the API.</summary>
    private static async Task ApiRunsAsync(StratusChild stratus, string data, string operatorPassword, int runs, RestoreFigures figures,
        CancellationToken cancellationToken)
    {
        await ProvisionBenchmark.WaitUntilReadyAsync(stratus, cancellationToken);
        using var operatorApi = await StratusApi.SignInAsync(stratus.BaseAddress, "operator", operatorPassword, cancellationToken);
        figures.HostAccelerator = await WaitForHostAsync(operatorApi, stratus, cancellationToken);
        var (admin, userId) = await SetUpTenantAsync(operatorApi, stratus.BaseAddress, cancellationToken);
        using var _ = admin;

        // The license is the directory change that provisions the Cloud PC.
        var started = Stopwatch.GetTimestamp();
        await admin.SendAsync(HttpMethod.Post, $"/api/v1/users/{userId}/assignLicense",
            new { addLicenses = new[] { new { skuId = Guid.Parse(PlanId) } }, removeLicenses = Array.Empty<Guid>() }, cancellationToken);
        var pc = await WaitForCloudPcAsync(admin, stratus, null, TimeSpan.FromMinutes(10), cancellationToken);
        figures.Provisioned = Stopwatch.GetElapsedTime(started);
        Console.Error.WriteLine($"Cloud PC {pc.Id} provisioned {Figures.Seconds(figures.Provisioned.Value)} after the license; load {Machine.LoadAverage()}");

        var folder = VmFolder(data, pc.VmId);
        figures.Api = await WriteGuestDataAsync(Path.Combine(folder, "serial.sock"), Path.Combine(folder, "disk.qcow2"), cancellationToken);
        Console.Error.WriteLine($"Guest data: {figures.Api}; load {Machine.LoadAverage()}");

        for (var run = 1; run <= runs; run++)
        {
            started = Stopwatch.GetTimestamp();
            var point = await admin.SendAsync<OperationItem>(HttpMethod.Post, $"/api/v1/cloudPCs/{pc.Id}/createSnapshot", new { }, cancellationToken);
            point = await WaitForOperationAsync(admin, stratus, pc.Id, point.Id, cancellationToken);
            var created = Stopwatch.GetElapsedTime(started);

            // The createSnapshot operation's id is the restore point's.
            started = Stopwatch.GetTimestamp();
            var restore = await admin.SendAsync<OperationItem>(HttpMethod.Post, $"/api/v1/cloudPCs/{pc.Id}/restore",
                new { cloudPcSnapshotId = point.Id }, cancellationToken);
            restore = await WaitForOperationAsync(admin, stratus, pc.Id, restore.Id, cancellationToken);
            await WaitForCloudPcAsync(admin, stratus, pc.Id, OperationTimeout, cancellationToken);
            var restored = Stopwatch.GetElapsedTime(started);

            // Not timed, as in A.
            await CheckGuestDataAsync(Path.Combine(folder, "serial.sock"), cancellationToken);

            figures.ApiCreate.Add(created);
            figures.ApiCreateService.Add(point.CompletedDateTime!.Value - point.CreatedDateTime);
            figures.ApiRestore.Add(restored);
            figures.ApiRestoreService.Add(restore.CompletedDateTime!.Value - restore.CreatedDateTime);
            Console.Error.WriteLine(
                $"run {run}/{runs} API:    createSnapshot {Figures.Seconds(created)}, restore {Figures.Seconds(restored)} " +
                $"(service's clock {Figures.Seconds(figures.ApiCreateService[^1])}, {Figures.Seconds(figures.ApiRestoreService[^1])}); load {Machine.LoadAverage()}");
        }
    }
}
