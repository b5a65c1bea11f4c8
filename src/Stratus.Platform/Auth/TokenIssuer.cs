using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Stratus.Platform.Auth;

/// <summary>Who an account is, as the identity service vouches for it in a token or a cookie.</summary>
public sealed record AccountIdentity(Guid AccountId, string UserName, Guid? TenantId, IReadOnlyList<string> Roles)
{
    public IEnumerable<Claim> ToClaims()
    {
        yield return new Claim(StratusClaims.Subject, AccountId.ToString());
        yield return new Claim(StratusClaims.Name, UserName);
        if (TenantId is { } tenant)
        {
            yield return new Claim(StratusClaims.Tenant, tenant.ToString());
        }

        foreach (var role in Roles)
        {
            yield return new Claim(StratusClaims.Role, role);
        }
    }

    public ClaimsPrincipal ToPrincipal(string authenticationType) =>
        new(new ClaimsIdentity(ToClaims(), authenticationType, StratusClaims.Name, StratusClaims.Role));
}

/// <summary>
/// A service calling another with its own credentials: no roles, only the scopes identity granted it, and the
/// tenant (and user) the call is for. The subject is the user served, else none (the empty id). A token for a
/// user comes only from token exchange (RFC 8693, ADR 0016): the user and tenant are the user's own token's, and
/// the service is named as the actor (<see cref="StratusClaims.Actor"/>).
/// </summary>
public sealed record ClientIdentity(string ClientId, IReadOnlyList<string> Scopes, Guid? TenantId, Guid? OnBehalfOf)
{
    /// <summary>The <c>act</c> claim's value (RFC 8693 §4.1) when the token acts for a user: who acts.</summary>
    public IReadOnlyDictionary<string, object>? Actor => OnBehalfOf is null ? null
        : new Dictionary<string, object> { [StratusClaims.Subject] = $"service:{ClientId}", [StratusClaims.ClientId] = ClientId };

    public IEnumerable<Claim> ToClaims()
    {
        yield return new Claim(StratusClaims.Subject, (OnBehalfOf ?? Guid.Empty).ToString());
        yield return new Claim(StratusClaims.Name, $"service:{ClientId}");
        yield return new Claim(StratusClaims.ClientId, ClientId);
        yield return new Claim(StratusClaims.Scope, string.Join(' ', Scopes));
        if (TenantId is { } tenant)
        {
            yield return new Claim(StratusClaims.Tenant, tenant.ToString());
        }
    }
}

/// <summary>Signs tokens with identity's current key; resolvable only where an <see cref="ISigningKeySource"/> is (identity).</summary>
public sealed class TokenIssuer(ISigningKeySource keys, TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    public string Issue(AccountIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        return Issue(identity.ToClaims());
    }

    /// <param name="lifetime">Shorter than <see cref="Lifetime"/> for a delegated token, which outlives neither its subject's token nor its use.</param>
    public string Issue(ClientIdentity client, TimeSpan? lifetime = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        var actor = client.Actor is { } act ? new Dictionary<string, object> { [StratusClaims.Actor] = act } : null;
        return Issue(client.ToClaims(), lifetime, actor);
    }

    private string Issue(IEnumerable<Claim> claims, TimeSpan? lifetime = null, IDictionary<string, object>? objectClaims = null)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = StratusTokens.Issuer,
            Audience = StratusTokens.Audience,
            Subject = new ClaimsIdentity(claims),
            IssuedAt = now,
            NotBefore = now,
            Expires = now + (lifetime is { } shorter && shorter < Lifetime ? shorter : Lifetime),
            Claims = objectClaims,
            SigningCredentials = keys.Current,
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }
}
