using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Stratus.Platform.Persistence;

namespace Stratus.Platform.Regions;

/// <summary>
/// Lets a standby region's instance start (issue 19). In a region of several, a start-up task that may write and finds
/// the store read-only (<see cref="ReadOnlyStore.Refused"/>: the region's cluster is a standby) is set aside instead
/// of stopping the start: the instance serves reads, and the tasks set aside run, in their order, as soon as a lease
/// lets it write, before <see cref="RegionWritability"/> opens the gate for requests and background writers, so that
/// nothing writes before its subscriptions or keys exist. Every other task runs at once, in order, as in a single
/// region: a task that finds everything there already (replicated from the writable region) completes without writing.
/// A later task is not held back by one set aside: the signing keys, read at once, are what the region's own
/// instances need to ask for the lease that will let the others run.
/// </summary>
public sealed partial class DeferredStartupTasks(
    RegionWritability writability,
    IOptions<RegionOptions> options,
    IServiceProvider services,
    IHostApplicationLifetime lifetime,
    ILogger<DeferredStartupTasks> logger) : BackgroundService
{
    private readonly List<IStartupTask> deferred = [];

    /// <summary>Runs <paramref name="task"/> now, or sets it aside when the store refuses its writes as read-only in a region of several.</summary>
    internal async Task RunOrDeferAsync(IStartupTask task, CancellationToken cancellationToken)
    {
        // Once one is set aside, the store is known to be read-only: a later writing task still runs now for its
        // read-only path, and is set aside too if it needs to write.
        if (writability.Region is null || !task.Writes)
        {
            await task.RunAsync(services, cancellationToken);
            return;
        }

        try
        {
            await task.RunAsync(services, cancellationToken);
        }
        catch (Exception e) when (ReadOnlyStore.Refused(e))
        {
            deferred.Add(task);
            writability.HoldForStartup([.. deferred.Select(NameOf)]);
            LogDeferred(logger, NameOf(task), writability.Region);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (deferred.Count == 0)
        {
            return;
        }

        try
        {
            while (deferred.Count > 0)
            {
                await writability.WaitForLeaseAsync(stoppingToken);
                var task = deferred[0];
                try
                {
                    await task.RunAsync(services, stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested && (ReadOnlyStore.Refused(e) || IsTransient(e)))
                {
                    // The lease came before the store finished its promotion, or the store is away for a moment.
                    LogNotYet(logger, NameOf(task), e.GetBaseException().Message, options.Value.RetryInterval);
                    await Task.Delay(options.Value.RetryInterval, stoppingToken);
                    continue;
                }

                deferred.RemoveAt(0);
                writability.HoldForStartup([.. deferred.Select(NameOf)]);
                LogRan(logger, NameOf(task));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e)
        {
            // As a start-up task that fails in a single region stops the start: this instance cannot become writable.
            LogFailed(logger, e, deferred.Count > 0 ? NameOf(deferred[0]) : "?");
            lifetime.StopApplication();
            return;
        }

        writability.ReleaseStartupHold();
        LogAllRan(logger, writability.Region!);
    }

    private static bool IsTransient(Exception e)
    {
        for (var cause = e; cause is not null; cause = cause.InnerException)
        {
            if (cause is NpgsqlException { IsTransient: true } or TimeoutException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>"RegisterSubscriptions", "MigrateDatabase&lt;IdentityDbContext&gt;".</summary>
    private static string NameOf(IStartupTask task)
    {
        var type = task.GetType();
        return type.IsGenericType
            ? $"{type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)]}<{string.Join(",", type.GetGenericArguments().Select(t => t.Name))}>"
            : type.Name;
    }

    [LoggerMessage(EventId = 1981, Level = LogLevel.Warning, Message = "Start-up task {Task} waits: the store of region {Region} is read-only (a standby); it runs when this instance becomes writable, and until then the instance serves reads only")]
    private static partial void LogDeferred(ILogger logger, string task, string region);

    [LoggerMessage(EventId = 1982, Level = LogLevel.Information, Message = "Start-up task {Task} cannot run yet ({Reason}); trying again in {RetryInterval}")]
    private static partial void LogNotYet(ILogger logger, string task, string reason, TimeSpan retryInterval);

    [LoggerMessage(EventId = 1983, Level = LogLevel.Information, Message = "Start-up task {Task} ran now that this instance may write")]
    private static partial void LogRan(ILogger logger, string task);

    [LoggerMessage(EventId = 1984, Level = LogLevel.Information, Message = "Region {Region}: every start-up task has run; writes are taken from now on")]
    private static partial void LogAllRan(ILogger logger, string region);

    [LoggerMessage(EventId = 1985, Level = LogLevel.Critical, Message = "Start-up task {Task} failed once the region became writable; the instance stops, as it would have at start")]
    private static partial void LogFailed(ILogger logger, Exception exception, string task);
}
