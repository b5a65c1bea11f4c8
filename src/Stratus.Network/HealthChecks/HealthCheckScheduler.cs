using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Network.Connections;
using Stratus.Network.Persistence;
using Stratus.Platform.Jobs;

namespace Stratus.Network.HealthChecks;

/// <summary>
/// The continuous checks (issue 20: every 5 minutes, not Windows 365's 6 hours), in the one instance that leads:
/// finishes runs past their deadline, requests a run for each connection whose last run is older than the
/// interval, and forgets runs after 28 days.
/// </summary>
public sealed partial class HealthCheckScheduler(IServiceScopeFactory scopes, IOptions<NetworkOptions> options, TimeProvider clock, ILogger<HealthCheckScheduler> logger)
    : IPeriodicJob
{
    public const string Actor = "scheduler";

    public string Name => "network-health-checks";

    public TimeSpan Interval => options.Value.SchedulerInterval;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await FinishOverdueAsync(cancellationToken);
        await RequestDueAsync(cancellationToken);
        await PruneAsync(cancellationToken);
    }

    public async Task FinishOverdueAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NetworkDbContext>();
        var now = clock.GetUtcNow();
        var overdue = await db.HealthCheckRuns.AsNoTracking().Where(r => r.Status == HealthCheckStatus.Running && r.Deadline <= now)
            .Select(r => r.Id).Take(100).ToListAsync(cancellationToken);
        foreach (var id in overdue)
        {
            try
            {
                await using var runScope = scopes.CreateAsyncScope();
                await runScope.ServiceProvider.GetRequiredService<HealthCheckRuns>().FinishOverdueAsync(id, cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                LogFinishFailed(logger, e, id);
            }
        }
    }

    private async Task RequestDueAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NetworkDbContext>();
        var due = clock.GetUtcNow() - options.Value.HealthCheckInterval;
        var ids = await db.Connections.AsNoTracking()
            .Where(c => c.HealthCheckStatus != HealthCheckStatus.Running && (c.LastRunRequestedAt == null || c.LastRunRequestedAt <= due))
            .Select(c => c.Id).Take(500).ToListAsync(cancellationToken);
        foreach (var id in ids)
        {
            await using var runScope = scopes.CreateAsyncScope();
            var store = runScope.ServiceProvider.GetRequiredService<NetworkDbContext>();
            var runs = runScope.ServiceProvider.GetRequiredService<HealthCheckRuns>();
            try
            {
                await store.RetryOnConcurrentChangeAsync(async () =>
                {
                    var connection = await store.Connections.FirstOrDefaultAsync(c => c.Id == id, cancellationToken);
                    if (connection is not null && connection.HealthCheckStatus != HealthCheckStatus.Running)
                    {
                        await runs.RequestAsync(connection, Actor, cancellationToken);
                        await store.SaveChangesAsync(cancellationToken);
                    }

                    return true;
                });
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                LogRequestFailed(logger, e, id);
            }
        }
    }

    private async Task PruneAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NetworkDbContext>();
        var cutoff = clock.GetUtcNow() - NetworkOptions.RunRetention;
        await db.HealthCheckRuns.Where(r => r.RequestedAt < cutoff && r.Status != HealthCheckStatus.Running).ExecuteDeleteAsync(cancellationToken);
    }

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Could not finish health-check run {RunId} past its deadline")]
    private static partial void LogFinishFailed(ILogger logger, Exception exception, Guid runId);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Could not request the scheduled health checks of connection {ConnectionId}")]
    private static partial void LogRequestFailed(ILogger logger, Exception exception, Guid connectionId);
}
