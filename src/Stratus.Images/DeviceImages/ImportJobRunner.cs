using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Images.Persistence;

namespace Stratus.Images.DeviceImages;

/// <summary>
/// Runs import jobs one at a time in this instance (conversion is CPU and disk bound): takes a queued job, or a
/// running one whose lease ran out (its runner died), by a claim conditional on the job's attempt count, so that
/// of several instances exactly one wins. Woken when this process queues a job, else every
/// <see cref="ImagesOptions.ImportPollInterval"/> for jobs queued elsewhere or orphaned.
/// </summary>
internal sealed partial class ImportJobRunner(
    IServiceScopeFactory scopes,
    IOptions<ImagesOptions> options,
    TimeProvider clock,
    ILogger<ImportJobRunner> logger) : BackgroundService
{
    private readonly SemaphoreSlim wake = new(0, 1);

    /// <summary>This runner's name on the leases it holds.</summary>
    public string Owner { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    public void Wake()
    {
        try
        {
            wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken.
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // File work completes synchronously on Linux: without this the first job would run inside the host's start.
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (!stoppingToken.IsCancellationRequested && await RunNextAsync(stoppingToken))
                {
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogRunFailed(logger, e);
            }

            await ((Task)wake.WaitAsync(options.Value.ImportPollInterval, stoppingToken)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <returns>False when no job was waiting.</returns>
    internal async Task<bool> RunNextAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ImagesDbContext>();
        var now = clock.GetUtcNow();
        var candidate = await db.ImportJobs.AsNoTracking()
            .Where(j => j.State == ImportJobState.Queued || (j.State == ImportJobState.Running && j.LeaseExpiresAt < now))
            .OrderBy(j => j.CreatedAt).FirstOrDefaultAsync(cancellationToken);
        if (candidate is null)
        {
            return false;
        }

        var until = now + options.Value.ImportLease;
        var claimed = await db.ImportJobs
            .Where(j => j.Id == candidate.Id && j.Attempts == candidate.Attempts
                && (j.State == ImportJobState.Queued || (j.State == ImportJobState.Running && j.LeaseExpiresAt < now)))
            .ExecuteUpdateAsync(set => set.SetProperty(j => j.State, ImportJobState.Running).SetProperty(j => j.Attempts, candidate.Attempts + 1)
                .SetProperty(j => j.LeaseOwner, Owner).SetProperty(j => j.LeaseExpiresAt, until), cancellationToken);
        if (claimed == 0)
        {
            return true; // another runner took it first: look again
        }

        if (candidate.State == ImportJobState.Running)
        {
            LogTakenOver(logger, candidate.Id, candidate.LeaseOwner);
        }

        candidate.State = ImportJobState.Running;
        candidate.Attempts++;
        candidate.LeaseOwner = Owner;
        candidate.LeaseExpiresAt = until;
        await scope.ServiceProvider.GetRequiredService<ImportJobExecution>().RunAsync(candidate, Owner, cancellationToken);
        return true;
    }

    public override void Dispose()
    {
        wake.Dispose();
        base.Dispose();
    }

    [LoggerMessage(EventId = 7107, Level = LogLevel.Warning, Message = "Running import jobs failed; trying again shortly")]
    private static partial void LogRunFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 7108, Level = LogLevel.Warning, Message = "Took over import job {Id}, whose runner {Owner} let its lease run out")]
    private static partial void LogTakenOver(ILogger logger, Guid id, string? owner);
}
