using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;
using Stratus.Platform.Auth;

namespace Stratus.Platform.Tests.Support;

/// <summary>
/// Plays identity's part for a platform-only host: one ES256 key that signs the tests' tokens, published at
/// the host's own JWKS, which the host's bearer validation reads as it would identity's.
/// </summary>
internal sealed class TestSigningKeys : ISigningKeySource
{
    private readonly ECDsaSecurityKey key = new(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "test" };

    public SigningCredentials Current => new(key, SecurityAlgorithms.EcdsaSha256);

    public IReadOnlyList<JsonWebKey> Published => [JsonWebKeyConverter.ConvertFromECDsaSecurityKey(key)];

    public static void AddTo(IServiceCollection services) => services.AddSingleton<ISigningKeySource, TestSigningKeys>();

    public static void MapOn(WebApplication app) => app.MapTokenKeys();
}
