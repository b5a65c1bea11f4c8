using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;

namespace Stratus.Platform.Auth;

/// <summary>
/// The key that signs and checks bearer tokens. Every instance on one database shares it, so a token
/// issued by one identity instance is accepted by every service instance.
/// </summary>
public sealed class SigningKeys
{
    public const string Issuer = "stratus";
    public const string Audience = "stratus-api";
    internal const string SecretName = "token-signing-key";

    private SymmetricSecurityKey? current;

    public SymmetricSecurityKey Current => current ?? throw new InvalidOperationException("The signing key is loaded at start.");

    internal void Load(string base64) => current = new SymmetricSecurityKey(Convert.FromBase64String(base64)) { KeyId = "1" };
}

internal sealed class LoadSigningKeys(SigningKeys keys, TimeProvider clock) : IStartupTask
{
    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
        var secret = await db.Secrets.AsNoTracking().FirstOrDefaultAsync(s => s.Name == SigningKeys.SecretName, cancellationToken);
        if (secret is null)
        {
            db.Secrets.Add(new PlatformSecret
            {
                Name = SigningKeys.SecretName,
                Value = Convert.ToBase64String(RandomNumberGenerator.GetBytes(64)),
                CreatedAt = clock.GetUtcNow(),
            });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException)
            {
                // Another instance created it first; use theirs.
                db.ChangeTracker.Clear();
            }

            secret = await db.Secrets.AsNoTracking().FirstAsync(s => s.Name == SigningKeys.SecretName, cancellationToken);
        }

        keys.Load(secret.Value);
    }
}
