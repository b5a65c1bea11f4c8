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

public sealed class TokenIssuer(SigningKeys keys, TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    public string Issue(AccountIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var now = clock.GetUtcNow().UtcDateTime;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = SigningKeys.Issuer,
            Audience = SigningKeys.Audience,
            Subject = new ClaimsIdentity(identity.ToClaims()),
            IssuedAt = now,
            NotBefore = now,
            Expires = now + Lifetime,
            SigningCredentials = new SigningCredentials(keys.Current, SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }
}
