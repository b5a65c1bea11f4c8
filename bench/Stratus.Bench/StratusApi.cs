using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.Bench;

/// <summary>
/// One signed-in account's calls to the public API. A refused call throws with the status and the problem
/// the service answered: the benchmark stops on it rather than measure a run that went wrong.
/// </summary>
internal sealed class StratusApi(HttpClient http) : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<StratusApi> SignInAsync(Uri baseAddress, string userName, string password, CancellationToken cancellationToken)
    {
        // Generous: under the benchmark's own load a call may wait for the database behind hundreds of others.
        var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(120) };
        try
        {
            var token = await new StratusApi(http).SendAsync<TokenBody>(HttpMethod.Post, "/api/v1/auth/token", new { userName, password }, cancellationToken);
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.AccessToken);
            return new StratusApi(http);
        }
        catch
        {
            http.Dispose();
            throw;
        }
    }

    public async Task<T> GetAsync<T>(string path, CancellationToken cancellationToken) =>
        await SendAsync<T>(HttpMethod.Get, path, null, cancellationToken);

    /// <summary>The body's "id", as creations answer it.</summary>
    public async Task<Guid> CreateAsync(string path, object body, CancellationToken cancellationToken) =>
        (await SendAsync<IdBody>(HttpMethod.Post, path, body, cancellationToken)).Id;

    public async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var response = await SendCheckedAsync(method, path, body, cancellationToken);
        return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken)
            ?? throw new InvalidOperationException($"{method} {path} answered no body.");
    }

    public async Task SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var response = await SendCheckedAsync(method, path, body, cancellationToken);
    }

    public void Dispose() => http.Dispose();

    private async Task<HttpResponseMessage> SendCheckedAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body, options: Json) };
        var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var problem = await response.Content.ReadAsStringAsync(cancellationToken);
            response.Dispose();
            throw new InvalidOperationException($"{method} {path} answered {(int)response.StatusCode}: {problem}");
        }

        return response;
    }

    private sealed record TokenBody(string AccessToken);

    private sealed record IdBody(Guid Id);
}
