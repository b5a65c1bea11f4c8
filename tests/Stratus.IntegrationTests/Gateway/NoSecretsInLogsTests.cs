using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Gateway;

/// <summary>
/// The services run apart (`stratus run --targets all`) with every request line logged, as an operator who turns them
/// on gets, and a `stratus host` agent enrolled with a token, running a real QEMU Cloud PC.
/// </summary>
public sealed class RequestLinesOnFixture : RemoteHostConsoleFixture
{
    protected override Task<StratusProcess> StartStratusAsync(string dataFolder, Dictionary<string, string?> settings)
    {
        settings["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information";
        return base.StartStratusAsync(dataFolder, settings);
    }
}

/// <summary>
/// No log line carries a secret: passwords (right and wrong), bearer tokens, the portal's session cookie, the SCIM
/// token, a host's enrollment token and agent token, and console tickets (used, and forged) appear in none of the
/// control plane's or the agent's output, nor in any log file of either data folder.
/// </summary>
public sealed class NoSecretsInLogsTests(RequestLinesOnFixture fixture) : IClassFixture<RequestLinesOnFixture>
{
    [Fact]
    public async Task Sign_in_scim_enrollment_and_a_console_session_leave_no_password_token_ticket_or_secret_in_any_log_line()
    {
        var secrets = new Dictionary<string, string>
        {
            ["the operator's password"] = TestAccounts.OperatorPassword,
            ["the tenant administrator's password"] = ConsoleFixture.AdminPassword,
            ["Ada's password"] = "ada-password-123",
            ["Bob's password"] = "bob-password-123",
        };
        foreach (var (who, client) in new[] { ("admin", fixture.Admin), ("Ada", fixture.Ada), ("Bob", fixture.Bob), ("the other operator", fixture.OtherOperator) })
        {
            secrets[$"{who}'s bearer token"] = client.DefaultRequestHeaders.Authorization!.Parameter!;
        }

        for (var i = 0; i < fixture.EnrollmentTokens.Count; i++)
        {
            secrets[$"enrollment token {i + 1}"] = fixture.EnrollmentTokens[i];
        }

        var agentIdentity = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(fixture.AgentDataPath, "agent.json"))).RootElement;
        secrets["the agent's token"] = agentIdentity.GetProperty("agentToken").GetString()!;

