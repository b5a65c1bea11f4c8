using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Diagnostics.Persistence;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Diagnostics.Troubleshooting;

public sealed record BulkTroubleshootRequest(List<Guid>? CloudPcIds);

/// <summary>One Cloud PC of a bulk troubleshoot: its result, or why it has none (status and detail, as a problem would say).</summary>
public sealed record BulkTroubleshootItem(Guid CloudPcId, TroubleshootResultView? Result, int? ErrorStatus, string? Error);

public sealed record BulkTroubleshootResult(int SuccessfulCount, int FailedCount, IReadOnlyList<BulkTroubleshootItem> Value);

public sealed record TroubleshootResultList(IReadOnlyList<TroubleshootResultView> Value);

/// <summary>Graph's troubleshoot action on Cloud PCs, single and bulk, and the results kept for 28 days.</summary>
public static class TroubleshootApi
{
    public const int BulkLimit = 100;

    public static readonly TimeSpan Retention = TimeSpan.FromDays(28);

    public static readonly JsonSerializerOptions Json = JsonSerializerOptions.Web;

    /// <summary>Troubleshooting reads several services per Cloud PC; a bulk run asks about this many Cloud PCs at once.</summary>
    private const int BulkParallelism = 4;

    public static IEndpointRouteBuilder MapTroubleshootApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/cloudPCs").WithTags("Troubleshooting").RequireAuthorization(StratusPolicies.CloudPcAdministrator);
        group.MapPost("/{id:guid}/troubleshoot", TroubleshootAsync).WithName("TroubleshootCloudPc")
            .WithSummary("Run the Cloud PC's checks (record, host, VM, network connection, disk copies, restore points) and keep the result; fixes are offered, never applied");
        group.MapPost("/bulkTroubleshoot", BulkAsync).WithName("BulkTroubleshootCloudPcs").WithSummary($"Troubleshoot up to {BulkLimit} Cloud PCs, with a result per Cloud PC");
        group.MapGet("/{id:guid}/troubleshootResults", ListAsync).WithName("ListCloudPcTroubleshootResults")
            .WithSummary("The Cloud PC's troubleshoot results of the last 28 days, latest first");
        return endpoints;
    }

    private static async Task<Results<Ok<TroubleshootResultView>, ProblemHttpResult>> TroubleshootAsync(
        Guid id, HttpContext http, Troubleshooter troubleshooter, CancellationToken cancellationToken)
    {
        if (UserToken(http) is not { } token)
        {
            return NoToken();
        }

        await troubleshooter.PruneAsync(cancellationToken);
        var (result, refusal) = await troubleshooter.RunAsync(token, http.User.RequiredTenantId(), UserName(http), id, cancellationToken);
        return result is not null ? TypedResults.Ok(result) : Problem(refusal!);
    }

    private static async Task<Results<Ok<BulkTroubleshootResult>, ValidationProblem, ProblemHttpResult>> BulkAsync(
        BulkTroubleshootRequest? request, HttpContext http, IServiceScopeFactory scopes, CancellationToken cancellationToken)
    {
        var ids = request?.CloudPcIds;
        if (ids is not { Count: > 0 and <= BulkLimit } || ids.Contains(Guid.Empty))
        {
            return Problems.Validation("cloudPcIds", $"'cloudPcIds' must list 1 to {BulkLimit} Cloud PC ids (you sent {ids?.Count ?? 0}{(ids?.Contains(Guid.Empty) == true ? ", one of them empty" : "")}).");
        }

        if (UserToken(http) is not { } token)
        {
            return NoToken();
        }

        var tenant = http.User.RequiredTenantId();
        var user = UserName(http);
        var distinct = ids.Distinct().ToList();
        var items = new BulkTroubleshootItem[distinct.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, distinct.Count), new ParallelOptions { MaxDegreeOfParallelism = BulkParallelism, CancellationToken = cancellationToken },
            async (index, ct) =>
            {
                // A scope per Cloud PC: a DbContext is not shared between concurrent runs.
                await using var scope = scopes.CreateAsyncScope();
                var (result, refusal) = await scope.ServiceProvider.GetRequiredService<Troubleshooter>().RunAsync(token, tenant, user, distinct[index], ct);
                items[index] = new BulkTroubleshootItem(distinct[index], result, refusal?.StatusCode, refusal?.Detail);
            });
        return TypedResults.Ok(new BulkTroubleshootResult(items.Count(i => i.Result is not null), items.Count(i => i.Result is null), items));
    }

    private static async Task<Results<Ok<TroubleshootResultList>, ProblemHttpResult>> ListAsync(
        Guid id, HttpContext http, DiagnosticsDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        // The tenant is the token's: another tenant's Cloud PC has no results here, the same as one never troubleshot.
        var tenant = http.User.RequiredTenantId();
        var cutoff = clock.GetUtcNow() - Retention;
        var results = await db.TroubleshootResults.AsNoTracking()
            .Where(r => r.TenantId == tenant && r.CloudPcId == id && r.StartDateTime >= cutoff)
            .OrderByDescending(r => r.StartDateTime).Take(100).ToListAsync(cancellationToken);
        return TypedResults.Ok(new TroubleshootResultList(results.Select(TroubleshootResultView.From).ToList()));
    }

    /// <summary>The caller's own token, which troubleshooting exchanges to read as them: the bearer sent, or the one a portal session carries.</summary>
    private static string? UserToken(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : http.User.FindFirst(StratusClaims.AccessToken)?.Value;
        return string.IsNullOrEmpty(token) ? null : token;
    }

    private static string UserName(HttpContext http) => http.User.Identity?.Name ?? http.User.FindFirst("sub")?.Value ?? "unknown";

    private static ProblemHttpResult NoToken() => Problems.Unauthorized("Your sign-in carries no token troubleshooting can read other services with: sign in again.");

    private static ProblemHttpResult Problem(TroubleshootRefusal refusal) => refusal.StatusCode switch
    {
        404 => TypedResults.Problem(statusCode: 404, title: "Not found", detail: refusal.Detail, type: Problems.TypePrefix + "not-found"),
        401 => Problems.Unauthorized(refusal.Detail),
        _ => Problems.DependencyUnavailable(refusal.Detail),
    };
}
