using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Stratus.Platform.Audit;

namespace Stratus.Identity.Scim;

/// <summary>A request body read as one JSON object, or the SCIM error that says why it could not be.</summary>
public readonly record struct ScimBody(JsonElement Value, ScimError? Error);

/// <summary>Reading SCIM requests: bodies, attribute values (names are case-insensitive, RFC 7643 section 2.1), paging.</summary>
public static class ScimRequest
{
    public const int DefaultCount = 100;
    public const int MaxCount = 200;

    public static async Task<ScimBody> ReadObjectAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength > ScimModule.MaxBodyBytes)
        {
            return new(default, ScimError.TooLarge());
        }

        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, new JsonDocumentOptions { MaxDepth = 32 }, cancellationToken);
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? new(document.RootElement.Clone(), null)
                : new(default, ScimError.BadRequest(ScimErrorTypes.InvalidSyntax, "The request body must be a JSON object."));
        }
        catch (JsonException e)
        {
            return new(default, ScimError.BadRequest(ScimErrorTypes.InvalidSyntax, $"The request body is not valid JSON: {e.Message}"));
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return new(default, ScimError.TooLarge());
        }
    }

    /// <summary>The value of an attribute of a JSON object, matched case-insensitively; null when absent or JSON null.</summary>
    public static JsonElement? Attribute(this JsonElement element, string name)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        foreach (var property in element.EnumerateObject())
        {
            if (property.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return property.Value.ValueKind == JsonValueKind.Null ? null : property.Value;
            }
        }

        return null;
    }

    public static ScimError? ReadString(JsonElement? value, string attribute, out string? text)
    {
        text = null;
        if (value is not { } element)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            return ScimError.InvalidValue($"'{attribute}' must be a string.");
        }

        text = element.GetString();
        return null;
    }

    /// <summary>
    /// <c>schemas</c> of a resource (RFC 7643 section 3): when given, a list of URI strings that names the resource's
    /// core schema. Left out, it is taken to be that one, as before (some clients leave it out).
    /// </summary>
    public static ScimError? ReadSchemas(JsonElement body, string coreSchema)
    {
        if (body.Attribute("schemas") is not { } schemas)
        {
            return null;
        }

        return schemas.ValueKind == JsonValueKind.Array && schemas.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String)
            && schemas.EnumerateArray().Any(s => string.Equals(s.GetString(), coreSchema, StringComparison.OrdinalIgnoreCase))
            ? null
            : ScimError.InvalidValue($"'schemas' must be a list of schema URIs that holds \"{coreSchema}\".");
    }

    /// <summary>A boolean; Entra ID sends them as strings ("True", "False"), which are accepted too.</summary>
    public static ScimError? ReadBoolean(JsonElement? value, string attribute, out bool? result)
    {
        result = null;
        switch (value)
        {
            case null:
                return null;
            case { ValueKind: JsonValueKind.True }:
                result = true;
                return null;
            case { ValueKind: JsonValueKind.False }:
                result = false;
                return null;
            case { ValueKind: JsonValueKind.String } text when bool.TryParse(text.GetString()?.Trim(), out var parsed):
                result = parsed;
                return null;
            default:
                return ScimError.InvalidValue($"'{attribute}' must be true or false.");
        }
    }

    /// <summary>The page a list asks for: startIndex is 1-based; count is capped, and 0 asks only for the total.</summary>
    public static ScimError? ReadPage(IQueryCollection query, out int startIndex, out int count)
    {
        ArgumentNullException.ThrowIfNull(query);
        startIndex = 1;
        count = DefaultCount;
        if (query.TryGetValue("startIndex", out var start))
        {
            if (!int.TryParse(start, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out startIndex))
            {
                return ScimError.InvalidValue("'startIndex' must be an integer, 1 for the first result.");
            }

            startIndex = Math.Max(startIndex, 1);
        }

        if (query.TryGetValue("count", out var size))
        {
            if (!int.TryParse(size, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out count))
            {
                return ScimError.InvalidValue($"'count' must be an integer from 0 to {MaxCount}.");
            }

            count = Math.Clamp(count, 0, MaxCount);
        }

        return null;
    }

    public static JsonObject ListResponse(IEnumerable<JsonObject> resources, int totalResults, int startIndex)
    {
        var array = new JsonArray([.. resources]);
        return new JsonObject
        {
            ["schemas"] = new JsonArray(ScimSchemas.ListResponse),
            ["totalResults"] = totalResults,
            ["startIndex"] = startIndex,
            ["itemsPerPage"] = array.Count,
            ["Resources"] = array,
        };
    }

    /// <summary>
    /// Applies <c>attributes</c> and <c>excludedAttributes</c> (RFC 7644 section 3.4.2.5) to a resource, at the
    /// level of its top attributes; <c>id</c> and <c>schemas</c> are always returned.
    /// </summary>
    public static JsonObject Project(JsonObject resource, IQueryCollection query, string coreSchema)
    {
        ArgumentNullException.ThrowIfNull(resource);
        ArgumentNullException.ThrowIfNull(query);
        var included = AttributeNames(query["attributes"], coreSchema);
        var excluded = AttributeNames(query["excludedAttributes"], coreSchema);
        foreach (var name in resource.Select(p => p.Key).ToList())
        {
            if (name is "id" or "schemas")
            {
                continue;
            }

            if ((included.Count > 0 && !included.Contains(name)) || excluded.Contains(name))
            {
                resource.Remove(name);
            }
        }

        return resource;
    }

    /// <summary>True when the query leaves an attribute out, so that it need not be loaded (members of big groups).</summary>
    public static bool Excludes(IQueryCollection query, string attribute, string coreSchema)
    {
        ArgumentNullException.ThrowIfNull(query);
        var included = AttributeNames(query["attributes"], coreSchema);
        return AttributeNames(query["excludedAttributes"], coreSchema).Contains(attribute) || (included.Count > 0 && !included.Contains(attribute));
    }

    private static HashSet<string> AttributeNames(string? list, string coreSchema)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var item in (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var name = item.StartsWith(coreSchema + ":", StringComparison.OrdinalIgnoreCase) ? item[(coreSchema.Length + 1)..] : item;
            var dot = name.IndexOf('.', StringComparison.Ordinal);
            names.Add(dot < 0 ? name : name[..dot]);
        }

        return names;
    }

    /// <summary>Where a resource lives, as an absolute URL for <c>meta.location</c> and the Location header.</summary>
    public static string Location(HttpRequest request, string resourceType, Guid id)
    {
        ArgumentNullException.ThrowIfNull(request);
        return $"{request.Scheme}://{request.Host}{request.PathBase}{ScimModule.BasePath}/{resourceType}/{id}";
    }

    /// <summary>Who SCIM changes are recorded as: the provisioning client, from its address.</summary>
    public static AuditActor Actor(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        return new AuditActor(null, ScimAuthentication.ActorName, http.Connection.RemoteIpAddress?.ToString());
    }
}
