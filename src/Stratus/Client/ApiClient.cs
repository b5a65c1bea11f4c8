using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Stratus.Client;

/// <summary>A failure the CLI reports as one line: what went wrong and what to do.</summary>
internal sealed class ClientException(string message) : Exception(message);

/// <summary>
/// Where `stratus login` keeps the session: the API's URL and a bearer token, readable only by the user, and the pin
/// of the server's certificate when login was given one (--cert-hash): every later command pins it too.
/// </summary>
internal sealed record Credentials(Uri Url, string UserName, string AccessToken, DateTimeOffset ExpiresAt, string? CertificatePin = null)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static string FilePath
    {
        get
        {
            var config = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } xdg
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
            return Path.Combine(config, "stratus", "credentials.json");
        }
    }

    public static Credentials Load()
    {
        if (!File.Exists(FilePath))
        {
            throw new ClientException("not signed in: run 'stratus login --url URL --user NAME' first.");
        }

        var credentials = JsonSerializer.Deserialize<Credentials>(File.ReadAllText(FilePath), Json)
            ?? throw new ClientException($"{FilePath} is empty: run 'stratus login' again.");
        return credentials.ExpiresAt > TimeProvider.System.GetUtcNow()
            ? credentials
            : throw new ClientException($"your session as {credentials.UserName} expired: run 'stratus login' again.");
    }

    public void Save()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(FilePath, options);
        JsonSerializer.Serialize(stream, this, Json);
    }
}

/// <summary>The public API as the CLI uses it: every answer is JSON, every error a problem detail turned into one line.</summary>
internal sealed class ApiClient(HttpClient http, bool signedIn, PinnedServer? pin = null) : IDisposable
{
    /// <param name="timeout">A request's deadline: a minute, unless the caller keeps one of its own (an upload's stall watch).</param>
    public static ApiClient SignedIn(TimeSpan? timeout = null)
    {
        var credentials = Credentials.Load();
        var pin = credentials.CertificatePin is null ? null : PinnedServer.Parse(credentials.CertificatePin, Credentials.FilePath);
        var http = new HttpClient(PinnedServer.Handler(pin)) { BaseAddress = credentials.Url, Timeout = timeout ?? TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credentials.AccessToken);
        return new ApiClient(http, signedIn: true, pin);
    }

    public static ApiClient Anonymous(Uri url, PinnedServer? pin = null) =>
        new(new HttpClient(PinnedServer.Handler(pin)) { BaseAddress = url, Timeout = TimeSpan.FromSeconds(60) }, signedIn: false, pin);

    public Task<JsonNode> GetAsync(string path, CancellationToken cancellationToken) => SendAsync(HttpMethod.Get, path, null, cancellationToken);

    public Task<JsonNode> PostAsync(string path, object? body, CancellationToken cancellationToken) => SendAsync(HttpMethod.Post, path, body, cancellationToken);

    public Task<JsonNode> SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken) =>
        SendAsync(method, path, body is null ? null : JsonContent.Create(body), cancellationToken);

    public async Task<JsonNode> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        var text = await SendForTextAsync(method, path, content, cancellationToken);
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text) ?? new JsonObject();
    }

    /// <summary>A GET whose answer is not JSON (a report as CSV): its body as it came.</summary>
    public Task<string> GetTextAsync(string path, CancellationToken cancellationToken) => SendForTextAsync(HttpMethod.Get, path, null, cancellationToken);

    private async Task<string> SendForTextAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Content = content;

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException) when (pin?.Refused is { } presented)
        {
            throw new ClientException($"refused {http.BaseAddress}: its certificate's key is {presented}, not {pin.Pin}, the pin given to 'stratus login --cert-hash'. "
                + "Another server answers at that address, or its certificate changed; if it did on purpose, run 'stratus login' with the new pin.");
        }
        catch (HttpRequestException e)
        {
            throw new ClientException($"cannot reach Stratus at {http.BaseAddress}: {e.Message}");
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return text;
            }

            throw new ClientException(Describe(response.StatusCode, text));
        }
    }

    /// <summary>A problem detail as one line: its detail, then each field's message.</summary>
    private string Describe(HttpStatusCode status, string text)
    {
        // A refused session means signing in again; a refused sign-in (wrong password, suspended tenant) says why itself.
        if (status == HttpStatusCode.Unauthorized && signedIn)
        {
            return "Stratus does not accept your session: run 'stratus login' again.";
        }

        try
        {
            var problem = JsonNode.Parse(text);
            var errors = problem?["errors"]?.AsObject().Select(e => $"{e.Key}: {string.Join(" ", e.Value!.AsArray().Select(m => m!.GetValue<string>()))}").ToList() ?? [];
            var detail = problem?["detail"]?.GetValue<string>() ?? problem?["title"]?.GetValue<string>() ?? status.ToString();
            return errors.Count > 0 ? string.Join("; ", errors) : detail;
        }
        catch (JsonException)
        {
            return $"{(int)status} {status}";
        }
    }

    public void Dispose() => http.Dispose();
}
