using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Stratus.Identity.Persistence;
using Stratus.Platform.Jobs;

namespace Stratus.Identity.Auth;

/// <summary>
/// Forgets sign-in attempts after <see cref="KeepFor"/> (README.md): the rate limit reads only the last
/// <see cref="SignInThrottle.Window"/>, and a month answers "who tried to sign in as whom" for an incident, while
/// the audit log keeps sign-ins longer. Without it every attempt, guesses included, stays forever.
/// </summary>
internal sealed class SignInAttemptPruner(IServiceScopeFactory scopes, TimeProvider clock, ILogger<SignInAttemptPruner> logger)
    : RetentionJob<IdentityDbContext>(scopes, clock, logger)
{
    public static readonly TimeSpan KeepFor = TimeSpan.FromDays(30);

    public override string Name => "identity.signInAttemptPruner";

    protected override TimeSpan Retention => KeepFor;

    protected override Task<int> DeleteOlderThanAsync(IdentityDbContext store, DateTimeOffset cutoff, CancellationToken cancellationToken) =>
        store.SignInAttempts.Where(a => a.At < cutoff).ExecuteDeleteAsync(cancellationToken);
}
