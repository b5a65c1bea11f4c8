using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Platform.Regions;

/// <summary>
/// Standby mode for requests: while this instance's region holds no lease to write, every write request (any method
/// but GET, HEAD, OPTIONS and TRACE) is answered 503 <c>region-read-only</c> with Retry-After, naming the writable
/// region, before authentication and before an Idempotency-Key is reserved: nothing of it is written. Reads go on.
/// Exempt, because they write nothing and a standby region needs them:
/// <list type="bullet">
/// <item>POST /connect/token: a service token is signed, not stored; the standby region's own instances need one to
/// ask the front door for their lease, so refusing it would keep the region from ever becoming writable.</item>
/// <item>/_blazor: a portal page's circuit handshake; its writes go through the API and are refused there.</item>
/// </list>
/// People's sign-in (POST /api/v1/auth/...) is refused: it records attempts; the front door sends it to the writable region.
/// </summary>
internal sealed class RegionWriteGuard(RequestDelegate next, RegionWritability writability, IOptions<RegionOptions> options, IProblemDetailsService problems)
{
    public const string ProblemType = "region-read-only";

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (writability.IsWritable || IsRead(request.Method) || IsExempt(request.Path))
        {
            await next(context);
            return;
        }

        var state = writability.Current;
        var retryAfter = (int)Math.Ceiling(Math.Max(1, (options.Value.RenewInterval ?? options.Value.RetryInterval).TotalSeconds));
        var elsewhere = state.WritableRegion is { } writable && writable != state.Region;
        var starting = writability.StartupTasksWaiting;
        var detail = elsewhere
            ? $"Region {state.Region} is read-only: region {state.WritableRegion} takes writes now (epoch {state.Epoch}). " +
              $"Send writes through the front door, which routes them to region {state.WritableRegion}; nothing of this request was done."
            : starting.Count > 0 && state.WritableRegion == state.Region
            ? $"Region {state.Region} is becoming writable (epoch {state.Epoch}): this instance first finishes the start-up tasks its store " +
              $"refused while it was a standby ({string.Join(", ", starting)}). Retry in {retryAfter} s; nothing of this request was done."
            : $"Region {state.Region} is read-only for now: this instance holds no lease to write from the front door " +
              $"(it has not answered, or a change of writable region is under way). Retry in {retryAfter} s, through the front door; nothing of this request was done.";
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "This region is read-only",
                Detail = detail,
                Type = Problems.TypePrefix + ProblemType,
                Extensions =
                {
                    ["region"] = state.Region,
                    ["writableRegion"] = state.WritableRegion,
                    ["epoch"] = state.Epoch,
                },
            },
        });
    }

    private static bool IsRead(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method);

    private static bool IsExempt(PathString path) =>
        path.StartsWithSegments(StratusTokens.TokenPath, StringComparison.OrdinalIgnoreCase) || path.StartsWithSegments("/_blazor", StringComparison.OrdinalIgnoreCase);
}
