using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Stratus.Identity.Persistence;
using Stratus.Platform.Auth;
using Stratus.Platform.Jobs;

namespace Stratus.Identity.Auth;

/// <summary>
/// Forgets a revocation once it can no longer matter (ADR 0011): every credential it ends was issued before its
/// <c>notBefore</c> and lives at most <see cref="CredentialRevocations.LongestCredential"/> (a portal sign-in's
/// absolute limit), so after that, plus a poll interval for processes still reading it, nothing it would refuse is
/// valid anyway. A process that already learned it keeps it in memory; one that starts later never needs it.
/// </summary>
internal sealed class RevocationPruner(IServiceScopeFactory scopes, TimeProvider clock, IConfiguration configuration, ILogger<RevocationPruner> logger)
    : RetentionJob<IdentityDbContext>(scopes, clock, logger)
{
    public override string Name => "identity.revocationPruner";

    /// <summary>The age of a revocation's <c>notBefore</c> past which its row goes.</summary>
    public static TimeSpan KeepFor(TimeSpan pollInterval) => CredentialRevocations.LongestCredential + pollInterval;

    protected override TimeSpan Retention =>
        KeepFor(configuration.GetValue("Stratus:Auth:RevocationPollInterval", RevocationPoller.DefaultInterval));

    protected override Task<int> DeleteOlderThanAsync(IdentityDbContext store, DateTimeOffset cutoff, CancellationToken cancellationToken) =>
        store.Revocations.Where(r => r.NotBefore < cutoff).ExecuteDeleteAsync(cancellationToken);
}
