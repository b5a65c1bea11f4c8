using System.Net;
using System.Text.Json;

namespace Stratus.Provisioning.Tests.Support;

public static class Problem
{
    /// <summary>Asserts an RFC 9457 answer with the status, and returns its body.</summary>
    public static async Task<JsonElement> AssertAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {status}, got {response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Equal((int)status, body.GetProperty("status").GetInt32());
        return body;
    }

    /// <summary>Asserts a 409 with the stable code in its type, and returns its detail.</summary>
    public static async Task<string> AssertConflictAsync(HttpResponseMessage response, string code)
    {
        var body = await AssertAsync(response, HttpStatusCode.Conflict);
        Assert.Equal("https://stratus.dev/problems/" + code, body.GetProperty("type").GetString());
        return body.GetProperty("detail").GetString()!;
    }

    /// <summary>Asserts a 400 that names exactly these fields in its errors, and returns the first field's first message.</summary>
    public static async Task<string> AssertValidationAsync(HttpResponseMessage response, params string[] fields)
    {
        var body = await AssertAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("https://stratus.dev/problems/validation", body.GetProperty("type").GetString());
        var errors = body.GetProperty("errors");
        Assert.Equal(fields.Order(StringComparer.Ordinal), errors.EnumerateObject().Select(e => e.Name).Order(StringComparer.Ordinal));
        return errors.GetProperty(fields[0])[0].GetString()!;
    }
}
