using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Stratus.Platform.Http;

internal static class ProblemWriter
{
    public static async Task WriteAsync(HttpContext context, int status, string code, string title, string detail)
    {
        context.Response.StatusCode = status;
        if (status == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
        }

        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail, Type = Problems.TypePrefix + code },
        });
    }

    /// <summary>The 400 of <see cref="Problems.Validation(string, string)"/>, for code that runs outside an endpoint.</summary>
    public static Task WriteValidationAsync(HttpContext context, string field, string message) =>
        WriteValidationAsync(context, new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>The 400 of <see cref="Problems.Validation(IDictionary{string, string[]})"/>, for code that runs outside an endpoint.</summary>
    public static async Task WriteValidationAsync(HttpContext context, IDictionary<string, string[]> errors)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new HttpValidationProblemDetails(errors)
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "The request is not valid",
                Detail = "Correct the fields named in 'errors' and send it again.",
                Type = Problems.TypePrefix + "validation",
            },
        });
    }
}

/// <summary>
/// Turns a request the framework could not read (bad JSON, a query value of the wrong type) into a 400
/// that says so, and anything unexpected into a 500 that leaks nothing but the request id.
/// </summary>
internal sealed partial class ProblemExceptionHandler(ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is BadHttpRequestException bad)
        {
            var detail = bad.InnerException is System.Text.Json.JsonException json
                ? $"The request body is not valid JSON for this endpoint: {json.Message}"
                : bad.Message;
            await ProblemWriter.WriteAsync(httpContext, bad.StatusCode, "bad-request", "The request cannot be read", detail);
            return true;
        }

        if (Persistence.StoreFailures.IsUnavailable(exception))
        {
            LogStoreUnavailable(logger, httpContext.Request.Method, httpContext.Request.Path, exception.GetBaseException().Message);
            httpContext.Response.Headers.RetryAfter = "5";
            await ProblemWriter.WriteAsync(httpContext, StatusCodes.Status503ServiceUnavailable, "store-unavailable", "Storage is unavailable",
                "Stratus cannot reach its database right now (it may be failing over). Try again in a few seconds.");
            return true;
        }

        if (exception is Microsoft.EntityFrameworkCore.DbUpdateConcurrencyException)
        {
            // A write that lost to a concurrent change of the same row saved nothing: the caller may read and retry.
            LogConcurrentChange(logger, httpContext.Request.Method, httpContext.Request.Path);
            await ProblemWriter.WriteAsync(httpContext, StatusCodes.Status409Conflict, "concurrent-change", "Changed concurrently",
                "What this request changes was changed by something else at the same moment; nothing was saved. Read it again and retry.");
            return true;
        }

        LogUnhandled(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
        await ProblemWriter.WriteAsync(httpContext, StatusCodes.Status500InternalServerError, "internal", "Internal error",
            $"Stratus failed to handle this request. Quote request id {httpContext.TraceIdentifier} when you report it.");
        return true;
    }

    [LoggerMessage(EventId = 1302, Level = LogLevel.Warning, Message = "{Method} {Path} answered 503: the store is unavailable ({Reason})")]
    private static partial void LogStoreUnavailable(ILogger logger, string method, string path, string reason);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Warning, Message = "{Method} {Path} answered 409: a concurrent change of the same row won")]
    private static partial void LogConcurrentChange(ILogger logger, string method, string path);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Error, Message = "Unhandled error in {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}
