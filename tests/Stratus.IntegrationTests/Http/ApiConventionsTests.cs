using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Http;

/// <summary>What every Stratus endpoint has in common: health, documents, metrics, problem details, auth.</summary>
public sealed partial class ApiConventionsTests(StratusUpFixture fixture) : IClassFixture<StratusUpFixture>
{
    private StratusProcess Stratus => fixture.Stratus;

    [Fact]
    public async Task Healthz_Returns200()
    {
        using var response = await Stratus.Http.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Readyz_Returns200_WithEveryStoreAndTheQueuesHealthy()
    {
        using var response = await Stratus.Http.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Healthy", body.GetProperty("status").GetString());
        var checks = body.GetProperty("checks").EnumerateObject().ToDictionary(c => c.Name, c => c.Value.GetProperty("status").GetString());
        Assert.Contains("queues", checks.Keys);
        Assert.Contains("store:platform", checks.Keys);
        Assert.Contains("store:identity", checks.Keys);
        Assert.Contains("store:diagnostics", checks.Keys);
        Assert.All(checks.Values, status => Assert.Equal("Healthy", status));
    }

    [Fact]
    public async Task OpenApiDocument_DescribesTheTokenEndpoint()
    {
        using var response = await Stratus.Http.GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.StartsWith("3.", document.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        var paths = document.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/v1/auth/token", out var token), "No /api/v1/auth/token in the OpenAPI paths.");
        Assert.True(token.TryGetProperty("post", out _));
        Assert.True(paths.TryGetProperty("/api/v1/me", out _));
    }

    [Fact]
    public async Task Docs_ServesTheApiReference_FromLocalAssets()
    {
        using var page = await Stratus.Http.GetAsync("/docs");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("openapi/v1.json", html, StringComparison.Ordinal);
        var scripts = ScriptSource().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(scripts);

        // We run offline: every script comes from this server, none from a CDN.
        Assert.All(scripts, src => Assert.False(src.StartsWith("http:", StringComparison.OrdinalIgnoreCase)
            || src.StartsWith("https:", StringComparison.OrdinalIgnoreCase) || src.StartsWith("//", StringComparison.Ordinal), src));
        var sizes = new List<long>();
        foreach (var src in scripts)
        {
            using var asset = await Stratus.Http.GetAsync(new Uri(page.RequestMessage!.RequestUri!, src));
            Assert.True(asset.IsSuccessStatusCode, $"{src}: {(int)asset.StatusCode}");
            Assert.Contains("javascript", asset.Content.Headers.ContentType?.MediaType ?? "", StringComparison.Ordinal);
            sizes.Add((await asset.Content.ReadAsByteArrayAsync()).LongLength);
        }

        // The reference itself is a large bundle; an empty placeholder would not render anything.
        Assert.Contains(sizes, size => size > 100_000);

        // Left on, the bundle loads its fonts from fonts.scalar.com.
        Assert.Contains("\"withDefaultFonts\":false", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_ArePrometheusText_WithHttpServerMetrics()
    {
        // At least one request for the server metrics to count.
        using var request = await Stratus.Http.GetAsync("/api/v1/me");

        var text = await Eventually.MatchesAsync(
            async () =>
            {
                using var response = await Stratus.Http.GetAsync("/metrics");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
                return await response.Content.ReadAsStringAsync();
            },
            text => text.Contains("http_server_request_duration_seconds", StringComparison.Ordinal),
            "the request duration metric", TimeSpan.FromSeconds(20));

        Assert.Contains("# TYPE ", text, StringComparison.Ordinal);
        Assert.Matches(new Regex(@"^http_server_request_duration_seconds_count\{.*\} \d+", RegexOptions.Multiline), text);
    }

    [Fact]
    public async Task UnknownPath_Returns404Problem()
    {
        using var response = await Stratus.Http.GetAsync("/api/v1/no-such-thing");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Equal("/api/v1/no-such-thing", problem.GetProperty("instance").GetString());
    }

    [Fact]
    public async Task Token_MalformedJson_Returns400Problem_SayingWhatIsWrong()
    {
        using var content = new StringContent("{\"userName\": \"operator\", ", Encoding.UTF8, "application/json");
        using var response = await Stratus.Http.PostAsync("/api/v1/auth/token", content);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("JSON", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_EmptyFields_Returns400ValidationProblem_NamingEachField()
    {
        using var response = await Stratus.Http.RequestTokenAsync("", " ");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        var fields = problem.GetProperty("errors").EnumerateObject().Select(e => e.Name).ToList();
        Assert.Equal(["password", "userName"], fields.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Me_WithoutToken_Returns401Problem()
    {
        using var response = await Stratus.Http.GetAsync("/api/v1/me");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
    }

    [Fact]
    public async Task Me_WithTokenSignedByTheInstanceKey_IsAccepted()
    {
        // The control for the refusals below: a hand-made token with the real key and valid times works.
        var key = await Tokens.ReadSigningKeyAsync(Stratus.DataFolder);
        var token = Tokens.Sign(key, Tokens.Claims("hand-made", "platformOperator", Now(), TimeSpan.FromMinutes(10)));

        using var response = await SendAsync(HttpMethod.Get, "/api/v1/me", token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var me = await response.Content.ReadFromJsonAsync<MeBody>();
        Assert.Equal("hand-made", me!.UserName);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("forged")]
    [InlineData("forgedUnknownKey")]
    [InlineData("sharedSecret")]
    [InlineData("unsigned")]
    [InlineData("expired")]
    [InlineData("wrongAudience")]
    public async Task Me_WithBadToken_Returns401Problem(string kind)
    {
        var key = await Tokens.ReadSigningKeyAsync(Stratus.DataFolder);
        var valid = Tokens.Claims("hand-made", "platformOperator", Now(), TimeSpan.FromMinutes(10));
        var token = kind switch
        {
            "garbage" => "not-a-token",
            "forged" => Tokens.Sign(SigningKey.Forged(key.Kid), valid),
            "forgedUnknownKey" => Tokens.Sign(SigningKey.Forged("k" + long.MaxValue), valid),
            "sharedSecret" => Tokens.SignHmac(RandomNumberGenerator.GetBytes(64), valid),
            "unsigned" => Tokens.Unsigned(valid),
            "expired" => Tokens.Sign(key, Tokens.Claims("hand-made", "platformOperator", Now() - TimeSpan.FromHours(2), TimeSpan.FromHours(1))),
            "wrongAudience" => Tokens.Sign(key, new Dictionary<string, object>(valid) { ["aud"] = "someone-else" }),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        using var response = await SendAsync(HttpMethod.Get, "/api/v1/me", token);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task DeadLetters_Operator200_Anonymous401_TenantAdministrator403()
    {
        using var operatorClient = await Stratus.OperatorClientAsync();
        using var asOperator = await operatorClient.GetAsync("/api/v1/deadLetters");
        Assert.Equal(HttpStatusCode.OK, asOperator.StatusCode);
        var page = await asOperator.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(JsonValueKind.Array, page.GetProperty("value").ValueKind);

        using var anonymous = await Stratus.Http.GetAsync("/api/v1/deadLetters");
        await ProblemAssert.IsProblemAsync(anonymous, HttpStatusCode.Unauthorized);

        // No endpoint creates tenant accounts yet, so the tenant administrator's token is made by hand.
        var key = await Tokens.ReadSigningKeyAsync(Stratus.DataFolder);
        var tenant = Guid.NewGuid();
        var token = Tokens.Sign(key, Tokens.Claims("admin@contoso", "tenantAdministrator", Now(), TimeSpan.FromMinutes(10), tenant));
        using var me = await SendAsync(HttpMethod.Get, "/api/v1/me", token);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        Assert.Equal(tenant, (await me.Content.ReadFromJsonAsync<MeBody>())!.TenantId);

        using var forbidden = await SendAsync(HttpMethod.Get, "/api/v1/deadLetters", token);
        await ProblemAssert.IsProblemAsync(forbidden, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task TenantEndpoint_WithTheOperatorsToken_Returns403Problem()
    {
        // Groups belong to a tenant; the platform operator belongs to none and holds no tenant role.
        using var client = await Stratus.OperatorClientAsync();
        using var response = await client.GetAsync("/api/v1/groups");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task ValidationProblem_OnQueryParameters_NamesTheParameter()
    {
        using var client = await Stratus.OperatorClientAsync();
        using var response = await client.GetAsync("/api/v1/deadLetters?$top=0");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("$top", out _), problem.ToString());
    }

    private static DateTimeOffset Now() => TimeProvider.System.GetUtcNow();

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string token)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await Stratus.Http.SendAsync(request);
    }

    [GeneratedRegex("<script[^>]*\\ssrc=\"([^\"]+)\"", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptSource();
}
