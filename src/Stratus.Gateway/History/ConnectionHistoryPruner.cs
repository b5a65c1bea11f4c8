using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Stratus.Gateway.Persistence;
using Stratus.Platform.Jobs;

namespace Stratus.Gateway.History;

/// <summary>
/// Keeps the connection history to its 28 days (README.md): sessions that ended before then, with their round-trip
/// samples, and refused attempts. An open session is kept however old it is: it is still happening.
/// </summary>
internal sealed class ConnectionHistoryPruner(IServiceScopeFactory scopes, TimeProvider clock, ILogger<ConnectionHistoryPruner> logger)
    : RetentionJob<GatewayDbContext>(scopes, clock, logger)
{
    public static readonly TimeSpan KeepFor = TimeSpan.FromDays(28);

    public override string Name => "gateway.connectionHistoryPruner";

    protected override TimeSpan Retention => KeepFor;

    protected override async Task<int> DeleteOlderThanAsync(GatewayDbContext store, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        // Samples first, so that none is left pointing at a deleted session if the next statement fails.
        var samples = await store.RoundTripSamples
            .Where(s => store.Sessions.Any(x => x.Id == s.SessionId && x.EndedAt != null && x.EndedAt < cutoff)).ExecuteDeleteAsync(cancellationToken);
        var sessions = await store.Sessions.Where(s => s.EndedAt != null && s.EndedAt < cutoff).ExecuteDeleteAsync(cancellationToken);
        var refusals = await store.ConnectionRefusals.Where(r => r.At < cutoff).ExecuteDeleteAsync(cancellationToken);
        return samples + sessions + refusals;
    }
}
