using System.Text.Json;

namespace Stratus.IntegrationTests.BadInput;

internal enum ValueKind
{
    String,
    Integer,
    Number,
    Boolean,
    Array,
    Object,

    /// <summary>A value the document does not type (a JsonElement): any JSON is well-typed.</summary>
    Any,
}

/// <summary>What a JSON value must look like, as far as the tests need to know: its kind, its properties or its items.</summary>
internal sealed record Shape(ValueKind Kind, IReadOnlyList<Field> Properties, Shape? Items, string? Format = null)
{
    public static readonly Shape AnyValue = new(ValueKind.Any, [], null);
}

internal sealed record Field(string Name, Shape Shape);

internal enum ParameterPlace
{
    Path,
    Query,
}

internal sealed record Parameter(string Name, ParameterPlace In, Shape Shape);

/// <summary>One operation of a document: what may be sent to it, and the media type of its JSON body, if it takes one.</summary>
internal sealed record Operation(string Method, string PathTemplate, IReadOnlyList<Parameter> Parameters, Shape? Body, string BodyMediaType)
{
    public bool TakesBody => Body is not null;

    public bool IsWrite => Method is "POST" or "PUT" or "PATCH" or "DELETE";

    public override string ToString() => $"{Method} {PathTemplate}";
}

/// <summary>
/// The operations of Stratus's OpenAPI document (/openapi/v1.json), with their parameters and request bodies
/// resolved from the document's schemas: the list the bad-input tests send to, so that a new endpoint is covered
/// the day it is mapped.
/// </summary>
internal static class OpenApiOperations
{
    public static IReadOnlyList<Operation> Read(JsonElement document, Func<string, bool> includePath)
    {
        var schemas = document.TryGetProperty("components", out var components) && components.TryGetProperty("schemas", out var s) ? s : default;
        var operations = new List<Operation>();
        foreach (var path in document.GetProperty("paths").EnumerateObject().Where(p => includePath(p.Name)))
        {
            foreach (var method in path.Value.EnumerateObject().Where(m => m.Name != "parameters"))
            {
                var parameters = method.Value.TryGetProperty("parameters", out var list)
                    ? list.EnumerateArray().Select(p => new Parameter(
                        p.GetProperty("name").GetString()!,
                        p.GetProperty("in").GetString() == "path" ? ParameterPlace.Path : ParameterPlace.Query,
                        p.TryGetProperty("schema", out var schema) ? Resolve(schema, schemas, 0) : Shape.AnyValue)).ToList()
                    : [];
                Shape? body = null;
                var mediaType = "application/json";
                if (method.Value.TryGetProperty("requestBody", out var requestBody)
                    && requestBody.GetProperty("content").TryGetProperty("application/json", out var json))
                {
                    body = json.TryGetProperty("schema", out var schema) ? Resolve(schema, schemas, 0) : Shape.AnyValue;
                }

                operations.Add(new Operation(method.Name.ToUpperInvariant(), path.Name, parameters, body, mediaType));
            }
        }

        return operations;
    }

    /// <summary>A schema as a shape: references followed, nullable unions ("oneOf": [null, X], "type": [null, X]) reduced to X.</summary>
    public static Shape Resolve(JsonElement schema, JsonElement schemas, int depth)
    {
        if (depth > 8)
        {
            return Shape.AnyValue;
        }

        if (schema.TryGetProperty("$ref", out var reference))
        {
            var name = reference.GetString()!.Split('/')[^1];
            return schemas.ValueKind == JsonValueKind.Object && schemas.TryGetProperty(name, out var target) ? Resolve(target, schemas, depth + 1) : Shape.AnyValue;
        }

        foreach (var union in new[] { "oneOf", "anyOf", "allOf" })
        {
            if (schema.TryGetProperty(union, out var options))
            {
                var chosen = options.EnumerateArray().FirstOrDefault(o => !IsNullType(o));
                return chosen.ValueKind == JsonValueKind.Object ? Resolve(chosen, schemas, depth + 1) : Shape.AnyValue;
            }
        }

        var kind = KindOf(schema);
        var format = schema.TryGetProperty("format", out var f) ? f.GetString() : null;
        return kind switch
        {
            ValueKind.Object => new Shape(kind, schema.TryGetProperty("properties", out var properties)
                ? properties.EnumerateObject().Select(p => new Field(p.Name, Resolve(p.Value, schemas, depth + 1))).ToList()
                : [], null, format),
            ValueKind.Array => new Shape(kind, [], schema.TryGetProperty("items", out var items) ? Resolve(items, schemas, depth + 1) : Shape.AnyValue, format),
            _ => new Shape(kind, [], null, format),
        };
    }

    private static bool IsNullType(JsonElement schema) =>
        schema.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "null";

    private static ValueKind KindOf(JsonElement schema)
    {
        if (!schema.TryGetProperty("type", out var type))
        {
            return schema.TryGetProperty("properties", out _) ? ValueKind.Object : ValueKind.Any;
        }

        // A number the server also reads from a string ("type": ["null", "integer", "string"]) is a number.
        var names = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()).ToList() : [type.GetString()];
        return names.Contains("integer") ? ValueKind.Integer
            : names.Contains("number") ? ValueKind.Number
            : names.Contains("boolean") ? ValueKind.Boolean
            : names.Contains("array") ? ValueKind.Array
            : names.Contains("object") ? ValueKind.Object
            : names.Contains("string") ? ValueKind.String
            : ValueKind.Any;
    }
}
