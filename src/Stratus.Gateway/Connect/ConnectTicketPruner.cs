using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Stratus.Gateway.Persistence;
using Stratus.Platform.Jobs;

namespace Stratus.Gateway.Connect;

/// <summary>
/// Forgets console tickets a day after they expired (README.md), used or not: a ticket lives at most a minute, so
/// after a day nobody retries one, and the answer to a stale ticket merely changes from "used" or "expired"
/// to "unknown". The sessions they opened are kept (they are the record of who connected).
/// </summary>
internal sealed partial class ConnectTicketPruner(IServiceScopeFactory scopes, TimeProvider clock, ILogger<ConnectTicketPruner> logger) : IPeriodicJob
{
    public static readonly TimeSpan KeepFor = TimeSpan.FromDays(1);

    public string Name => "gateway.connectTicketPruner";

    public TimeSpan Interval => TimeSpan.FromHours(1);

    public Task RunAsync(CancellationToken cancellationToken) => PruneAsync(cancellationToken);

    /// <returns>How many tickets were forgotten.</returns>
    internal async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatewayDbContext>();
        var cutoff = clock.GetUtcNow() - KeepFor;
        var pruned = await db.ConnectTokens.Where(t => t.ExpiresAt < cutoff).ExecuteDeleteAsync(cancellationToken);
        LogPruned(logger, pruned);
        return pruned;
    }

    [LoggerMessage(EventId = 8102, Level = LogLevel.Debug, Message = "Pruned {Count} console tickets expired over a day ago")]
    private static partial void LogPruned(ILogger logger, int count);
}
