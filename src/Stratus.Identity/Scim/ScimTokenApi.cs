using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Stratus.Identity.Sync;
using Stratus.Platform.Audit;
using Stratus.Platform.Auth;

namespace Stratus.Identity.Scim;

/// <summary>The token, shown this once: Stratus keeps only its hash.</summary>
public sealed record ScimTokenCreated(string Token, DateTimeOffset CreatedDateTime);

/// <summary>A tenant administrator's management of the tenant's SCIM token.</summary>
public static partial class ScimTokenApi
{
    public const string Path = "/api/v1/scim/token";

    public static IEndpointRouteBuilder MapScimTokenApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(Path, CreateAsync).WithTags("SCIM").WithName("CreateScimToken")
            .WithSummary("Create the tenant's SCIM token, or replace it (the old one stops working); the token is shown once")
            .RequireAuthorization(StratusPolicies.TenantAdministrator);
        endpoints.MapDelete(Path, RevokeAsync).WithTags("SCIM").WithName("RevokeScimToken")
            .WithSummary("Revoke the tenant's SCIM token: provisioning stops until a new one is created")
            .RequireAuthorization(StratusPolicies.TenantAdministrator);
        return endpoints;
    }

    private static async Task<Ok<ScimTokenCreated>> CreateAsync(HttpContext http, DirectoryWriter directory, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var token = ScimTokens.NewToken();
        var actor = AuditActor.From(http);
        var (createdAt, domain) = await directory.ChangeAsync(http.User.RequiredTenantId(), change =>
        {
            var tenant = change.Tenant;
            var replaced = tenant.ScimTokenHash is not null;
            tenant.ScimTokenHash = ScimTokens.Hash(token);
            tenant.ScimTokenCreatedAt = change.Now;
            change.Db.Audit(directory.Clock, tenant.Id, actor, "tenant", replaced ? "RotateScimToken" : "CreateScimToken",
                replaced ? $"Replaced the SCIM token of {tenant.Domain}" : $"Created the SCIM token of {tenant.Domain}", true,
                new AuditResource(tenant.Id.ToString(), "tenant", tenant.Domain));
            return Task.FromResult((change.Now, tenant.Domain));
        }, cancellationToken);
        LogCreated(loggers.CreateLogger(typeof(ScimTokenApi)), domain, actor.UserPrincipalName);
        return TypedResults.Ok(new ScimTokenCreated(token, createdAt));
    }

    private static async Task<NoContent> RevokeAsync(HttpContext http, DirectoryWriter directory, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var actor = AuditActor.From(http);
        var revoked = await directory.ChangeAsync(http.User.RequiredTenantId(), change =>
        {
            var tenant = change.Tenant;
            if (tenant.ScimTokenHash is null)
            {
                // Nothing to revoke: the answer is the same, so that a retried DELETE is harmless.
                change.Refuse();
                return Task.FromResult<string?>(null);
            }

            tenant.ScimTokenHash = null;
            tenant.ScimTokenCreatedAt = null;
            change.Db.Audit(directory.Clock, tenant.Id, actor, "tenant", "RevokeScimToken", $"Revoked the SCIM token of {tenant.Domain}", true,
                new AuditResource(tenant.Id.ToString(), "tenant", tenant.Domain));
            return Task.FromResult<string?>(tenant.Domain);
        }, cancellationToken);
        if (revoked is not null)
        {
            LogRevoked(loggers.CreateLogger(typeof(ScimTokenApi)), revoked, actor.UserPrincipalName);
        }

        return TypedResults.NoContent();
    }

    [LoggerMessage(EventId = 2102, Level = LogLevel.Information, Message = "SCIM token of {Tenant} created by {Actor}")]
    private static partial void LogCreated(ILogger logger, string tenant, string actor);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Information, Message = "SCIM token of {Tenant} revoked by {Actor}")]
    private static partial void LogRevoked(ILogger logger, string tenant, string actor);
}
