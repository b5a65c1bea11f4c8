using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Revocation;

/// <summary>A tenant of its own for a revocation test: its administrator, and how to sign its users in both ways.</summary>
internal sealed class RevocationTenant(StratusProcess stratus, Guid id, string domain, HttpClient admin) : IDisposable
{
    public const string Password = "revocation-pass-123";

    /// <summary>How long a revocation may take to reach every credential (issue 17).</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    public Guid Id => id;

    public string Domain => domain;

    public HttpClient Admin => admin;

    public static async Task<RevocationTenant> CreateAsync(StratusProcess stratus)
    {
        using var operatorClient = await stratus.OperatorClientAsync();
        var domain = $"r{Guid.NewGuid():N}"[..14] + ".test";
        var created = await operatorClient.PostAsJsonAsync("/api/v1/tenants", new { displayName = "Revoked " + domain, domain, admin = new { userName = $"admin@{domain}", password = Password } });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tenant").GetProperty("id").GetGuid();
        return new RevocationTenant(stratus, id, domain, await stratus.SignedInClientAsync($"admin@{domain}", Password));
    }

    public async Task<Guid> CreateUserAsync(string name)
    {
        var response = await Admin.PostAsJsonAsync("/api/v1/users", new { userPrincipalName = $"{name}@{Domain}", displayName = name, accountEnabled = true, passwordProfile = new { password = Password } });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    /// <summary>A bearer token's client (the API's credential).</summary>
    public Task<HttpClient> TokenClientAsync(string name) => stratus.SignedInClientAsync($"{name}@{Domain}", Password);

    /// <summary>A portal session's client: the cookie of POST /api/v1/auth/signin, nothing else.</summary>
    public async Task<HttpClient> CookieClientAsync(string name)
    {
        var client = new HttpClient(new HttpClientHandler { UseCookies = true, CookieContainer = new CookieContainer() })
        {
            BaseAddress = stratus.BaseAddress, Timeout = TimeSpan.FromSeconds(30),
        };
        using var signedIn = await client.PostAsJsonAsync("/api/v1/auth/signin", new { userName = $"{name}@{Domain}", password = Password });
        Assert.Equal(HttpStatusCode.NoContent, signedIn.StatusCode);
        return client;
    }

    /// <summary>
    /// Polls GET <paramref name="path"/> with the credential until it is refused with 401, and returns how long that
    /// took from <paramref name="since"/>; fails after <see cref="Limit"/>.
    /// </summary>
    public static async Task<TimeSpan> RefusedWithinLimitAsync(HttpClient credential, string path, Stopwatch since, string what)
    {
        await Eventually.MatchesAsync(async () =>
        {
            using var response = await credential.GetAsync(path);
            return response.StatusCode;
        }, status => status == HttpStatusCode.Unauthorized, $"{what}: GET {path} refused with 401", Limit);
        var took = since.Elapsed;
        Assert.True(took < Limit, $"{what} took {took.TotalSeconds:0.0} s");
        return took;
    }

    public static async Task AnswersAsync(HttpClient credential, string path, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await credential.GetAsync(path);
        Assert.True(response.StatusCode == expected, $"GET {path}: expected {expected}, got {response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    public void Dispose() => Admin.Dispose();
}
