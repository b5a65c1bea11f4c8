using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Stratus.Identity.Accounts;
using Stratus.Identity.Persistence;
using Stratus.Identity.Tenants;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Identity.Auth;

/// <summary>
/// A new token for a person whose token is still valid, with the account's roles as they are now: how the
/// portal keeps its user's token fresh for as long as the session lasts, without a password and without
/// minting one itself (ADR 0009). A disabled account or a suspended tenant gets none; a service never does.
/// </summary>
public static class TokenRenewal
{
    public static IEndpointRouteBuilder MapTokenRenewal(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/api/v1/auth/renew", RenewAsync).WithTags("Sign-in").WithName("RenewToken")
            .WithSummary("Exchange a valid bearer token for a new one with the account's current roles").RequireAuthorization();
        return endpoints;
    }

    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> RenewAsync(HttpContext http, IdentityDbContext db, TokenIssuer tokens, CancellationToken cancellationToken)
    {
        var id = http.User.AccountId();
        var account = await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (account is null || !account.Enabled)
        {
            return Problems.Unauthorized("The account is disabled or gone: sign in again.");
        }

        if (account.TenantId is { } tenantId && await db.Tenants.AnyAsync(t => t.Id == tenantId && t.State == TenantState.Suspended, cancellationToken))
        {
            return Problems.Unauthorized("Your organization's access to Stratus is suspended.");
        }

        var token = tokens.Issue(new AccountIdentity(account.Id, account.UserName, account.TenantId, account.Roles));
        return TypedResults.Ok(new TokenResponse(token, "Bearer", (int)TokenIssuer.Lifetime.TotalSeconds));
    }
}
