using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Stratus.Platform.Jobs;
using Stratus.Platform.Messaging;

namespace Stratus.Platform.Idempotency;

/// <summary>
/// Forgets idempotency keys a day after their request: a client retries within minutes, and a key kept forever
/// would keep its response forever. Hourly, in the instance that leads the job.
/// </summary>
internal sealed partial class IdempotencyRecordPruner(IServiceScopeFactory scopes, TimeProvider clock, ILogger<IdempotencyRecordPruner> logger) : IPeriodicJob
{
    public static readonly TimeSpan KeepFor = TimeSpan.FromHours(24);

    public string Name => "platform.idempotencyRecordPruner";

    public TimeSpan Interval => TimeSpan.FromHours(1);

    public Task RunAsync(CancellationToken cancellationToken) => PruneAsync(cancellationToken);

    internal async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var store = new IdempotencyStore(scope.ServiceProvider.GetRequiredService<PlatformDbContext>(), clock);
        var pruned = await store.PruneAsync(clock.GetUtcNow() - KeepFor, cancellationToken);
        LogPruned(logger, pruned);
        return pruned;
    }

    [LoggerMessage(EventId = 1412, Level = LogLevel.Debug, Message = "Pruned {Count} idempotency keys older than a day")]
    private static partial void LogPruned(ILogger logger, int count);
}
