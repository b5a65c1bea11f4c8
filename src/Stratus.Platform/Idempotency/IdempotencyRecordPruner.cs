using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.Platform.Messaging;

namespace Stratus.Platform.Idempotency;

/// <summary>
/// Forgets idempotency keys a day after their request: a client retries within minutes, and a key kept forever
/// would keep its response forever. Every instance prunes; a delete that finds nothing costs one statement an hour.
/// </summary>
internal sealed partial class IdempotencyRecordPruner(IServiceScopeFactory scopes, TimeProvider clock, ILogger<IdempotencyRecordPruner> logger) : BackgroundService
{
    public static readonly TimeSpan KeepFor = TimeSpan.FromHours(24);

    private static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await PruneAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Never stops the host: the next hour tries again.
                LogPruneFailed(logger, e);
            }

            await Task.Delay(Interval, clock, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    internal async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var store = new IdempotencyStore(scope.ServiceProvider.GetRequiredService<PlatformDbContext>(), clock);
        var pruned = await store.PruneAsync(clock.GetUtcNow() - KeepFor, cancellationToken);
        LogPruned(logger, pruned);
        return pruned;
    }

    [LoggerMessage(EventId = 1411, Level = LogLevel.Warning, Message = "Pruning old idempotency keys failed; retrying in an hour")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1412, Level = LogLevel.Debug, Message = "Pruned {Count} idempotency keys older than a day")]
    private static partial void LogPruned(ILogger logger, int count);
}
