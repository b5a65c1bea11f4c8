using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Drivers.Qemu;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Support;

/// <summary>
/// A host agent's data folder in a temporary folder and the QEMU driver over it. A test can replace the
/// driver as an agent restart would. Disposal kills every QEMU process of the folder (whatever the test left)
/// and removes the folder, so a failed test leaks nothing either.
/// </summary>
internal sealed class VmHost : IAsyncDisposable
{
    /// <summary>One per test run, as one per agent: the KVM probe runs once.</summary>
    public static readonly Accelerator SharedAccelerator =
        new(new QemuDriverOptions { DataDirectory = "/tmp" }, NullLogger<Accelerator>.Instance, TimeProvider.System);

    private readonly TempFolder _data = new();
    private readonly ILoggerFactory _logs;
    private QemuDriver? _driver;

    public VmHost(ITestOutputHelper output, Func<QemuDriverOptions, QemuDriverOptions>? configure = null)
    {
        _logs = new TestOutputLoggerFactory(output);
        var options = new QemuDriverOptions { DataDirectory = _data.Path, GracefulStopTimeout = TimeSpan.FromSeconds(60) };
        Options = configure?.Invoke(options) ?? options;
        _driver = Create();
    }

    public QemuDriverOptions Options { get; }

    public string DataPath => _data.Path;

    public QemuDriver Driver => _driver ?? throw new InvalidOperationException("The driver is disposed.");

    /// <summary>Drops the driver without touching its VMs, as an agent that exits or is killed does.</summary>
    public void DropDriver()
    {
        _driver?.Dispose();
        _driver = null;
    }

    /// <summary>A new driver over the same folder, as after an agent restart.</summary>
    public QemuDriver NewDriver()
    {
        DropDriver();
        _driver = Create();
        return _driver;
    }

    public QemuDriver Create() =>
        new(Options, SharedAccelerator, _logs.CreateLogger<QemuDriver>(), TimeProvider.System);

    public static async Task<VmSpec> SpecAsync(string id, int memoryMiB = 256, int diskGiB = 8, string? kernelArguments = null) => new()
    {
        Id = id,
        ImagePath = (await TinyImage.GetAsync()).FolderPath,
        Size = new VmSize(1, memoryMiB, diskGiB),
        KernelArguments = kernelArguments,
    };

    /// <summary>The pids of QEMU processes whose command line contains <paramref name="text"/>.</summary>
    public static IReadOnlyList<int> QemuProcesses(string text)
    {
        var found = new List<int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid))
            {
                continue;
            }

            try
            {
                var commandLine = File.ReadAllText(Path.Combine(entry, "cmdline")).Replace('\0', ' ');
                var state = File.ReadAllText(Path.Combine(entry, "stat")).Split(") ")[^1][0];
                if (state != 'Z' && commandLine.Contains("qemu-system", StringComparison.Ordinal) && commandLine.Contains(text, StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
                // Ended while we looked.
            }
        }

        return found;
    }

    public async ValueTask DisposeAsync()
    {
        DropDriver();
        foreach (var pid in QemuProcesses(_data.Path + "/"))
        {
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(pid);
                process.Kill();
            }
            catch (ArgumentException)
            {
            }
        }

        for (var i = 0; i < 100 && QemuProcesses(_data.Path + "/").Count > 0; i++)
        {
            await Task.Delay(100);
        }

        _data.Dispose();
        _logs.Dispose();
    }
}
