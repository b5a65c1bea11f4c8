using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.Identity.Persistence;

namespace Stratus.Identity.Auth;

/// <summary>
/// Forgets sign-in attempts after <see cref="KeepFor"/> (README.md): the rate limit reads only the last
/// <see cref="SignInService.Window"/>, and a month answers "who tried to sign in as whom" for an incident, while
/// the audit log keeps sign-ins longer. Without it every attempt, guesses included, stays forever.
/// </summary>
internal sealed partial class SignInAttemptPruner(IServiceScopeFactory scopes, TimeProvider clock, ILogger<SignInAttemptPruner> logger) : BackgroundService
{
    public static readonly TimeSpan KeepFor = TimeSpan.FromDays(30);

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

    /// <returns>How many attempts were forgotten.</returns>
    internal async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
        var cutoff = clock.GetUtcNow() - KeepFor;
        var pruned = await db.SignInAttempts.Where(a => a.At < cutoff).ExecuteDeleteAsync(cancellationToken);
        LogPruned(logger, pruned);
        return pruned;
    }

    [LoggerMessage(EventId = 2401, Level = LogLevel.Warning, Message = "Pruning old sign-in attempts failed; retrying in an hour")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2402, Level = LogLevel.Debug, Message = "Pruned {Count} sign-in attempts older than 30 days")]
    private static partial void LogPruned(ILogger logger, int count);
}
