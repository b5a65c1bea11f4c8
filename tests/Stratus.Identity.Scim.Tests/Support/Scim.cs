using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Stratus.Identity.Scim.Tests.Support;

/// <summary>An answer of the SCIM service: status, media type, Location and the JSON body.</summary>
public sealed record ScimReply(HttpStatusCode Status, string? MediaType, Uri? Location, string Text)
{
    public JsonElement Body => Text.Length == 0 ? default : JsonDocument.Parse(Text).RootElement;

    public override string ToString() => $"{(int)Status} {MediaType}: {Text}";
}

public static class Scim
{
    public const string UserSchema = "urn:ietf:params:scim:schemas:core:2.0:User";
    public const string GroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group";
    public const string PatchOpSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
    public const string ErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error";
    public const string ListResponseSchema = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
    public const string MediaType = "application/scim+json";

    /// <summary>Sends a request as identity providers do: application/scim+json both ways.</summary>
    public static async Task<ScimReply> ScimSendAsync(this HttpClient client, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaType));
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, MediaType);
        }

        using var response = await client.SendAsync(request);
        return new ScimReply(response.StatusCode, response.Content.Headers.ContentType?.MediaType, response.Headers.Location,
            await response.Content.ReadAsStringAsync());
    }

    public static Task<ScimReply> ScimGetAsync(this HttpClient client, string path) => client.ScimSendAsync(HttpMethod.Get, path);

    public static Task<ScimReply> ScimPostAsync(this HttpClient client, string path, string json) => client.ScimSendAsync(HttpMethod.Post, path, json);

    public static Task<ScimReply> ScimPutAsync(this HttpClient client, string path, string json) => client.ScimSendAsync(HttpMethod.Put, path, json);

    public static Task<ScimReply> ScimPatchAsync(this HttpClient client, string path, string json) => client.ScimSendAsync(HttpMethod.Patch, path, json);

    public static Task<ScimReply> ScimDeleteAsync(this HttpClient client, string path) => client.ScimSendAsync(HttpMethod.Delete, path);

    /// <summary>A PatchOp request with the given operations (each a JSON object).</summary>
    public static string Patch(params string[] operations) =>
        $$"""{"schemas":["{{PatchOpSchema}}"],"Operations":[{{string.Join(",", operations)}}]}""";

    /// <summary>A query string value, escaped: filters carry spaces and quotes.</summary>
    public static string Filter(string filter) => "filter=" + Uri.EscapeDataString(filter);

    /// <summary>A JSON string literal, escaped.</summary>
    public static string Json(string value) => JsonSerializer.Serialize(value);

    public static JsonElement AssertStatus(ScimReply reply, HttpStatusCode status)
    {
        Assert.True(reply.Status == status, $"Expected {(int)status}, got {reply}");
        if (reply.Text.Length > 0)
        {
            Assert.Equal(MediaType, reply.MediaType);
        }

        return reply.Body;
    }

    /// <summary>Asserts SCIM's error shape (RFC 7644 section 3.12): the Error schema, the status as a string, the scimType.</summary>
    public static JsonElement AssertError(ScimReply reply, HttpStatusCode status, string? scimType)
    {
        var body = AssertStatus(reply, status);
        Assert.Equal([ErrorSchema], body.GetProperty("schemas").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(JsonValueKind.String, body.GetProperty("status").ValueKind);
        Assert.Equal(((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture), body.GetProperty("status").GetString());
        if (scimType is null)
        {
            Assert.False(body.TryGetProperty("scimType", out _), $"Expected no scimType: {reply}");
        }
        else
        {
            Assert.True(body.TryGetProperty("scimType", out var type), $"Expected scimType {scimType}: {reply}");
            Assert.Equal(scimType, type.GetString());
        }

        Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("detail").GetString()), reply.ToString());
        return body;
    }

    /// <summary>The resources of a ListResponse, after checking its shape.</summary>
    public static List<JsonElement> AssertList(ScimReply reply, int totalResults)
    {
        var body = AssertStatus(reply, HttpStatusCode.OK);
        Assert.Equal([ListResponseSchema], body.GetProperty("schemas").EnumerateArray().Select(s => s.GetString()));
        Assert.True(totalResults == body.GetProperty("totalResults").GetInt32(), $"Expected totalResults {totalResults}: {reply}");
        var resources = body.GetProperty("Resources").EnumerateArray().ToList();
        Assert.Equal(resources.Count, body.GetProperty("itemsPerPage").GetInt32());
        return resources;
    }

    public static string Id(this ScimReply reply) => reply.Body.GetProperty("id").GetString()!;

    /// <summary>A user as Entra ID's provisioning service posts it (its default attribute mappings).</summary>
    public static string EntraUser(string userName, string externalId, string givenName, string familyName) => $$"""
        {
          "schemas": ["{{UserSchema}}", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
          "externalId": "{{externalId}}",
          "userName": "{{userName}}",
          "active": true,
          "displayName": "{{givenName}} {{familyName}}",
          "emails": [{"primary": true, "type": "work", "value": "{{userName}}"}],
          "meta": {"resourceType": "User"},
          "name": {"formatted": "{{givenName}} {{familyName}}", "familyName": "{{familyName}}", "givenName": "{{givenName}}"},
          "roles": [],
          "title": "Engineer",
          "preferredLanguage": "en-US",
          "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "1001", "department": "R&D"}
        }
        """;

    /// <summary>A plain user for set-up.</summary>
    public static string User(string userName, string? displayName = null) =>
        $$"""{"schemas":["{{UserSchema}}"],"userName":{{Json(userName)}},"displayName":{{Json(displayName ?? userName)}},"active":true}""";

    public static string Group(string displayName, params string[] memberIds) =>
        $$"""{"schemas":["{{GroupSchema}}"],"displayName":{{Json(displayName)}},"members":[{{string.Join(",", memberIds.Select(id => $$"""{"value":"{{id}}"}"""))}}]}""";

    public static async Task<string> CreateUserAsync(this ScimTenant tenant, string name)
    {
        var reply = await tenant.Scim.ScimPostAsync("/scim/v2/Users", User(tenant.Upn(name), name));
        AssertStatus(reply, HttpStatusCode.Created);
        return reply.Id();
    }

    public static async Task<string> CreateGroupAsync(this ScimTenant tenant, string name, params string[] memberIds)
    {
        var reply = await tenant.Scim.ScimPostAsync("/scim/v2/Groups", Group(name, memberIds));
        AssertStatus(reply, HttpStatusCode.Created);
        return reply.Id();
    }
}
