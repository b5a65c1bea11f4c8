using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Stratus.Identity.Persistence;
using Stratus.Platform.Auth;

namespace Stratus.Identity.Auth;

/// <summary>What every service polls to refuse revoked credentials (ADR 0011).</summary>
public static class RevocationsApi
{
    public static IEndpointRouteBuilder MapRevocationsApi(this IEndpointRouteBuilder endpoints)
    {
        // Any signed-in account and every service client may read it: it names account and tenant ids and times,
        // no people or secrets.
        endpoints.MapGet(RevocationPoller.Path, ListAsync).WithTags("Sign-in").WithName("ListCredentialRevocations")
            .WithSummary("Credentials issued before each notBefore are invalid: the accounts and tenants whose access was taken away; ?since= for the changes after a time")
            .RequireAuthorization().AcceptsScope(StratusScopes.RevocationsRead);
        return endpoints;
    }

    private static async Task<Ok<CredentialRevocationList>> ListAsync(IdentityDbContext db, DateTimeOffset? since, CancellationToken cancellationToken)
    {
        var query = db.Revocations.AsNoTracking();
        if (since is { } after)
        {
            query = query.Where(r => r.RecordedAt >= after);
        }

        var rows = await query.OrderBy(r => r.RecordedAt).ToListAsync(cancellationToken);
        return TypedResults.Ok(new CredentialRevocationList(rows.Select(r => r.ToContract()).ToList()));
    }
}
