using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;

namespace Stratus.Platform.Auth;

/// <summary>What every token says about where it comes from and whom it is for.</summary>
public static class StratusTokens
{
    public const string Issuer = "stratus";
    public const string Audience = "stratus-api";
    public const string OpenIdConfigurationPath = "/.well-known/openid-configuration";
    public const string JwksPath = "/.well-known/jwks.json";
    public const string TokenPath = "/connect/token";
}

/// <summary>
/// The private key that signs tokens and the public keys a verifier accepts (ADR 0009). Only the identity
/// service registers one: no other process can sign a token.
/// </summary>
public interface ISigningKeySource
{
    SigningCredentials Current { get; }

    /// <summary>The public halves of the current key and of retired keys whose tokens have not all expired.</summary>
    IReadOnlyList<JsonWebKey> Published { get; }
}

public static class TokenSigningEndpoints
{
    /// <summary>The OpenID discovery document and the JWKS every other process verifies tokens with.</summary>
    public static IEndpointRouteBuilder MapTokenKeys(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet(StratusTokens.OpenIdConfigurationPath, (HttpContext http) =>
        {
            var origin = $"{http.Request.Scheme}://{http.Request.Host}";
            return TypedResults.Json(new Dictionary<string, object>
            {
                ["issuer"] = StratusTokens.Issuer,
                ["jwks_uri"] = origin + StratusTokens.JwksPath,
                ["token_endpoint"] = origin + StratusTokens.TokenPath,
                ["grant_types_supported"] = new[] { "client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange" },
                ["scopes_supported"] = StratusScopes.All,
                ["id_token_signing_alg_values_supported"] = new[] { SecurityAlgorithms.EcdsaSha256 },
                ["token_endpoint_auth_methods_supported"] = new[] { "client_secret_post", "client_secret_basic" },
            });
        }).WithTags("Sign-in").WithName("GetOpenIdConfiguration").AllowAnonymous().ExcludeFromDescription();
        endpoints.MapGet(StratusTokens.JwksPath, (ISigningKeySource keys) =>
            TypedResults.Json(new { keys = keys.Published.Select(PublicJwk.From) }))
            .WithTags("Sign-in").WithName("GetJwks").AllowAnonymous().ExcludeFromDescription();
        return endpoints;
    }
}

/// <summary>A public EC key as RFC 7517 writes it: never the private part, whatever the key object holds.</summary>
internal sealed record PublicJwk(string kty, string kid, string use, string alg, string crv, string x, string y)
{
    public static PublicJwk From(JsonWebKey key) => new(key.Kty, key.Kid, "sig", SecurityAlgorithms.EcdsaSha256, key.Crv, key.X, key.Y);
}
