using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Configuration;
using Stratus.Platform.Auth;

namespace Stratus.Platform.Http;

/// <summary>
/// What a service asks identity's token endpoint for as itself: one scope, maybe for a tenant (identity refuses a
/// tenant to a client that acts only for users: it gets one by <see cref="ClientTokens.ExchangeAsync"/>).
/// </summary>
public sealed record ClientTokenRequest(string ClientId, string Scope, Guid? TenantId);

/// <summary>
/// Tokens a service holds for its calls (client credentials at identity), kept until shortly before they
/// expire so that a busy service asks identity once per scope and tenant, not once per call.
/// </summary>
public sealed class ClientTokens(ClientSecrets secrets, TimeProvider clock)
{
    /// <summary>A token is asked for again this long before it expires (a call may still be under way then).</summary>
    private static readonly TimeSpan RenewBefore = TimeSpan.FromMinutes(5);

    private const int MaxCached = 10_000;

    private readonly ConcurrentDictionary<ClientTokenRequest, (string Token, DateTimeOffset RenewAt)> cache = new();

    /// <param name="identity">A client for the identity service's instances.</param>
    public async Task<string> GetAsync(ClientTokenRequest request, Func<HttpClient> identity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(identity);
        var now = clock.GetUtcNow();
        if (cache.TryGetValue(request, out var held) && held.RenewAt > now)
        {
            return held.Token;
        }

        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = request.ClientId,
            ["client_secret"] = secrets.Of(request.ClientId),
            ["scope"] = request.Scope,
        };
        if (request.TenantId is { } tenant)
        {
            form["tenant"] = tenant.ToString();
        }

        var issued = await AskAsync(identity, request.ClientId, request.Scope, form, cancellationToken);
        if (cache.Count >= MaxCached)
        {
            foreach (var stale in cache.Where(e => e.Value.RenewAt <= now).Select(e => e.Key).ToList())
            {
                cache.TryRemove(stale, out _);
            }
        }

        cache[request] = (issued.AccessToken, now + TimeSpan.FromSeconds(issued.ExpiresIn) - RenewBefore);
        return issued.AccessToken;
    }

    /// <summary>
    /// Token exchange (RFC 8693, ADR 0016): a token for <paramref name="scope"/> acting for the user whose own access
    /// token <paramref name="subjectToken"/> is; its tenant and user are that token's. Not kept: it lives minutes and
    /// stands for one request of the user's.
    /// </summary>
    public async Task<string> ExchangeAsync(string clientId, string subjectToken, string scope, Func<HttpClient> identity, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subjectToken);
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = ExchangeGrantType,
            ["client_id"] = clientId,
            ["client_secret"] = secrets.Of(clientId),
            ["scope"] = scope,
            ["subject_token"] = subjectToken,
            ["subject_token_type"] = AccessTokenType,
        };
        return (await AskAsync(identity, clientId, scope, form, cancellationToken)).AccessToken;
    }

    public const string ExchangeGrantType = "urn:ietf:params:oauth:grant-type:token-exchange";
    public const string AccessTokenType = "urn:ietf:params:oauth:token-type:access_token";

    private static async Task<TokenBody> AskAsync(Func<HttpClient> identity, string clientId, string scope, Dictionary<string, string> form, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(identity);
        using var http = identity();
        using var content = new FormUrlEncodedContent(form);
        using var response = await http.PostAsync(StratusTokens.TokenPath, content, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"identity refused a token to the {clientId} client for {scope} ({(int)response.StatusCode}): " +
                await response.Content.ReadAsStringAsync(cancellationToken), null, response.StatusCode);
        }

        return await response.Content.ReadFromJsonAsync<TokenBody>(cancellationToken)
            ?? throw new HttpRequestException("identity answered an empty token response");
    }

    /// <summary>Drops the held token (the other service refused it): the next call asks identity for a fresh one.</summary>
    public void Forget(ClientTokenRequest request) => cache.TryRemove(request, out _);

    private sealed record TokenBody([property: JsonPropertyName("access_token")] string AccessToken, [property: JsonPropertyName("expires_in")] int ExpiresIn);
}

/// <summary>
/// Each service's client secret: Stratus:Clients:NAME:Secret (a distributed deployment gives each instance
/// its own service's, and identity all of them), else one generated into DATA/clients/NAME.secret (all-in-one
/// `stratus up`, where one process is every service).
/// </summary>
public sealed class ClientSecrets(IConfiguration configuration, string dataFolder)
{
    public string Of(string clientId)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        if (configuration[$"Stratus:Clients:{clientId}:Secret"] is { Length: > 0 } configured)
        {
            return configured;
        }

        return SecretFile.ReadOrCreate(Path.Combine(dataFolder, "clients", clientId + ".secret"), () => Convert.ToHexString(RandomNumberGenerator.GetBytes(32)));
    }

    /// <summary>Whether <paramref name="presented"/> is the client's secret, in time that does not depend on where they differ.</summary>
    public bool Verify(string clientId, string presented)
    {
        ArgumentNullException.ThrowIfNull(presented);
        var expected = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Of(clientId)));
        return CryptographicOperations.FixedTimeEquals(expected, SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(presented)));
    }
}

/// <summary>A secret generated once into a file only its owner can read, then read by every process of the data folder.</summary>
public static class SecretFile
{
    public static string ReadOrCreate(string path, Func<string> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            try
            {
                using var writer = new StreamWriter(new FileStream(path, options));
                writer.Write(create());
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process of this data folder wrote it first: theirs is read below.
            }
        }

        return File.ReadAllText(path).Trim();
    }
}
