using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using Stratus.Platform.Http;

namespace Stratus.Platform.Auth;

/// <summary>
/// Bearer tokens are checked with identity's public keys (ADR 0009), read from its discovery document and
/// JWKS through the service calls' addresses and failover, cached, and read again when a token names a key
/// not seen yet (a rotation): no process but identity holds a key that signs.
/// </summary>
internal sealed class JwksValidation(ServiceCalls calls) : IConfigureNamedOptions<JwtBearerOptions>
{
    /// <summary>How soon after a rotation a key unseen so far is looked up again at the latest.</summary>
    public static readonly TimeSpan UnknownKeyRefresh = TimeSpan.FromSeconds(10);

    public void Configure(string? name, JwtBearerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.MapInboundClaims = false;
        options.RefreshOnIssuerKeyNotFound = true;
        // The host part is a placeholder: IdentityDocuments sends the path to identity's configured instances.
        options.ConfigurationManager = new ConfigurationManager<OpenIdConnectConfiguration>(
            "http://identity" + StratusTokens.OpenIdConfigurationPath, new OpenIdConnectConfigurationRetriever(), new IdentityDocuments(calls))
        {
            AutomaticRefreshInterval = TimeSpan.FromMinutes(10),
            RefreshInterval = UnknownKeyRefresh,
        };
        options.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = StratusTokens.Issuer,
            ValidAudience = StratusTokens.Audience,
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
            NameClaimType = StratusClaims.Name,
            RoleClaimType = StratusClaims.Role,
            ClockSkew = TimeSpan.FromSeconds(30),
        };
    }

    public void Configure(JwtBearerOptions options) => Configure(Options.DefaultName, options);

    private sealed class IdentityDocuments(ServiceCalls calls) : IDocumentRetriever
    {
        public async Task<string> GetDocumentAsync(string address, CancellationToken cancel)
        {
            using var identity = calls.Anonymous("identity");
            return await identity.GetStringAsync(new Uri(address).PathAndQuery, cancel);
        }
    }
}
