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
internal sealed class ConnectTicketPruner(IServiceScopeFactory scopes, TimeProvider clock, ILogger<ConnectTicketPruner> logger)
    : RetentionJob<GatewayDbContext>(scopes, clock, logger)
{
    public static readonly TimeSpan KeepFor = TimeSpan.FromDays(1);

    public override string Name => "gateway.connectTicketPruner";

    protected override TimeSpan Retention => KeepFor;

    protected override Task<int> DeleteOlderThanAsync(GatewayDbContext store, DateTimeOffset cutoff, CancellationToken cancellationToken) =>
        store.ConnectTokens.Where(t => t.ExpiresAt < cutoff).ExecuteDeleteAsync(cancellationToken);
}
