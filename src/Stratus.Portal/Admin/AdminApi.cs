using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.IdentityModel.JsonWebTokens;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Portal.Admin;

/// <summary>
/// The admin portal's only way to read or change anything: the public API, called as the signed-in admin
/// (the same endpoints, checks and audit as the CLI). One per circuit.
/// </summary>
public sealed class AdminApi(ServiceCalls calls, AuthenticationStateProvider authentication, TimeProvider clock)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The user's token is renewed this long before it expires (a circuit outlives a token).</summary>
    private static readonly TimeSpan RenewBefore = TimeSpan.FromMinutes(10);

    private string? token;
    private DateTimeOffset renewAt;

    public async Task<ClaimsPrincipal> UserAsync() => (await authentication.GetAuthenticationStateAsync()).User;

    /// <summary>Reads a resource; a refusal or failure becomes an <see cref="ApiException"/> with the API's own words.</summary>
    public async Task<T> GetAsync<T>(string service, string path, CancellationToken cancellationToken = default)
    {
        var result = await SendAsync(service, HttpMethod.Get, path, null, cancellationToken: cancellationToken);
        return result.Succeeded ? result.Read<T>() : throw new ApiException(result.Problem!);
    }

    /// <summary>
    /// The token identity issued to the signed-in user (kept in the session cookie), renewed at identity's
    /// /api/v1/auth/renew before it expires: the portal never mints one (ADR 0009).
    /// </summary>
    private async Task<string> TokenAsync(CancellationToken cancellationToken)
    {
        if (token is null)
        {
            token = (await UserAsync()).FindFirstValue(StratusClaims.AccessToken) ?? "";
            renewAt = token.Length > 0 ? new DateTimeOffset(new JsonWebToken(token).ValidTo, TimeSpan.Zero) - RenewBefore : DateTimeOffset.MaxValue;
        }

        if (clock.GetUtcNow() >= renewAt)
        {
            using var identity = calls.AsAccount("identity", token);
            using var response = await identity.PostAsync("/api/v1/auth/renew", null, cancellationToken);
            if (response.IsSuccessStatusCode && await response.Content.ReadFromJsonAsync<RenewedToken>(Json, cancellationToken) is { } renewed)
            {
                token = renewed.AccessToken;
                renewAt = clock.GetUtcNow() + TimeSpan.FromSeconds(renewed.ExpiresIn) - RenewBefore;
            }
        }

        return token;
    }

    private sealed record RenewedToken(string AccessToken, int ExpiresIn);

    public async Task<ApiResult> SendAsync(string service, HttpMethod method, string path, object? body,
        string? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: Json);
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        using var client = calls.AsAccount(service, await TokenAsync(cancellationToken));
        try
        {
            using var response = await client.SendAsync(request, cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            var json = text.Length > 0 && response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.Ordinal) == true
                ? JsonDocument.Parse(text).RootElement.Clone()
                : default;
            return response.IsSuccessStatusCode
                ? new ApiResult((int)response.StatusCode, json, null)
                : new ApiResult((int)response.StatusCode, json, ApiProblem.From(response.StatusCode, json));
        }
        catch (HttpRequestException e)
        {
            return new ApiResult(503, default, new ApiProblem("The service could not be reached", $"The {service} service did not answer ({e.Message}). Try again in a moment.", new Dictionary<string, string[]>()));
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ApiResult(504, default, new ApiProblem("The service took too long", $"The {service} service did not answer in time. Try again in a moment.", new Dictionary<string, string[]>()));
        }
    }
}

public sealed record ApiResult(int Status, JsonElement Body, ApiProblem? Problem)
{
    public bool Succeeded => Problem is null;

    public T Read<T>() => Body.Deserialize<T>(AdminApi.Json)!;
}

