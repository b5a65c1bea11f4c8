using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Platform.Idempotency;

namespace Stratus.Platform.Tests.Idempotency;

/// <summary>What the Idempotency-Key tests send and check: a request with its key, and a problem with its stable code.</summary>
internal static class IdempotencyRequests
{
    public static Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, string key, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        request.Headers.Add(IdempotencyMiddleware.Header, key);
        return client.SendAsync(request);
    }

    public static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status}, got {(int)response.StatusCode}: {text}");
        var problem = JsonSerializer.Deserialize<JsonElement>(text);
        Assert.Equal("https://stratus.dev/problems/" + code, problem.GetProperty("type").GetString());
        return problem;
    }
}
