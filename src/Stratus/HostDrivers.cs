using Stratus.HostAgent.Confinement;
using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Drivers.Qemu;
using Stratus.HostAgent.Drivers.Simulated;

namespace Stratus;

/// <summary>The VM driver of a host agent, for `stratus host` and for the embedded hosts of `stratus up`.</summary>
internal static class HostDrivers
{
    /// <param name="guestDenyNetworks">Networks the guests never reach besides the host's own addresses (CIDRs).</param>
    public static IVmDriver Create(string driverName, string dataFolder, Accelerator accelerator, ILoggerFactory loggers, IReadOnlyList<string>? guestDenyNetworks = null) => driverName switch
    {
        "simulated" => new SimulatedDriver(new SimulatedDriverOptions(), TimeProvider.System),
        // QEMU's sockets live under the data folder: a long one is reached through a short link.
        _ => new QemuDriver(new QemuDriverOptions
        {
            DataDirectory = SocketFolder.Shorten(dataFolder),
            Confinement = new GuestConfinementOptions { ControlPlaneNetworks = guestDenyNetworks ?? [] },
        }, accelerator, loggers.CreateLogger<QemuDriver>(), TimeProvider.System),
    };

    public static Accelerator CreateAccelerator(ILoggerFactory loggers) =>
        new(new QemuDriverOptions { DataDirectory = Path.GetTempPath() }, loggers.CreateLogger<Accelerator>(), TimeProvider.System);

    /// <summary>
    /// What the host's status says its VMs run on. The probe boots an image's kernel, so it needs one; with none
    /// yet, the host says "unknown" until it restarts with images.
    /// </summary>
    public static async Task<string> DescribeAcceleratorAsync(string driverName, Accelerator accelerator, IEnumerable<string> imageRoots, CancellationToken cancellationToken)
    {
        if (driverName == "simulated")
        {
            return "simulated";
        }

        foreach (var folder in imageRoots.Where(Directory.Exists).SelectMany(Directory.GetDirectories).Order(StringComparer.Ordinal))
        {
            if (!File.Exists(Path.Combine(folder, GalleryImage.ManifestFileName)))
            {
                continue;
            }

            var image = await GalleryImage.LoadAsync(folder, verify: false, cancellationToken);
            if (image.KernelPath is not null)
            {
                return (await accelerator.ResolveAsync(image, cancellationToken)).Name;
            }
        }

        return "unknown";
    }
}
