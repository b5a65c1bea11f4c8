using System.Net.Http.Json;

namespace Stratus.IntegrationTests.Support;

internal sealed record TokenBody(string AccessToken, string TokenType, int ExpiresIn);

internal sealed record MeBody(Guid Id, string UserName, Guid? TenantId, IReadOnlyList<string> Roles);

internal sealed record AuditActorBody(Guid? Id, string UserPrincipalName, string? IpAddress);

internal sealed record AuditEventBody(Guid Id, string DisplayName, string ActivityType, string ActivityResult, DateTimeOffset ActivityDateTime, AuditActorBody Actor)
{
    public override string ToString() => $"{ActivityResult} {Actor.UserPrincipalName}: {DisplayName}";
}

internal sealed record PageBody<T>(IReadOnlyList<T> Value, int TotalCount);

internal static class Api
{
    public const string Operator = "operator";

    public static Task<HttpResponseMessage> RequestTokenAsync(this HttpClient http, string userName, string password) =>
        http.PostAsJsonAsync("/api/v1/auth/token", new { userName, password });

    /// <summary>The whole platform-level audit log (the operator's view), newest first.</summary>
    public static async Task<PageBody<AuditEventBody>> AuditEventsAsync(this HttpClient http)
    {
        using var response = await http.GetAsync("/api/v1/auditEvents?$top=1000");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET /api/v1/auditEvents answered {(int)response.StatusCode}: {body}");
        return System.Text.Json.JsonSerializer.Deserialize<PageBody<AuditEventBody>>(body, System.Text.Json.JsonSerializerOptions.Web)!;
    }
}
