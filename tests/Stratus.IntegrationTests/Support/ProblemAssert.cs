using System.Net;
using System.Text.Json;

namespace Stratus.IntegrationTests.Support;

internal static class ProblemAssert
{
    /// <summary>
    /// Asserts an RFC 9457 answer: the problem media type, the status in the body too, a title, and the
    /// request id an operator can look up in the logs. Returns the body for further checks.
    /// </summary>
    public static async Task<JsonElement> IsProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()), body);
        Assert.True(problem.TryGetProperty("requestId", out var requestId) && !string.IsNullOrWhiteSpace(requestId.GetString()),
            $"The problem has no requestId: {body}");
        return problem;
    }
}
