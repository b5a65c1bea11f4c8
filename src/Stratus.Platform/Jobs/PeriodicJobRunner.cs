using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.Platform.Regions;

namespace Stratus.Platform.Jobs;

/// <summary>Runs one job's passes while this instance leads it, and waits to lead it again when it stops leading.</summary>
/// <remarks>Generic so that each job is a hosted service type of its own (AddHostedService keeps one per type).</remarks>
internal sealed partial class PeriodicJobRunner<TJob>(TJob job, JobLeadership leadership, RegionWritability region, TimeProvider clock, ILogger<PeriodicJobRunner<TJob>> logger) : BackgroundService
    where TJob : IPeriodicJob
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A pass may do synchronous work (file copies) for a while: not inside the host's start.
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var lease = await leadership.AcquireAsync(job.Name, stoppingToken);
                using var leading = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lease.Lost);
                await RunPassesAsync(leading.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                // Leadership lost: stand in line again.
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task RunPassesAsync(CancellationToken leading)
    {
        if (!job.RunsAtStart)
        {
            await Task.Delay(job.Interval, clock, leading);
        }

        while (true)
        {
            try
            {
                // Standby mode (issue 19): a pass writes, so it waits while this instance's region may not.
                await region.WaitUntilWritableAsync("job:" + job.Name, leading);
                await job.RunAsync(leading);
            }
            catch (Exception e) when (!leading.IsCancellationRequested)
            {
                // A pass that fails (the database failing over, a service away) never stops the process; the next one retries.
                PeriodicJobLog.LogPassFailed(logger, e, job.Name);
            }

            await Task.Delay(job.Interval, clock, leading);
        }
    }

}

internal static partial class PeriodicJobLog
{
    [LoggerMessage(EventId = 1504, Level = LogLevel.Warning, Message = "A pass of the periodic job {Job} failed; the next one retries")]
    public static partial void LogPassFailed(ILogger logger, Exception exception, string job);
}
