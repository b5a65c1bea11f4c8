using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Compute.Persistence;
using Stratus.Platform.Jobs;
using Stratus.Platform.Regions;

namespace Stratus.Compute.Hosts;

/// <summary>Marks hosts that stopped reporting as down and says so with an event, once per outage; in the instance that leads it.</summary>
internal sealed partial class HeartbeatMonitor(
    IServiceScopeFactory scopes, IOptions<ComputeOptions> options, RegionWritability region, TimeProvider clock, ILogger<HeartbeatMonitor> logger) : IPeriodicJob
{
    /// <summary>When this process began to watch (the runner makes the job at start).</summary>
    private readonly DateTimeOffset watchingSince = clock.GetUtcNow();

    public string Name => "compute.heartbeatMonitor";

    public TimeSpan Interval => options.Value.HeartbeatTimeout / 3;

    public Task RunAsync(CancellationToken cancellationToken) => CheckAsync(cancellationToken);

    internal async Task CheckAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComputeDbContext>();
        var now = clock.GetUtcNow();
        var cutoff = now - options.Value.HeartbeatTimeout;
        if (watchingSince > cutoff || region.WritableSince > cutoff)
        {
            // A control plane that was itself away (restarted after a crash, or all of it down) heard no heartbeat
            // meanwhile: a host is judged only by a whole timeout this process has been up to hear it. So too after
            // a region failover: while this region was a standby its hosts' reports were refused, so their last
            // heartbeats in the store are as old as the failover, not as the hosts' silence.
            return;
        }

        var silent = await db.Hosts.Where(h => h.State != HostState.Down && h.LastHeartbeatAt < cutoff).ToListAsync(cancellationToken);
        foreach (var host in silent)
        {
            host.State = HostState.Down;
            db.Publish(new HostDown(host.Id, host.Name, host.Region, host.Zone, host.LastHeartbeatAt ?? host.EnrolledAt, now));
            LogHostDown(logger, host.Name, host.Region, host.Zone, host.LastHeartbeatAt);
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            // A report or a placement touched the host meanwhile; the next pass looks again.
        }
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Host {Name} in {Region}/{Zone} is down: no heartbeat since {LastHeartbeat}")]
    private static partial void LogHostDown(ILogger logger, string name, string region, string zone, DateTimeOffset? lastHeartbeat);
}
