using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Stratus.Platform.Jobs;

/// <summary>
/// A periodic job that deletes a store's rows once they are older than a retention: the shape of every pruner whose
/// rule is one age (idempotency keys, console tickets, sign-in attempts). Hourly, in the instance that leads it.
/// </summary>
public abstract class RetentionJob<TContext>(IServiceScopeFactory scopes, TimeProvider clock, ILogger logger) : IPeriodicJob
    where TContext : DbContext
{
    public abstract string Name { get; }

    public TimeSpan Interval => TimeSpan.FromHours(1);

    protected TimeProvider Clock => clock;

    /// <summary>How long a row is kept (stated in the owning service's README).</summary>
    protected abstract TimeSpan Retention { get; }

    public Task RunAsync(CancellationToken cancellationToken) => PruneAsync(cancellationToken);

    /// <returns>How many rows were deleted.</returns>
    public async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var pruned = await DeleteOlderThanAsync(scope.ServiceProvider.GetRequiredService<TContext>(), clock.GetUtcNow() - Retention, cancellationToken);
        RetentionLog.Pruned(logger, Name, pruned, Retention);
        return pruned;
    }

    /// <summary>Deletes the rows older than <paramref name="cutoff"/>, in one statement or in batches.</summary>
    protected abstract Task<int> DeleteOlderThanAsync(TContext store, DateTimeOffset cutoff, CancellationToken cancellationToken);
}

internal static partial class RetentionLog
{
    [LoggerMessage(EventId = 1413, Level = LogLevel.Debug, Message = "{Job} deleted {Count} rows kept longer than {Retention}")]
    public static partial void Pruned(ILogger logger, string job, int count, TimeSpan retention);
}
