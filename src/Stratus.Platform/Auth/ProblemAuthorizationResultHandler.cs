using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
using Stratus.Platform.Http;

namespace Stratus.Platform.Auth;

/// <summary>Answers a refused request with problem details that say why, instead of an empty 401 or 403.</summary>
internal sealed class ProblemAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler fallback = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(authorizeResult);
        if (authorizeResult.Challenged)
        {
            await ProblemWriter.WriteAsync(context, StatusCodes.Status401Unauthorized, "unauthorized", "Unauthorized",
                "Sign in first: send 'Authorization: Bearer <token>' with a token from POST /api/v1/auth/token.");
            return;
        }

        if (authorizeResult.Forbidden)
        {
            await ProblemWriter.WriteAsync(context, StatusCodes.Status403Forbidden, "forbidden", "Forbidden",
                "Your account does not have a role that allows this. Ask a tenant administrator for one.");
            return;
        }

        await fallback.HandleAsync(next, context, policy, authorizeResult);
    }
}
