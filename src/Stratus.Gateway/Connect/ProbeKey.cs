using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Platform.Auth;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;

namespace Stratus.Gateway.Connect;

/// <summary>
/// The key of the round-trip probes' MACs, shared by every gateway instance on one database (a probe may be
/// echoed to another instance). Only MACs: tokens are identity's, signed with its own keys.
/// </summary>
public sealed class ProbeKey
{
    internal const string SecretName = "gateway-probe-key";

    private byte[]? key;

    public byte[] Value => key ?? throw new InvalidOperationException("The probe key is loaded at start.");

    internal sealed class Load(ProbeKey probeKey, TimeProvider clock) : IStartupTask
    {
        public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
        {
            await using var scope = services.CreateAsyncScope();
            var value = await PlatformSecrets.GetOrCreateAsync(scope.ServiceProvider.GetRequiredService<PlatformDbContext>(), SecretName,
                () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(64)), clock, cancellationToken);
            probeKey.key = Convert.FromBase64String(value);
        }
    }
}
