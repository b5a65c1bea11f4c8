using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Stratus.Identity.Scim;

/// <summary>/ServiceProviderConfig, /Schemas and /ResourceTypes (RFC 7644 section 4): what this SCIM service supports.</summary>
public static class ScimDiscoveryApi
{
    public static RouteGroupBuilder MapScimDiscovery(this RouteGroupBuilder scim)
    {
        ArgumentNullException.ThrowIfNull(scim);
        scim.MapGet("/ServiceProviderConfig", (HttpContext http) => ScimResponse.Ok(ServiceProviderConfig(http.Request))).WithName("ScimServiceProviderConfig");
        scim.MapGet("/Schemas", (HttpContext http) => ScimResponse.Ok(List(Schemas(http.Request)))).WithName("ScimListSchemas");
        scim.MapGet("/Schemas/{id}", (string id, HttpContext http) => Find(Schemas(http.Request), id, "schema")).WithName("ScimGetSchema");
        scim.MapGet("/ResourceTypes", (HttpContext http) => ScimResponse.Ok(List(ResourceTypes(http.Request)))).WithName("ScimListResourceTypes");
        scim.MapGet("/ResourceTypes/{id}", (string id, HttpContext http) => Find(ResourceTypes(http.Request), id, "resource type")).WithName("ScimGetResourceType");
        return scim;
    }

    private static JsonObject List(IReadOnlyList<JsonObject> resources) => ScimRequest.ListResponse(resources, resources.Count, 1);

    private static Results<ScimResponse, ScimError> Find(IReadOnlyList<JsonObject> resources, string id, string what) =>
        resources.FirstOrDefault(r => string.Equals((string?)r["id"], id, StringComparison.OrdinalIgnoreCase)) is { } found
            ? ScimResponse.Ok(found)
            : ScimError.NotFound(what, id);

    private static string BaseUrl(HttpRequest request) => $"{request.Scheme}://{request.Host}{request.PathBase}{ScimModule.BasePath}";

    private static JsonObject ServiceProviderConfig(HttpRequest request) => new()
    {
        ["schemas"] = new JsonArray(ScimSchemas.ServiceProviderConfig),
        ["documentationUri"] = "https://stratus.dev/docs/scim",
        ["patch"] = new JsonObject { ["supported"] = true },
        ["bulk"] = new JsonObject { ["supported"] = false, ["maxOperations"] = 0, ["maxPayloadSize"] = ScimModule.MaxBodyBytes },
        ["filter"] = new JsonObject { ["supported"] = true, ["maxResults"] = ScimRequest.MaxCount },
        ["changePassword"] = new JsonObject { ["supported"] = false },
        ["sort"] = new JsonObject { ["supported"] = false },
        ["etag"] = new JsonObject { ["supported"] = false },
        ["authenticationSchemes"] = new JsonArray(new JsonObject
        {
            ["type"] = "oauthbearertoken",
            ["name"] = "OAuth Bearer Token",
            ["description"] = "The tenant's SCIM token, created by a tenant administrator with POST /api/v1/scim/token.",
            ["primary"] = true,
        }),
        ["meta"] = new JsonObject { ["resourceType"] = "ServiceProviderConfig", ["location"] = BaseUrl(request) + "/ServiceProviderConfig" },
    };

    private static List<JsonObject> ResourceTypes(HttpRequest request) =>
    [
        ResourceType(request, "User", "/Users", "User Account", ScimSchemas.User),
        ResourceType(request, "Group", "/Groups", "Group", ScimSchemas.Group),
    ];

    private static JsonObject ResourceType(HttpRequest request, string id, string endpoint, string description, string schema) => new()
    {
        ["schemas"] = new JsonArray(ScimSchemas.ResourceType),
        ["id"] = id,
        ["name"] = id,
        ["endpoint"] = endpoint,
        ["description"] = description,
        ["schema"] = schema,
        ["meta"] = new JsonObject { ["resourceType"] = "ResourceType", ["location"] = $"{BaseUrl(request)}/ResourceTypes/{id}" },
    };

    private static List<JsonObject> Schemas(HttpRequest request) =>
    [
        Schema(request, ScimSchemas.User, "User", "User Account",
            Attribute("userName", "string", "The user principal name, name@ the tenant's domain.", required: true, uniqueness: "server"),
            Attribute("name", "complex", "The user's name.", subAttributes:
            [
                Attribute("formatted", "string", "The given and family name.", mutability: "readOnly"),
                Attribute("familyName", "string", "At most 64 characters."),
                Attribute("givenName", "string", "At most 64 characters."),
            ]),
            Attribute("displayName", "string", "At most 256 characters; the name or userName when not given."),
            Attribute("active", "boolean", "False disables the user: it cannot sign in or use its Cloud PCs."),
            Attribute("emails", "complex", "Stratus keeps one address: the primary or work one.", multiValued: true, subAttributes:
            [
                Attribute("value", "string", "The e-mail address."),
                Attribute("type", "string", "work", canonicalValues: ["work"]),
                Attribute("primary", "boolean", "True for the address Stratus keeps."),
            ])),
        Schema(request, ScimSchemas.Group, "Group", "Group",
            Attribute("displayName", "string", "1 to 256 characters.", required: true),
            Attribute("members", "complex", "The member users.", multiValued: true, subAttributes:
            [
                Attribute("value", "string", "The id of a user of the tenant.", mutability: "immutable"),
                Attribute("$ref", "reference", "The user's location.", mutability: "immutable"),
                Attribute("display", "string", "The user's display name.", mutability: "readOnly"),
                Attribute("type", "string", "User", mutability: "immutable", canonicalValues: ["User"]),
            ])),
    ];

    private static JsonObject Schema(HttpRequest request, string id, string name, string description, params JsonObject[] attributes) => new()
    {
        ["schemas"] = new JsonArray(ScimSchemas.Schema),
        ["id"] = id,
        ["name"] = name,
        ["description"] = description,
        ["attributes"] = new JsonArray([.. attributes]),
        ["meta"] = new JsonObject { ["resourceType"] = "Schema", ["location"] = $"{BaseUrl(request)}/Schemas/{id}" },
    };

    private static JsonObject Attribute(string name, string type, string description, bool required = false, bool multiValued = false,
        string mutability = "readWrite", string uniqueness = "none", JsonObject[]? subAttributes = null, string[]? canonicalValues = null)
    {
        var attribute = new JsonObject
        {
            ["name"] = name,
            ["type"] = type,
            ["multiValued"] = multiValued,
            ["description"] = description,
            ["required"] = required,
            ["caseExact"] = false,
            ["mutability"] = mutability,
            ["returned"] = "default",
            ["uniqueness"] = uniqueness,
        };
        if (canonicalValues is not null)
        {
            attribute["canonicalValues"] = new JsonArray([.. canonicalValues.Select(v => JsonValue.Create(v))]);
        }

        if (type == "reference")
        {
            attribute["referenceTypes"] = new JsonArray("User");
        }

        if (subAttributes is not null)
        {
            attribute["subAttributes"] = new JsonArray([.. subAttributes]);
        }

        return attribute;
    }
}
