using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Stratus.Platform.Messaging;
using Stratus.Provisioning.Persistence;
using Stratus.Testing;

namespace Stratus.Provisioning.Tests.Support;

/// <summary>
/// One real `stratus up --hosts simulated` per test class: the embedded host of each region (local-1, local-2)
/// fakes VMs in memory, so a Cloud PC is provisioned in a second or two. A fake gallery image (enough to list
/// and replicate, never booted) lets policies be made. Settings make the slow parts short: one policy hour of
/// grace lasts <see cref="GracePeriodHour"/>, a failed step is retried after 1 s and then 2 s. Tests isolate
/// themselves by creating tenants of their own.
/// </summary>
public class ProvisioningHost : IAsyncLifetime
{
    public const string ImageId = "stratus-fake-gallery";
    public const string ImageName = "Stratus Fake Gallery";

    public static readonly TimeSpan GracePeriodHour = TimeSpan.FromSeconds(3);

    private readonly TempFolder data = new();

    public StratusProcess Stratus { get; private set; } = null!;

    /// <summary>The platform operator: compute's VMs and hosts, tenants and their seats.</summary>
    public HttpClient Operator { get; private set; } = null!;

    /// <summary>The data folder of the `stratus up` process.</summary>
    public string DataPath => data.Path;

    /// <summary>
    /// The running process's own provisioning store, for a test that makes a state no API can (what a process
    /// that died half-way left behind).
    /// </summary>
    public SqliteProvisioningDbContext OpenStore() => new(
        new DbContextOptionsBuilder<SqliteProvisioningDbContext>().UseSqlite($"Data Source={Path.Combine(DataPath, "db", "provisioning.db")}").Options, TimeProvider.System);

    /// <summary>Settings a test class adds to (or changes of) the ones above.</summary>
    protected virtual IReadOnlyDictionary<string, string?> ExtraSettings { get; } = new Dictionary<string, string?>();

    /// <summary>The command line of the process: every service with an embedded simulated host per region.</summary>
    protected virtual IReadOnlyList<string> Arguments { get; } = ["up", "--hosts", "simulated"];

    private Dictionary<string, string?> settings = [];

    public virtual async Task InitializeAsync()
    {
        await FakeGalleryImage.WriteAsync(Path.Combine(data.Path, "images", "gallery"), ImageId, ImageName);
        settings = new Dictionary<string, string?>
        {
            ["Stratus__Provisioning__GracePeriodHour"] = GracePeriodHour.ToString(),
            ["Stratus__Provisioning__RetryBackoff"] = "00:00:01",
            ["Stratus__Provisioning__PlaceTimeout"] = "00:00:10",
            ["Stratus__Provisioning__BootTimeout"] = "00:00:30",
            ["Stratus__Provisioning__DeleteTimeout"] = "00:00:10",
            // Simulated VMs take nothing, but a host's share of this machine (half its free disk over the regions)
            // holds only a few 8 GB disks: room for every test, so that only a drained host is ever full.
            ["Stratus__EmbeddedHosts__VCpus"] = "4096",
            ["Stratus__EmbeddedHosts__MemoryMiB"] = "4194304",
            ["Stratus__EmbeddedHosts__DiskGiB"] = "65536",
            // A stopping server answers the agents' long polls at once, but a short poll bounds it anyway.
            ["Stratus__Compute__LongPollTimeout"] = "00:00:05",
        };
        foreach (var (name, value) in ExtraSettings)
        {
            settings[name] = value;
        }

        Stratus = await StratusProcess.StartAsync(Arguments, data.Path, settings);
        Operator = await Stratus.OperatorClientAsync();
    }

    /// <summary>
    /// Stops the process (as a service manager does) and starts another on the same data folder, with other
    /// arguments if given (some services only): what one deployment's services do while another's are away. The
    /// embedded simulated hosts lose their VMs, and make them again from compute's desired state.
    /// </summary>
    public async Task RestartAsync(IReadOnlyList<string>? arguments = null)
    {
        Operator.Dispose();
        await Stratus.DisposeAsync();
        Stratus = await StratusProcess.StartAsync(arguments ?? Arguments, data.Path, settings);
        Operator = await Stratus.OperatorClientAsync();
    }

    /// <summary>The running process's platform store: its queues.</summary>
    public SqlitePlatformDbContext OpenPlatformStore() => new(
        new DbContextOptionsBuilder<SqlitePlatformDbContext>().UseSqlite($"Data Source={Path.Combine(DataPath, "db", "platform.db")}").Options);

    public virtual async Task DisposeAsync()
    {
        Operator?.Dispose();
        if (Stratus is not null)
        {
            await Stratus.DisposeAsync();
        }

        data.Dispose();
    }

    /// <summary>A tenant with a unique domain, seats of the small plan, and its administrator signed in.</summary>
    public async Task<TestTenant> CreateTenantAsync(string prefix = "t")
    {
        var domain = $"{prefix}{Guid.NewGuid():N}"[..16] + ".test";
        var response = await Operator.PostAsJsonAsync("/api/v1/tenants", new
        {
            displayName = "Tenant " + domain,
            domain,
            admin = new { userName = "admin", password = TestTenant.AdminPassword },
        });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var admin = await Stratus.SignedInClientAsync("admin@" + domain, TestTenant.AdminPassword);
        var tenant = new TestTenant(this, body.GetProperty("tenant").GetProperty("id").GetGuid(), domain, admin);
        await tenant.SetSeatsAsync(Plans.Small, 10);
        return tenant;
    }

    /// <summary>Compute's VMs, as the operator sees them, of one tenant and not asked to be deleted.</summary>
    public async Task<List<VmBody>> VmsAsync(Guid tenantId) =>
        (await Operator.GetFromJsonAsync<List<VmBody>>("/api/v1/vms"))!.Where(v => v.TenantId == tenantId && !v.DeleteRequested).ToList();

    /// <summary>Compute's VMs of one tenant, those being deleted included.</summary>
    public async Task<List<VmBody>> AllVmsAsync(Guid tenantId) =>
        (await Operator.GetFromJsonAsync<List<VmBody>>("/api/v1/vms"))!.Where(v => v.TenantId == tenantId).ToList();

    public async Task<HostBody> HostOfRegionAsync(string region) =>
        Assert.Single((await Operator.GetFromJsonAsync<List<HostBody>>("/api/v1/hosts"))!, h => h.Region == region);
}

public static class Plans
{
    /// <summary>1 vCPU, 1 GB, 8 GB.</summary>
    public static readonly Guid Small = Guid.Parse("5c1a0000-0000-4000-8000-000000010108");

    /// <summary>2 vCPUs, 2 GB, 16 GB.</summary>
    public static readonly Guid Medium = Guid.Parse("5c1a0000-0000-4000-8000-000000020216");

    public const string SmallName = "Cloud PC 1 vCPU/1 GB/8 GB";

    public const string MediumName = "Cloud PC 2 vCPU/2 GB/16 GB";
}
