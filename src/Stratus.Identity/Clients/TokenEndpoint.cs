using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Identity.Clients;

/// <param name="issued_token_type">RFC 8693 §2.2.1: set for a token exchange's answer.</param>
public sealed record ClientTokenResponse(string access_token, string token_type, int expires_in, string scope,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? issued_token_type);

/// <summary>
/// Identity's token endpoint for services, hand-written (ADR 0010, 0016). Two grants: client credentials (RFC 6749
/// §4.4), where a service presents its id and secret and gets the scopes its catalog entry allows, with a tenant
/// (the Stratus parameter <c>tenant</c>) only if its entry may name one; and token exchange (RFC 8693,
/// <see cref="TokenExchange"/>), where a service presents a user's token and gets a short one for that user.
/// Refusals are problem documents that also carry RFC 6749's error code.
/// </summary>
public static class TokenEndpoint
{
    public static IEndpointRouteBuilder MapTokenEndpoint(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(StratusTokens.TokenPath, IssueAsync).WithTags("Sign-in").WithName("IssueClientToken")
            .WithSummary($"A service's token: grant_type=client_credentials, or {TokenExchange.GrantType} for the user whose token it presents")
            .DisableAntiforgery().AllowAnonymous();
        return endpoints;
    }

    private static async Task<Results<Ok<ClientTokenResponse>, ProblemHttpResult>> IssueAsync(
        HttpContext http, ClientSecrets secrets, TokenIssuer tokens, TokenExchange exchange)
    {
        if (!http.Request.HasFormContentType)
        {
            return Refuse(StatusCodes.Status400BadRequest, "invalid_request", "Send the parameters as application/x-www-form-urlencoded.");
        }

        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var grant = form["grant_type"].ToString();
        if (grant is not ("client_credentials" or TokenExchange.GrantType))
        {
            return Refuse(StatusCodes.Status400BadRequest, "unsupported_grant_type",
                $"Only grant_type=client_credentials and {TokenExchange.GrantType} are served here; people sign in at POST /api/v1/auth/token.");
        }

        var (clientId, secret) = Credentials(http.Request, form);
        if (clientId is null || secret is null || !ServiceClientCatalog.Clients.TryGetValue(clientId, out var client) || !secrets.Verify(clientId, secret))
        {
            return Refuse(StatusCodes.Status401Unauthorized, "invalid_client", "Unknown client or wrong secret.");
        }

        var asked = form["scope"].ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var allowed = grant == TokenExchange.GrantType ? client.Delegable : client.Scopes;
        var refused = asked.FirstOrDefault(s => !allowed.Contains(s, StringComparer.Ordinal));
        if (asked.Length == 0 || refused is not null)
        {
            return Refuse(StatusCodes.Status400BadRequest, "invalid_scope", asked.Length == 0 ? "Name the scopes the token is for."
                : grant == TokenExchange.GrantType ? $"The {clientId} client may not act for a user with the scope '{refused}'."
                : $"The {clientId} client may not have the scope '{refused}'{(client.Delegable.Contains(refused!) ? " as itself: only for a user, by token exchange" : "")}.");
        }

        if (grant == TokenExchange.GrantType)
        {
            var outcome = await exchange.IssueAsync(clientId, asked, form, http.RequestAborted);
            return outcome.Token is { } delegated
                ? TypedResults.Ok(new ClientTokenResponse(delegated, "Bearer", (int)outcome.Lifetime.TotalSeconds, string.Join(' ', asked), TokenExchange.AccessTokenType))
                : Refuse(StatusCodes.Status400BadRequest, outcome.Error!, outcome.Detail!);
        }

        if (form.ContainsKey("subject"))
        {
            return Refuse(StatusCodes.Status400BadRequest, "invalid_request",
                $"A client's own token names no user: to act for one, exchange the user's token ({TokenExchange.GrantType}).");
        }

        Guid? tenant = null;
        if (form.TryGetValue("tenant", out var tenantText))
        {
            if (!client.NamesTenant)
            {
                return Refuse(StatusCodes.Status400BadRequest, "unauthorized_client",
                    $"The {clientId} client may not name a tenant: it acts in a tenant only for a user of it, by exchanging the user's token ({TokenExchange.GrantType}).");
            }

            if (!Guid.TryParse(tenantText, out var parsed))
            {
                return Refuse(StatusCodes.Status400BadRequest, "invalid_request", "tenant must be a tenant id.");
            }

            tenant = parsed;
        }

        var issued = tokens.Issue(new ClientIdentity(clientId, asked, tenant, null));
        return TypedResults.Ok(new ClientTokenResponse(issued, "Bearer", (int)TokenIssuer.Lifetime.TotalSeconds, string.Join(' ', asked), null));
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
        "invalid_grant" => "Subject token not accepted",
        "unauthorized_client" => "Grant not allowed to this client",
        _ => "Token request refused",
    }, type: Problems.TypePrefix + error.Replace('_', '-'), detail: detail, extensions: new Dictionary<string, object?> { ["error"] = error });
}
