using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Stratus.Platform.Auth;

namespace Stratus.Identity.Clients;

/// <summary>A token exchange's answer: the token and how long it lives, or RFC 6749/8693's error code and why.</summary>
public sealed record ExchangeOutcome(string? Token, TimeSpan Lifetime, string? Error, string? Detail)
{
    public static ExchangeOutcome Refused(string error, string detail) => new(null, TimeSpan.Zero, error, detail);
}

/// <summary>
/// OAuth 2.0 token exchange (RFC 8693), for a service acting for the user it serves (ADR 0016): the service
/// presents the user's own access token as the subject token and gets a short token whose user and tenant are the
/// subject token's (never the request's), whose scopes are the ones asked (each delegable to the client, checked by
/// <see cref="TokenEndpoint"/>), which names the client in its <c>act</c> claim, and which outlives neither
/// <see cref="MaxLifetime"/> nor the subject token.
/// </summary>
public sealed partial class TokenExchange(ISigningKeySource keys, TokenIssuer tokens, CredentialRevocations revocations, RevocationPoller poller, TimeProvider clock,
    ILogger<TokenExchange> logger)
{
    public const string GrantType = "urn:ietf:params:oauth:grant-type:token-exchange";
    public const string AccessTokenType = "urn:ietf:params:oauth:token-type:access_token";
    private const string JwtTokenType = "urn:ietf:params:oauth:token-type:jwt";

    /// <summary>A delegated token is for one step of a user's request (a Cloud PC's lookup, a console's relay), not a session.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromMinutes(5);

    public async Task<ExchangeOutcome> IssueAsync(string clientId, IReadOnlyList<string> scopes, IFormCollection form, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(form);
        if (form["subject_token"].ToString() is not { Length: > 0 } subjectToken || form["subject_token_type"] != AccessTokenType)
        {
            return ExchangeOutcome.Refused("invalid_request", $"Send the user's access token as subject_token, with subject_token_type={AccessTokenType}.");
        }

        if (form.ContainsKey("actor_token"))
        {
            return ExchangeOutcome.Refused("invalid_request", "actor_token is not served: the client's own credentials name the actor.");
        }

        if (form["requested_token_type"].ToString() is { Length: > 0 } requested && requested is not (AccessTokenType or JwtTokenType))
        {
            return ExchangeOutcome.Refused("invalid_request", $"Only an access token ({AccessTokenType}) is issued.");
        }

        if (form.ContainsKey("resource") || form.ContainsKey("audience"))
        {
            return ExchangeOutcome.Refused("invalid_target", "Tokens are for the Stratus API as a whole: name no resource or audience; the scopes limit what the token does.");
        }

        var validated = await new JsonWebTokenHandler().ValidateTokenAsync(subjectToken, new TokenValidationParameters
        {
            ValidIssuer = StratusTokens.Issuer,
            ValidAudience = StratusTokens.Audience,
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
            IssuerSigningKeys = keys.Published,
            // No grace: a delegated token must not outlive the token it stands for.
            ClockSkew = TimeSpan.Zero,
        });
        if (!validated.IsValid)
        {
            LogRefused(logger, clientId, "not a valid, unexpired token of this identity service");
            return ExchangeOutcome.Refused("invalid_grant", "The subject token is not a valid, unexpired token of this identity service.");
        }

        var subject = new System.Security.Claims.ClaimsPrincipal(validated.ClaimsIdentity);
        if (subject.IsService())
        {
            // A delegated token is exchanged no further: the chain of actors stays one service long.
            return ExchangeOutcome.Refused("invalid_grant", "The subject token is a service's; only a person's token can be exchanged.");
        }

        if (!Guid.TryParse(subject.FindFirst(StratusClaims.Subject)?.Value, out var userId) || subject.TenantId() is not { } tenantId)
        {
            return ExchangeOutcome.Refused("invalid_grant", "The subject token's account belongs to no tenant: a service acts only for a user of a tenant.");
        }

        // As identity says now, not as it said at the last poll: a token revoked a moment ago is refused.
        await poller.RefreshAsync(cancellationToken);
        if (revocations.IsRevoked(subject))
        {
            LogRefused(logger, clientId, "revoked");
            return ExchangeOutcome.Refused("invalid_grant", "The subject token was revoked (its account or tenant was disabled or changed).");
        }

        var remaining = validated.SecurityToken.ValidTo - clock.GetUtcNow().UtcDateTime;
        var lifetime = TimeSpan.FromSeconds(Math.Floor((remaining < MaxLifetime ? remaining : MaxLifetime).TotalSeconds));
        if (lifetime < TimeSpan.FromSeconds(1))
        {
            return ExchangeOutcome.Refused("invalid_grant", "The subject token expires now.");
        }

        var token = tokens.Issue(new ClientIdentity(clientId, scopes, tenantId, userId), lifetime);
        LogExchanged(logger, clientId, userId, tenantId, string.Join(' ', scopes), lifetime.TotalSeconds);
        return new ExchangeOutcome(token, lifetime, null, null);
    }

    [LoggerMessage(EventId = 2310, Level = LogLevel.Information, Message = "Token exchange: the {Client} client acts for user {UserId} of tenant {TenantId} with {Scopes} for {Seconds} s")]
    private static partial void LogExchanged(ILogger logger, string client, Guid userId, Guid tenantId, string scopes, double seconds);

    [LoggerMessage(EventId = 2311, Level = LogLevel.Warning, Message = "Token exchange refused to the {Client} client: the subject token is {Reason}")]
    private static partial void LogRefused(ILogger logger, string client, string reason);
}