        // Sign-in as the admin portal does it (a cookie), and a wrong password before it.
        using var cookies = new HttpClientHandler { CookieContainer = new CookieContainer() };
        using var portal = new HttpClient(cookies) { BaseAddress = fixture.Stratus.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var wrongPassword = $"wrong-password-{Guid.NewGuid():N}";
        secrets["a wrong password"] = wrongPassword;
        Assert.Equal(HttpStatusCode.Unauthorized, (await portal.PostAsJsonAsync("/api/v1/auth/signin", new { userName = $"ada@{fixture.Domain}", password = wrongPassword })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await portal.PostAsJsonAsync("/api/v1/auth/signin", new { userName = $"ada@{fixture.Domain}", password = "ada-password-123" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await portal.GetAsync("/api/v1/me")).StatusCode);
        secrets["the portal's session cookie"] = cookies.CookieContainer.GetAllCookies().Single(c => c.Name == "stratus.session").Value;

        // An API token, and a body that cannot be read, with a password in it and a token in its header.
        var issued = await fixture.Stratus.Http.PostAsJsonAsync("/api/v1/auth/token", new { userName = $"bob@{fixture.Domain}", password = "bob-password-123" });
        Assert.Equal(HttpStatusCode.OK, issued.StatusCode);
        var apiToken = (await issued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
        secrets["an API token"] = apiToken;
        using (var broken = new HttpRequestMessage(HttpMethod.Post, "/api/v1/users"))
        {
            var brokenPassword = $"password-in-a-broken-body-{Guid.NewGuid():N}";
            secrets["a password in a body that cannot be read"] = brokenPassword;
            broken.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fixture.Admin.DefaultRequestHeaders.Authorization!.Parameter);
            broken.Content = new StringContent($$"""{"userPrincipalName": "kim@{{fixture.Domain}}", "passwordProfile": {"password": "{{brokenPassword}}" """, Encoding.UTF8, "application/json");
            Assert.Equal(HttpStatusCode.BadRequest, (await fixture.Stratus.Http.SendAsync(broken)).StatusCode);
        }

        // SCIM: a token, a user provisioned with a password (accepted and ignored), a lookup, and a wrong token.
        var scimTokenResponse = await fixture.Admin.PostAsync("/api/v1/scim/token", null);
        Assert.Equal(HttpStatusCode.OK, scimTokenResponse.StatusCode);
        var scimToken = (await scimTokenResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        secrets["the SCIM token"] = scimToken;
        var scimPassword = $"scim-password-{Guid.NewGuid():N}";
        secrets["a password sent through SCIM"] = scimPassword;
        using (var scim = new HttpClient { BaseAddress = fixture.Stratus.BaseAddress, Timeout = TimeSpan.FromSeconds(60) })
        {
            scim.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", scimToken);
            var user = $$"""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"sam@{{fixture.Domain}}","displayName":"Sam","active":true,"password":"{{scimPassword}}"}""";
            var created = await scim.PostAsync("/scim/v2/Users", new StringContent(user, Encoding.UTF8, "application/scim+json"));
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.OK, (await scim.GetAsync($"/scim/v2/Users?filter={Uri.EscapeDataString($"userName eq \"sam@{fixture.Domain}\"")}")).StatusCode);
            var wrongScimToken = "stratus_scim_" + Convert.ToBase64String(Guid.NewGuid().ToByteArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            secrets["a wrong SCIM token"] = wrongScimToken;
            scim.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", wrongScimToken);
            Assert.Equal(HttpStatusCode.Unauthorized, (await scim.GetAsync("/scim/v2/Users")).StatusCode);
        }

        // A console session through the agent's relay, and a forged ticket refused.
        var connect = await fixture.Ada.PostAsync($"/api/v1/me/cloudPCs/{fixture.PcId}/connect", null);
        Assert.True(connect.StatusCode == HttpStatusCode.OK, await connect.Content.ReadAsStringAsync());
        var ticket = ConsoleTicket.From(fixture.Stratus, await connect.Content.ReadFromJsonAsync<JsonElement>());
        secrets["a console ticket"] = ticket.Token;
        using (var console = await ticket.ConnectAsync())
        {
            var buffer = new byte[64];
            var greeting = await console.ReceiveAsync(buffer, CancellationToken.None);
            Assert.Equal("RFB 003.008\n", Encoding.ASCII.GetString(buffer, 0, greeting.Count));
            await console.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        }

        var forged = ticket.WithToken($"forged{Guid.NewGuid():N}");
        secrets["a forged console ticket"] = forged.Token;
        using (var refused = forged.Socket())
        {
            await Assert.ThrowsAsync<WebSocketException>(() => refused.ConnectAsync(forged.Url, CancellationToken.None));
            Assert.Equal(HttpStatusCode.Forbidden, refused.HttpStatusCode);
        }

        // Everything is logged by now: the session ended on both sides, and the request lines include the console's.
        await Eventually.MatchesAsync(() => Task.FromResult(fixture.AgentOutput), o => Regex.IsMatch(o, @"Console relay \S+ of VM \S+ ended"), "the agent to end the relay");
        await Eventually.MatchesAsync(() => Task.FromResult(fixture.Stratus.Output), o => o.Contains("Request finished HTTP/1.1 GET", StringComparison.Ordinal)
            && o.Contains("/api/v1/gateway/console", StringComparison.Ordinal) && o.Contains("/scim/v2/Users", StringComparison.Ordinal), "the request lines of the console and SCIM");

        var logs = new Dictionary<string, string> { ["stratus run (stdout and stderr)"] = fixture.Stratus.Output, ["stratus host (stdout and stderr)"] = fixture.AgentOutput };
        foreach (var file in new[] { fixture.Stratus.DataFolder, fixture.AgentDataPath }.SelectMany(folder => Directory.EnumerateFiles(folder, "*.log", SearchOption.AllDirectories)))
        {
            logs[file] = SharedFile.ReadAll(file);
        }

        Assert.Contains(logs.Keys, k => k.EndsWith("serial.log", StringComparison.Ordinal));
        Assert.All(secrets.Values, secret => Assert.True(secret.Length >= 16, $"a secret long enough not to match by chance: {secret}"));
        var found = (from secret in secrets from log in logs where log.Value.Contains(secret.Value, StringComparison.Ordinal) select $"{secret.Key} in {log.Key}").ToList();
        Assert.True(found.Count == 0, "Secrets in the logs:\n" + string.Join("\n", found));
    }
}
