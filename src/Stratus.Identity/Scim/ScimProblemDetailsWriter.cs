using Microsoft.AspNetCore.Http;
using Stratus.Platform.Http;

namespace Stratus.Identity.Scim;

/// <summary>
/// Renders the errors the platform produces under /scim (a refused token, an unreadable body, an unknown
/// route, an internal error) in SCIM's error shape, so that a provisioning client sees one shape for every
/// error. It is registered ahead of the default writer, which otherwise also refuses to write at all when
/// a client sends <c>Accept: application/scim+json</c> only.
/// </summary>
internal sealed class ScimProblemDetailsWriter : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) =>
        context.HttpContext.Request.Path.StartsWithSegments(ScimModule.BasePath, StringComparison.OrdinalIgnoreCase);

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var status = context.ProblemDetails.Status ?? http.Response.StatusCode;
        http.Response.StatusCode = status;
        var detail = status switch
        {
            StatusCodes.Status401Unauthorized =>
                (http.Items[ScimAuthentication.FailureItem] as string ?? "No SCIM token was sent.") +
                " Send 'Authorization: Bearer <token>' with the tenant's SCIM token; a tenant administrator creates one with POST /api/v1/scim/token.",
            StatusCodes.Status404NotFound when context.ProblemDetails.Type != Problems.TypePrefix + "not-found" =>
                $"There is no SCIM endpoint at {http.Request.Path}. The endpoints are {ScimModule.BasePath}/Users, /Groups, /ServiceProviderConfig, /Schemas and /ResourceTypes.",
            StatusCodes.Status405MethodNotAllowed => $"{http.Request.Method} is not supported on {http.Request.Path}.",
            // A value the platform refused (a control character, a lone surrogate): SCIM's detail names the fields.
            _ when context.ProblemDetails is HttpValidationProblemDetails { Errors.Count: > 0 } validation =>
                string.Join(" ", validation.Errors.SelectMany(e => e.Value)),
            _ => context.ProblemDetails.Detail ?? context.ProblemDetails.Title ?? "The request failed.",
        };
        var scimType = status != StatusCodes.Status400BadRequest ? null
            : context.ProblemDetails.Type == Problems.TypePrefix + "validation" ? ScimErrorTypes.InvalidValue
            : ScimErrorTypes.InvalidSyntax;
        return new ValueTask(ScimResponse.WriteAsync(http.Response, ScimError.Body(status, scimType, detail)));
    }
}
