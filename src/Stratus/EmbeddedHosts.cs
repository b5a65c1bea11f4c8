using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Stratus.Compute;
using Stratus.Compute.Hosts;
using Stratus.Compute.Persistence;
using Stratus.HostAgent.Agent;
using Stratus.Platform.Hosting;
using Stratus.Platform.Http;

namespace Stratus;

/// <summary>
/// `stratus up` runs one host agent per region in its own process, so that all-in-one runs real Cloud PCs
/// in two regions on one machine. Each is an ordinary agent: it enrolls over HTTP with a token made here,
/// keeps its identity in DATA/hosts/REGION, and reads images from its region's store DATA/images/regions/REGION.
/// Under `up --tls` they call the HTTPS address and pin its certificate, as a host of another machine does. Exports
/// go to Stratus:Provisioning:RestorePointExportFolder (default DATA/exports), the folder restore points are exported to.
/// VMs are separate QEMU processes: they keep running when Stratus stops and are re-adopted at its next start.
/// </summary>
internal sealed partial class EmbeddedHosts(
    string driverName,
    IServer server,
    IHostApplicationLifetime lifetime,
    IServiceScopeFactory scopes,
    IOptions<ComputeOptions> compute,
    IConfiguration configuration,
    StratusHostSettings settings,
    ILoggerFactory loggers,
    ControlPlaneTls? tls = null) : BackgroundService
{
    private readonly ILogger logger = loggers.CreateLogger<EmbeddedHosts>();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The agents talk to this process over HTTP, so they start once it listens.
        if (!await lifetime.WaitUntilStartedAsync(stoppingToken))
        {
            return;
        }

        var controlPlane = ServiceCalls.OwnAddress(server) ?? throw new InvalidOperationException("The server has no address for the embedded hosts to reach.");
        var regions = compute.Value.EffectiveRegions;
        var imagesRoot = Path.Combine(settings.DataFolder, "images");
        var accelerator = HostDrivers.CreateAccelerator(loggers);
        var acceleratorName = await HostDrivers.DescribeAcceleratorAsync(driverName, accelerator,
            [Path.Combine(imagesRoot, "gallery"), .. regions.Select(r => Path.Combine(imagesRoot, "regions", r.Name))], stoppingToken);

        // A region's share of this machine: VMs are thin-provisioned and mostly idle, so vCPUs are overcommitted 4:1.
        var memoryMiB = (int)(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1024 / 1024 / 2 / regions.Count);
        var diskGiB = (int)Math.Max(1, new DriveInfo(settings.DataFolder).AvailableFreeSpace / 1024 / 1024 / 1024 / 2 / regions.Count);
        var exportsFolder = Path.GetFullPath(configuration["Stratus:Provisioning:RestorePointExportFolder"] is { Length: > 0 } configured
            ? configured : Path.Combine(settings.DataFolder, "exports"));
        var agents = new List<HostAgentService>();
        foreach (var region in regions)
        {
            var folder = Path.Combine(settings.DataFolder, "hosts", region.Name);
            Directory.CreateDirectory(folder);
            var name = $"{Environment.MachineName}-{region.Name}";
            var enrolled = await IsEnrolledAsync(folder, stoppingToken);
            if (!enrolled && await HostNamedAsync(region.Name, name, stoppingToken) is { } existing)
            {
                // Enrolling again under the same name is refused (409), and an agent that cannot enroll never runs.
                LogIdentityLost(logger, region.Name, Path.Combine(folder, "agent.json"), name, existing);
                continue;
            }

            var options = new AgentOptions
            {
                ControlPlane = controlPlane,
                EnrollmentToken = enrolled ? null : await IssueEnrollmentTokenAsync(region.Name, stoppingToken),
                Region = region.Name,
                Zone = region.Zones.FirstOrDefault() ?? region.Name,
                Name = name,
                DataFolder = folder,
                ImagesFolder = Path.Combine(imagesRoot, "regions", region.Name),
                ExportsFolder = exportsFolder,
                ControlPlanePin = tls?.Pin,
                // Stratus:EmbeddedHosts:VCpus, MemoryMiB and DiskGiB override a region's share (scale tests of the simulated driver).
                VCpus = configuration.GetValue("Stratus:EmbeddedHosts:VCpus", Environment.ProcessorCount * 4),
                MemoryMiB = configuration.GetValue("Stratus:EmbeddedHosts:MemoryMiB", memoryMiB),
                DiskGiB = configuration.GetValue("Stratus:EmbeddedHosts:DiskGiB", diskGiB),
            };
            var driver = HostDrivers.Create(driverName, folder, accelerator, loggers);
            agents.Add(new HostAgentService(driver, options, acceleratorName,
                new HttpClient(ControlPlanePin.Handler(tls?.Pin, logger)) { BaseAddress = controlPlane, Timeout = TimeSpan.FromSeconds(60) }, TimeProvider.System,
                loggers.CreateLogger<HostAgentService>()));
        }

        foreach (var agent in agents)
        {
            await agent.StartAsync(stoppingToken);
        }

        LogStarted(logger, agents.Count, driverName, acceleratorName);
        try
        {
            await Task.Delay(Timeout.Infinite, stoppingToken);
        }
        catch (OperationCanceledException)
        {
            using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await Task.WhenAll(agents.Select(a => a.StopAsync(stopping.Token)));
            foreach (var agent in agents)
            {
                agent.Dispose();
            }
        }
    }

    /// <summary>
    /// True when the host's identity file names a host that compute knows. A data folder whose databases were
    /// reset (or a host an operator removed) enrolls again instead of being refused forever.
    /// </summary>
    private async Task<bool> IsEnrolledAsync(string folder, CancellationToken cancellationToken)
    {
        var path = Path.Combine(folder, "agent.json");
        if (!File.Exists(path))
        {
            return false;
        }

        using var identity = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(path, cancellationToken));
        var known = identity.RootElement.TryGetProperty("hostId", out var id) && id.TryGetGuid(out var hostId)
            && await KnownHostAsync(hostId, cancellationToken);
        if (!known)
        {
            File.Delete(path);
        }

        return known;
    }

    private async Task<bool> KnownHostAsync(Guid hostId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ComputeDbContext>().Hosts.AnyAsync(h => h.Id == hostId, cancellationToken);
    }

    private async Task<Guid?> HostNamedAsync(string region, string name, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ComputeDbContext>().Hosts.Where(h => h.Region == region && h.Name == name)
            .Select(h => (Guid?)h.Id).FirstOrDefaultAsync(cancellationToken);
    }

    private async Task<string> IssueEnrollmentTokenAsync(string region, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComputeDbContext>();
        var token = EnrollmentToken.Issue(region, TimeSpan.FromMinutes(10), TimeProvider.System.GetUtcNow(), out var secret);
        db.EnrollmentTokens.Add(token);
        await db.SaveChangesAsync(cancellationToken);
        return secret;
    }

    [LoggerMessage(EventId = 6102, Level = LogLevel.Warning, Message = "The embedded host of region {Region} is not started: its identity {IdentityFile} is gone and "
        + "compute already has a host named {Name} ({HostId}), which refuses a second enrollment under that name. Restore the file from a backup; or remove "
        + "that host (DELETE /api/v1/hosts/{HostId}) and start again: the host enrolls anew and keeps the VMs in its folder as unmanaged, for the operator to adopt or delete")]
    private static partial void LogIdentityLost(ILogger logger, string region, string identityFile, string name, Guid hostId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Started {Count} embedded hosts (driver {Driver}, accelerator {Accelerator}); their VMs keep running when Stratus stops")]
    private static partial void LogStarted(ILogger logger, int count, string driver, string accelerator);
}