/// <summary>An RFC 9457 problem as the API sent it: what went wrong, what to do, and which fields.</summary>
public sealed record ApiProblem(string Title, string Detail, IReadOnlyDictionary<string, string[]> Errors)
{
    public static ApiProblem From(HttpStatusCode status, JsonElement body)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
        if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("errors", out var fields) && fields.ValueKind == JsonValueKind.Object)
        {
            foreach (var field in fields.EnumerateObject())
            {
                errors[field.Name] = field.Value.ValueKind == JsonValueKind.Array ? field.Value.EnumerateArray().Select(e => e.GetString() ?? "").ToArray() : [];
            }
        }

        string? Text(string name) => body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var value) ? value.GetString() : null;
        return new ApiProblem(Text("title") ?? $"The request failed ({(int)status})", Text("detail") ?? "", errors);
    }

    /// <summary>The message for one field (the API names fields as in its JSON, e.g. 'displayName'), in the portal's words.</summary>
    public string? For(string field) => Errors.TryGetValue(field, out var messages)
        ? string.Join(" ", messages.Select(m => FieldLabels.Rephrase(field, m)))
        : null;

    /// <summary>
    /// What to tell a person: each wrong field by its label when the API named fields (its detail then only points
    /// at its 'errors' member), else the detail, else the title.
    /// </summary>
    public string Message => Errors.Count > 0
        ? string.Join(" ", Errors.Keys.Select(name => For(name)))
        : Detail.Length > 0 ? Detail : Title;

    /// <summary>
    /// What a form shows above its fields: the messages of fields it does not show next to a field of its own (a
    /// problem the API did not tie to a field, or one about e.g. 'regionNames[0]'), empty when there is none.
    /// </summary>
    public string Besides(params string[] shownFields) => Errors.Count == 0
        ? Message
        : string.Join(" ", Errors.Keys.Where(name => !shownFields.Contains(name, StringComparer.OrdinalIgnoreCase)).Select(name => For(name)));

    /// <summary>
    /// The messages for a field and for its entries, which the API names by index ('dnsServers[1]'), in the portal's
    /// words; null when there is none.
    /// </summary>
    public string? ForEntries(string field)
    {
        var names = Errors.Keys.Where(name => IsEntryOf(name, field)).ToList();
        return names.Count == 0 ? null : string.Join(" ", names.Select(name => For(name)));
    }

    /// <summary>As <see cref="Besides"/>, for a form that shows each field's entries next to the field too.</summary>
    public string BesidesEntries(params string[] shownFields) => Errors.Count == 0
        ? Message
        : string.Join(" ", Errors.Keys.Where(name => !shownFields.Any(field => IsEntryOf(name, field))).Select(name => For(name)));

    private static bool IsEntryOf(string name, string field) =>
        name.Equals(field, StringComparison.OrdinalIgnoreCase) || name.StartsWith(field + "[", StringComparison.OrdinalIgnoreCase);

    public override string ToString() => Errors.Count > 0 ? Message : Detail.Length > 0 ? $"{Title}: {Detail}" : Title;
}

public sealed class ApiException(ApiProblem problem) : Exception(problem.ToString())
{
    public ApiProblem Problem { get; } = problem;
}

public static class AdminRoles
{
    public static bool IsOperator(this ClaimsPrincipal user) => user.IsInRole(StratusRoles.PlatformOperator);

    public static bool IsTenantAdmin(this ClaimsPrincipal user) => user.IsInRole(StratusRoles.TenantAdministrator);

    /// <summary>May change Cloud PCs (tenant and Cloud PC administrators).</summary>
    public static bool CanManageCloudPcs(this ClaimsPrincipal user) => user.IsInRole(StratusRoles.TenantAdministrator) || user.IsInRole(StratusRoles.CloudPcAdministrator);

    /// <summary>May open the admin portal at all.</summary>
    public static bool IsAdmin(this ClaimsPrincipal user) =>
        user.IsOperator() || user.IsTenantAdmin() || user.IsInRole(StratusRoles.CloudPcAdministrator) || user.IsInRole(StratusRoles.CloudPcReader);
}
