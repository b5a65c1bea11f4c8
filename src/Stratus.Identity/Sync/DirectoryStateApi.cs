using System.Data;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Stratus.Identity.Persistence;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Identity.Sync;

public sealed record UserState(Guid UserId, string UserPrincipalName, bool AccountEnabled, IReadOnlyList<Guid> GroupIds, IReadOnlyList<Guid> SkuIds);

/// <summary>A page of the directory as it is, with the sequence number it reflects.</summary>
public sealed record DirectoryStatePage(long Sequence, IReadOnlyList<UserState> Value, int TotalCount);

/// <summary>
/// The full current state, for consumers that reconcile: whatever events they missed, a pass over these
/// pages and then the events after <c>sequence</c> brings them to the truth.
/// </summary>
public static class DirectoryStateApi
{
    public static IEndpointRouteBuilder MapDirectoryStateApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/v1/directoryState", GetAsync).WithTags("Directory state").WithName("GetDirectoryState")
            .WithSummary("Users with their group memberships and licenses, paged, and the sequence number they reflect")
            .RequireAuthorization(StratusPolicies.CloudPcReader).AcceptsScope(StratusScopes.DirectoryRead);
        return endpoints;
    }

    private static async Task<Results<Ok<DirectoryStatePage>, ValidationProblem>> GetAsync(
        HttpContext http, IdentityDbContext db, [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skip")] int? skip, CancellationToken cancellationToken)
    {
        if (Paging.Validate(top, skip) is { } invalid)
        {
            return invalid;
        }

        var tenant = http.User.RequiredTenantId();

        // One snapshot for the sequence and the page, so that the page is exactly the state at that number. Inside the
        // store's execution strategy: a read may be retried on another connection (while PostgreSQL fails over).
        var (sequence, total, page, memberships, licenses) = await db.Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(
                db.Database.IsNpgsql() ? IsolationLevel.RepeatableRead : IsolationLevel.Serializable, ct);
            var sequence = await db.Tenants.Where(t => t.Id == tenant).Select(t => t.LastSequence).FirstOrDefaultAsync(ct);
            var users = db.Accounts.AsNoTracking().Where(a => a.TenantId == tenant);
            var total = await users.CountAsync(ct);
            var page = await users.OrderBy(a => a.Id).Skip(skip ?? 0).Take(top ?? Paging.DefaultTop)
                .Select(a => new AccountRow(a.Id, a.UserName, a.Enabled)).ToListAsync(ct);
            var ids = page.Select(p => p.Id).ToList();
            var memberships = await db.GroupMembers.AsNoTracking().Where(m => ids.Contains(m.UserId)).ToListAsync(ct);
            var licenses = await db.LicenseAssignments.AsNoTracking().Where(l => ids.Contains(l.UserId)).ToListAsync(ct);
            await transaction.CommitAsync(ct);
            return (sequence, total, page, memberships, licenses);
        }, cancellationToken);

        var value = page.Select(u => new UserState(u.Id, u.UserName, u.Enabled,
            memberships.Where(m => m.UserId == u.Id).Select(m => m.GroupId).Order().ToList(),
            licenses.Where(l => l.UserId == u.Id).Select(l => l.ServicePlanId).Order().ToList())).ToList();
        return TypedResults.Ok(new DirectoryStatePage(sequence, value, total));
    }

    private sealed record AccountRow(Guid Id, string UserName, bool Enabled);
}
