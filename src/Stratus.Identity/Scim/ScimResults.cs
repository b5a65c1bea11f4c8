using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Stratus.Identity.Scim;

/// <summary>A SCIM answer with a body (a resource, a list, a schema document) as application/scim+json.</summary>
public sealed class ScimResponse(int statusCode, JsonNode body, string? location = null) : IResult, IStatusCodeHttpResult
{
    public const string MediaType = "application/scim+json";

    // Not HTML: quotes and angle brackets in details stay readable.
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public int? StatusCode => statusCode;

    public JsonNode Body => body;

    public static ScimResponse Ok(JsonNode body) => new(StatusCodes.Status200OK, body);

    public static ScimResponse Created(JsonObject resource, string location) => new(StatusCodes.Status201Created, resource, location);

    public Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        httpContext.Response.StatusCode = statusCode;
        if (location is not null)
        {
            httpContext.Response.Headers.Location = location;
        }

        return WriteAsync(httpContext.Response, body);
    }

    internal static async Task WriteAsync(HttpResponse response, JsonNode body)
    {
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString(Json));
        response.ContentType = MediaType + "; charset=utf-8";
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes);
    }
}

/// <summary>A SCIM error (RFC 7644 section 3.12): the Error schema, the status as a string, and a scimType where one fits.</summary>
public sealed class ScimError(int statusCode, string? scimType, string detail) : IResult, IStatusCodeHttpResult
{
    public int? StatusCode => statusCode;

    public string? ScimType => scimType;

    public string Detail => detail;

    public static ScimError BadRequest(string scimType, string detail) => new(StatusCodes.Status400BadRequest, scimType, detail);

    public static ScimError InvalidValue(string detail) => BadRequest(ScimErrorTypes.InvalidValue, detail);

    public static ScimError NotFound(string resource, string id) =>
        new(StatusCodes.Status404NotFound, null, $"There is no {resource} with id '{id}' in this tenant.");

    public static ScimError Uniqueness(string detail) => new(StatusCodes.Status409Conflict, ScimErrorTypes.Uniqueness, detail);

    public static ScimError TooLarge() => new(StatusCodes.Status413PayloadTooLarge, null,
        $"The request body is larger than {ScimModule.MaxBodyBytes / 1024} KiB, the most Stratus accepts. Send fewer members per request.");

    /// <summary>SCIM changes only what SCIM provisioned; the rest belongs to Stratus's own API or to the LDAP sync.</summary>
    public static ScimError NotProvisionedByScim(string resource, string name, DirectorySource source) => BadRequest(ScimErrorTypes.Mutability,
        $"The {resource} '{name}' was created by {(source == DirectorySource.Ldap ? "the LDAP sync" : "Stratus's own API")}, not by SCIM; " +
        "SCIM changes only what it provisioned. Change it in Stratus, or delete it there and provision it again.");

    public static JsonObject Body(int statusCode, string? scimType, string detail)
    {
        var body = new JsonObject
        {
            ["schemas"] = new JsonArray(ScimSchemas.Error),
            ["status"] = statusCode.ToString(CultureInfo.InvariantCulture),
        };
        if (scimType is not null)
        {
            body["scimType"] = scimType;
        }

        body["detail"] = detail;
        return body;
    }

    public Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        httpContext.Response.StatusCode = statusCode;
        return ScimResponse.WriteAsync(httpContext.Response, Body(statusCode, scimType, detail));
    }
}
