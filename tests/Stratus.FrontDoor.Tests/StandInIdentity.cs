using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Stratus.Platform.Auth;

namespace Stratus.FrontDoor.Tests;

/// <summary>
/// A test stand-in for identity (named so: a fake): a real Kestrel server on 127.0.0.1 that publishes a JWKS and an
/// empty revocation list, with the key that <see cref="Token"/> signs with. The front door checks tokens exactly as
/// against identity; the stand-in exists because identity's service clients get the regions.lease scope in another
/// change (issue 19), and a test needs a service token with and without it.
/// </summary>
public sealed class StandInIdentity : IAsyncDisposable
{
    private readonly ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly WebApplication app;

    private StandInIdentity(WebApplication app) => this.app = app;

    public Uri Url => new(app.Urls.First());

    public static async Task<StandInIdentity> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var identity = new StandInIdentity(app);
        app.MapGet(StratusTokens.JwksPath, () => Results.Text(identity.Jwks(), "application/json"));
        app.MapGet("/api/v1/auth/revocations", () => Results.Text("{\"value\":[]}", "application/json"));
        await app.StartAsync();
        return identity;
    }

    public string OperatorToken() => Token(new Dictionary<string, object>
    {
        [StratusClaims.Subject] = Guid.NewGuid().ToString(),
        [StratusClaims.Name] = "operator",
        [StratusClaims.Role] = StratusRoles.PlatformOperator,
    });

    public string ServiceToken(string clientId, params string[] scopes) => Token(new Dictionary<string, object>
    {
        [StratusClaims.Subject] = Guid.Empty.ToString(),
        [StratusClaims.Name] = $"service:{clientId}",
        [StratusClaims.ClientId] = clientId,
        [StratusClaims.Scope] = string.Join(' ', scopes),
    });

    private string Token(Dictionary<string, object> claims) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = StratusTokens.Issuer,
        Audience = StratusTokens.Audience,
        Claims = claims,
        IssuedAt = TimeProvider.System.GetUtcNow().UtcDateTime.AddSeconds(-5),
        NotBefore = TimeProvider.System.GetUtcNow().UtcDateTime.AddSeconds(-5),
        Expires = TimeProvider.System.GetUtcNow().UtcDateTime.AddHours(1),
        SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(key) { KeyId = "stand-in" }, SecurityAlgorithms.EcdsaSha256),
    });

    private string Jwks()
    {
        var jwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(key) { KeyId = "stand-in" });
        return JsonSerializer.Serialize(new { keys = new[] { new { kty = jwk.Kty, crv = jwk.Crv, x = jwk.X, y = jwk.Y, kid = jwk.Kid, alg = "ES256", use = "sig" } } });
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        key.Dispose();
    }
}
