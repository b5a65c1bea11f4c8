using System.Text.Json;
using System.Text.Json.Nodes;

namespace Stratus.IntegrationTests.BadInput;

/// <summary>
/// SCIM's own list of operations: the /scim/v2 paths of the OpenAPI document, whose bodies SCIM reads itself, so
/// the shapes come from SCIM's discovery instead: /ResourceTypes says which schema a resource endpoint takes and
/// /Schemas its attributes and their types (RFC 7643 section 7). Lists take RFC 7644's query parameters.
/// </summary>
internal static class ScimOperations
{
    public const string MediaType = "application/scim+json";
    public const string PatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

    private static readonly Parameter[] ListParameters =
    [
        new("filter", ParameterPlace.Query, new Shape(ValueKind.String, [], null)),
        new("startIndex", ParameterPlace.Query, new Shape(ValueKind.Integer, [], null)),
        new("count", ParameterPlace.Query, new Shape(ValueKind.Integer, [], null)),
        new("attributes", ParameterPlace.Query, new Shape(ValueKind.String, [], null)),
        new("excludedAttributes", ParameterPlace.Query, new Shape(ValueKind.String, [], null)),
    ];

    /// <summary>The operations, and the schema URN of each resource endpoint ("/scim/v2/Users").</summary>
    public static (IReadOnlyList<Operation> Operations, IReadOnlyDictionary<string, string> SchemaByPath) Read(
        IReadOnlyList<Operation> documented, JsonElement resourceTypes, JsonElement schemas)
    {
        var shapes = new Dictionary<string, (Shape Resource, string Schema)>(StringComparer.Ordinal);
        foreach (var type in resourceTypes.GetProperty("Resources").EnumerateArray())
        {
            var schemaId = type.GetProperty("schema").GetString()!;
            var schema = schemas.GetProperty("Resources").EnumerateArray().First(s => s.GetProperty("id").GetString() == schemaId);
            var fields = new List<Field>
            {
                new("schemas", new Shape(ValueKind.Array, [], new Shape(ValueKind.String, [], null))),
                new("externalId", new Shape(ValueKind.String, [], null)),
            };
            fields.AddRange(Attributes(schema.GetProperty("attributes")));
            shapes["/scim/v2" + type.GetProperty("endpoint").GetString()] = (new Shape(ValueKind.Object, fields, null), schemaId);
        }

        var operations = documented.Select(operation =>
        {
            var resource = shapes.FirstOrDefault(s => operation.PathTemplate.StartsWith(s.Key, StringComparison.Ordinal));
            var isList = operation.Method == "GET" && resource.Key == operation.PathTemplate;
            var parameters = isList ? [.. operation.Parameters, .. ListParameters] : operation.Parameters;
            Shape? body = operation.Method switch
            {
                "POST" or "PUT" when resource.Key is not null => resource.Value.Resource,
                "PATCH" when resource.Key is not null => PatchShape(resource.Value.Resource),
                _ => null,
            };
            return operation with { Parameters = parameters, Body = body, BodyMediaType = MediaType };
        }).ToList();
        return (operations, shapes.ToDictionary(s => s.Key, s => s.Value.Schema));
    }

    /// <summary>Sample values SCIM needs to read a body at all: the schema URN of the resource (or of a PATCH) and a PATCH operation's verb.</summary>
    public static Func<string, JsonNode?> SampleOverrides(Operation operation, IReadOnlyDictionary<string, string> schemaByPath) => place =>
        place switch
        {
            "schemas" when operation.Method == "PATCH" => new JsonArray(PatchOp),
            "schemas" => new JsonArray(schemaByPath.First(s => operation.PathTemplate.StartsWith(s.Key, StringComparison.Ordinal)).Value),
            "Operations[0].op" => JsonValue.Create("replace"),
            _ => null,
        };

    private static Shape PatchShape(Shape resource) => new(ValueKind.Object,
    [
        new Field("schemas", new Shape(ValueKind.Array, [], new Shape(ValueKind.String, [], null))),
        new Field("Operations", new Shape(ValueKind.Array, [], new Shape(ValueKind.Object,
            [new Field("op", new Shape(ValueKind.String, [], null)),
             new Field("value", resource with { Properties = resource.Properties.Where(p => p.Name != "schemas").ToList() })], null))),
    ], null);

    private static IEnumerable<Field> Attributes(JsonElement attributes)
    {
        foreach (var attribute in attributes.EnumerateArray().Where(a => a.GetProperty("mutability").GetString() != "readOnly"))
        {
            var single = attribute.GetProperty("type").GetString() switch
            {
                "complex" => new Shape(ValueKind.Object, attribute.TryGetProperty("subAttributes", out var sub) ? Attributes(sub).ToList() : [], null),
                "boolean" => new Shape(ValueKind.Boolean, [], null),
                "integer" => new Shape(ValueKind.Integer, [], null),
                "decimal" => new Shape(ValueKind.Number, [], null),
                _ => new Shape(ValueKind.String, [], null),
            };
            yield return new Field(attribute.GetProperty("name").GetString()!,
                attribute.GetProperty("multiValued").GetBoolean() ? new Shape(ValueKind.Array, [], single) : single);
        }
    }
}
