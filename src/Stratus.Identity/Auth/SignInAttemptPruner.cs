using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Stratus.Identity.Persistence;
using Stratus.Platform.Jobs;

namespace Stratus.Identity.Auth;

/// <summary>
/// Forgets sign-in attempts after <see cref="KeepFor"/> (README.md): the rate limit reads only the last
/// <see cref="SignInService.Window"/>, and a month answers "who tried to sign in as whom" for an incident, while
/// the audit log keeps sign-ins longer. Without it every attempt, guesses included, stays forever.
/// </summary>
internal sealed partial class SignInAttemptPruner(IServiceScopeFactory scopes, TimeProvider clock, ILogger<SignInAttemptPruner> logger) : IPeriodicJob
{
    public static readonly TimeSpan KeepFor = TimeSpan.FromDays(30);

    public string Name => "identity.signInAttemptPruner";

    public TimeSpan Interval => TimeSpan.FromHours(1);

    public Task RunAsync(CancellationToken cancellationToken) => PruneAsync(cancellationToken);

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

    [LoggerMessage(EventId = 2402, Level = LogLevel.Debug, Message = "Pruned {Count} sign-in attempts older than 30 days")]
    private static partial void LogPruned(ILogger logger, int count);
}
