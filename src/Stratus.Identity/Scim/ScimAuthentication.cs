using System.Buffers.Text;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Identity.Persistence;
using Stratus.Identity.Tenants;
using Stratus.Platform.Auth;

namespace Stratus.Identity.Scim;

public static class ScimAuthentication
{
    /// <summary>The scheme of the /scim/v2 endpoints, and only of them: not the platform's default.</summary>
    public const string Scheme = "scim";

    /// <summary>Where the handler leaves why it refused a token, for the 401 to say.</summary>
    internal const string FailureItem = "stratus.scim.refusal";

    public const string ActorName = "scim";
}

/// <summary>The tenant's SCIM bearer tokens: random, shown once, stored only as their SHA-256.</summary>
public static class ScimTokens
{
    /// <summary>A recognizable prefix, so that secret scanners and people can tell what leaked.</summary>
    public const string Prefix = "stratus_scim_";

    public static string NewToken() => Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
    }
}

/// <summary>
/// Authenticates a SCIM client by the tenant's token. The token is looked up by its hash, so that nothing
/// compares secrets (and no timing tells how much of a guessed token was right), and the principal gets the
/// tenant in <c>tid</c>: every SCIM query is scoped by it.
/// </summary>
public sealed partial class ScimAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, IdentityDbContext db)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private const int MaxTokenLength = 256;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Refuse(header.Length == 0 ? "No SCIM token was sent." : "The Authorization header is not a bearer token.");
        }

        var token = header["Bearer ".Length..].Trim();
        if (token.Length is 0 or > MaxTokenLength || !token.StartsWith(ScimTokens.Prefix, StringComparison.Ordinal))
        {
            // A sign-in token (a JWT) is for /api/v1; it never opens SCIM.
            return Refuse(token.Count(c => c == '.') == 2
                ? "A sign-in token (JWT) is not accepted here."
                : "The SCIM token is not valid.");
        }

        var hash = ScimTokens.Hash(token);
        var tenant = await db.Tenants.AsNoTracking().Where(t => t.ScimTokenHash == hash)
            .Select(t => new { t.Id, t.Domain, t.State }).FirstOrDefaultAsync(Context.RequestAborted);
        if (tenant is null)
        {
            return Refuse("The SCIM token is not valid: it was revoked, replaced by a newer one, or never issued.");
        }

        if (tenant.State == TenantState.Suspended)
        {
            return Refuse($"The tenant {tenant.Domain} is suspended: its SCIM token is refused until the platform operator activates it.", tenant.Domain);
        }

        var identity = new ClaimsIdentity(
            [new Claim(StratusClaims.Tenant, tenant.Id.ToString()), new Claim(StratusClaims.Name, ScimAuthentication.ActorName)],
            ScimAuthentication.Scheme, StratusClaims.Name, StratusClaims.Role);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), ScimAuthentication.Scheme));
    }

    private AuthenticateResult Refuse(string reason, string? tenant = null)
    {
        Context.Items[ScimAuthentication.FailureItem] = reason;
        LogRefused(Logger, tenant ?? "-", Context.Connection.RemoteIpAddress?.ToString() ?? "-", reason);
        return AuthenticateResult.Fail(reason);
    }

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "Refused a SCIM request (tenant {Tenant}) from {RemoteAddress}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string tenant, string remoteAddress, string reason);
}
