using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Stratus.Platform.Jobs;
using Stratus.Platform.Messaging;

namespace Stratus.Platform.Idempotency;

/// <summary>
/// Forgets idempotency keys a day after their request: a client retries within minutes, and a key kept forever
/// would keep its response forever.
/// </summary>
internal sealed class IdempotencyRecordPruner(IServiceScopeFactory scopes, TimeProvider clock, ILogger<IdempotencyRecordPruner> logger)
    : RetentionJob<PlatformDbContext>(scopes, clock, logger)
{
    public static readonly TimeSpan KeepFor = TimeSpan.FromHours(24);

    public override string Name => "platform.idempotencyRecordPruner";

    protected override TimeSpan Retention => KeepFor;

    protected override Task<int> DeleteOlderThanAsync(PlatformDbContext store, DateTimeOffset cutoff, CancellationToken cancellationToken) =>
        new IdempotencyStore(store, Clock, regionEpoch: null).PruneAsync(cutoff, cancellationToken);
}
