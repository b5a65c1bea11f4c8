using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Identity.Clients;

public sealed record ClientTokenResponse(string access_token, string token_type, int expires_in, string scope);

/// <summary>
/// OAuth 2.0 client credentials (RFC 6749 §4.4), hand-written (ADR 0010): a service presents its id and
/// secret and gets a token with the scopes it asks for, if its catalog entry allows them. Stratus adds two
/// parameters: tenant (the tenant the calls are for) and subject (the user served, for /me endpoints).
/// Refusals are problem documents that also carry RFC 6749's error code.
/// </summary>
public static class TokenEndpoint
{
    public static IEndpointRouteBuilder MapTokenEndpoint(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(StratusTokens.TokenPath, IssueAsync).WithTags("Sign-in").WithName("IssueClientToken")
            .WithSummary("A service's token for its client credentials (grant_type=client_credentials)")
            .DisableAntiforgery().AllowAnonymous();
        return endpoints;
    }

    private static async Task<Results<Ok<ClientTokenResponse>, ProblemHttpResult>> IssueAsync(HttpContext http, ClientSecrets secrets, TokenIssuer tokens)
    {
        if (!http.Request.HasFormContentType)
        {
            return Refuse(StatusCodes.Status400BadRequest, "invalid_request", "Send the parameters as application/x-www-form-urlencoded.");
        }

        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        if (form["grant_type"] != "client_credentials")
        {
            return Refuse(StatusCodes.Status400BadRequest, "unsupported_grant_type", "Only grant_type=client_credentials is served here; people sign in at POST /api/v1/auth/token.");
        }

        var (clientId, secret) = Credentials(http.Request, form);
        if (clientId is null || secret is null || !ServiceClientCatalog.Scopes.TryGetValue(clientId, out var allowed) || !secrets.Verify(clientId, secret))
        {
            return Refuse(StatusCodes.Status401Unauthorized, "invalid_client", "Unknown client or wrong secret.");
        }

        var asked = form["scope"].ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var refused = asked.FirstOrDefault(s => !allowed.Contains(s, StringComparer.Ordinal));
        if (asked.Length == 0 || refused is not null)
        {
            return Refuse(StatusCodes.Status400BadRequest, "invalid_scope",
                asked.Length == 0 ? "Name the scopes the token is for." : $"The {clientId} client may not have the scope '{refused}'.");
        }

        Guid? tenant = null, subject = null;
        if (form.TryGetValue("tenant", out var tenantText))
        {
            if (!Guid.TryParse(tenantText, out var parsed))
            {
                return Refuse(StatusCodes.Status400BadRequest, "invalid_request", "tenant must be a tenant id.");
            }

            tenant = parsed;
        }

        if (form.TryGetValue("subject", out var subjectText))
        {
            if (!Guid.TryParse(subjectText, out var parsed) || tenant is null)
            {
                return Refuse(StatusCodes.Status400BadRequest, "invalid_request", "subject must be a user id, with the user's tenant.");
            }

            subject = parsed;
        }

        var token = tokens.Issue(new ClientIdentity(clientId, asked, tenant, subject));
        return TypedResults.Ok(new ClientTokenResponse(token, "Bearer", (int)TokenIssuer.Lifetime.TotalSeconds, string.Join(' ', asked)));
    }

    /// <summary>client_secret_basic (RFC 6749 §2.3.1) or client_secret_post.</summary>
    private static (string? ClientId, string? Secret) Credentials(HttpRequest request, IFormCollection form)
    {
        if (AuthenticationHeaderValue.TryParse(request.Headers.Authorization, out var header) && header.Scheme == "Basic" && header.Parameter is not null)
        {
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter)).Split(':', 2);
                return pair.Length == 2 ? (Uri.UnescapeDataString(pair[0]), Uri.UnescapeDataString(pair[1])) : (null, null);
            }
            catch (FormatException)
            {
                return (null, null);
            }
        }

        return (form["client_id"].FirstOrDefault(), form["client_secret"].FirstOrDefault());
    }

    private static ProblemHttpResult Refuse(int status, string error, string detail) => TypedResults.Problem(statusCode: status, title: error switch
    {
        "invalid_client" => "Client not authenticated",
        "invalid_scope" => "Scope not allowed",
        _ => "Token request refused",
    }, type: Problems.TypePrefix + error.Replace('_', '-'), detail: detail, extensions: new Dictionary<string, object?> { ["error"] = error });
}
