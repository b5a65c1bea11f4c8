using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Gateway;

/// <summary>
/// The gateway carries a real QEMU VM's display to its own user, once per ticket and within the ticket's life, and
/// to a console operator of the same tenant (audited); to nobody else. Sessions keep round-trip times.
/// </summary>
public sealed partial class ConsoleTests(ConsoleFixture fixture) : IClassFixture<ConsoleFixture>
{
    [Fact]
    public async Task The_user_opens_the_vnc_display_of_their_cloud_pc_with_a_single_use_ticket_and_nobody_else_can()
    {
        // Bob, and even the tenant's admin, cannot open Ada's display through the user's route.
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Bob.PostAsync($"/api/v1/me/cloudPCs/{fixture.PcId}/connect", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Admin.PostAsync($"/api/v1/me/cloudPCs/{fixture.PcId}/connect", null)).StatusCode);

        var ticket = await TicketAsync(fixture.Ada, $"/api/v1/me/cloudPCs/{fixture.PcId}/connect");
        Assert.True(ticket.GetProperty("expiresDateTime").GetDateTimeOffset() <= TimeProvider.System.GetUtcNow() + ConsoleFixture.TicketLifetime,
            "the ticket lives no longer than the configured lifetime");
        var sessionId = ticket.GetProperty("sessionId").GetGuid();
        var url = SocketUrl(ticket);

        // The ticket is not in the URL (request logs, proxies and history keep URLs): it travels as a subprotocol.
        Assert.DoesNotContain(url.Token, url.Url.ToString(), StringComparison.Ordinal);
        Assert.Equal("/api/v1/gateway/console", url.Url.PathAndQuery);
        using (var console = await OpenDisplayAsync(url))
        {
            Assert.Equal(ConsoleTicket.ConsoleProtocol, console.SubProtocol);
            await console.SendAsync(Encoding.ASCII.GetBytes("RFB 003.008\n"), WebSocketMessageType.Binary, true, CancellationToken.None);
            var buffer = new byte[64];
            var received = await console.ReceiveAsync(buffer, CancellationToken.None);
            Assert.True(received.Count >= 2, "the VNC server offers its security types");
            await console.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        }

        // The ticket opened one connection; a second try with it is refused, and says why.
        var (replayStatus, replay) = await fixture.RefusalAsync(url);
        Assert.Equal(HttpStatusCode.Forbidden, replayStatus);
        Assert.Equal("https://stratus.dev/problems/console-ticket-used", replay.GetProperty("type").GetString());

        using (var forged = url.WithToken("forged-ticket").Socket())
        {
            await Assert.ThrowsAsync<WebSocketException>(() => forged.ConnectAsync(url.Url, CancellationToken.None));
            Assert.Equal(HttpStatusCode.Forbidden, forged.HttpStatusCode);
        }

        // Nor does the old way, a fresh ticket in the query string, open anything.
        var fresh = SocketUrl(await TicketAsync(fixture.Ada, $"/api/v1/me/cloudPCs/{fixture.PcId}/connect"));
        var (queryStatus, inQuery) = await fixture.RefusalAsync(fresh with { Url = new Uri(fresh.Url + "?token=" + fresh.Token), Protocols = [ConsoleTicket.ConsoleProtocol] });
        Assert.Equal(HttpStatusCode.Forbidden, queryStatus);
        Assert.Equal("https://stratus.dev/problems/console-ticket-unknown", inQuery.GetProperty("type").GetString());

        var session = await Eventually.MatchesAsync(async () => (await SessionsAsync(fixture.Ada)).FirstOrDefault(s => s.GetProperty("id").GetGuid() == sessionId),
            s => s.ValueKind == JsonValueKind.Object && s.GetProperty("endedAt").ValueKind != JsonValueKind.Null, "the session record");
        Assert.Equal(fixture.AdaId, session.GetProperty("userId").GetGuid());
        Assert.Equal($"ada@{fixture.Domain}", session.GetProperty("cloudPcUserPrincipalName").GetString());
        Assert.True(session.GetProperty("bytesToClient").GetInt64() >= 12);
        Assert.Equal(12, session.GetProperty("bytesFromClient").GetInt64());
        Assert.DoesNotContain(await SessionsAsync(fixture.Bob), s => s.GetProperty("id").GetGuid() == sessionId);
    }

    [Fact]
    public async Task An_expired_ticket_is_refused_with_what_to_do_and_opens_no_session()
    {
        var ticket = await TicketAsync(fixture.Ada, $"/api/v1/me/cloudPCs/{fixture.PcId}/connect");
        var sessionId = ticket.GetProperty("sessionId").GetGuid();
        var url = SocketUrl(ticket);
        var before = (await SessionsAsync(fixture.Ada)).Count;

        await Task.Delay(ConsoleFixture.TicketLifetime + TimeSpan.FromSeconds(1));

        // What a browser sees: the WebSocket handshake answered 403.
        using (var late = url.Socket())
        {
            await Assert.ThrowsAsync<WebSocketException>(() => late.ConnectAsync(url.Url, CancellationToken.None));
            Assert.Equal(HttpStatusCode.Forbidden, late.HttpStatusCode);
        }

        // What the answer says, read as plain HTTP: the ticket expired, and Connect again is the way on.
        var (status, problem) = await fixture.RefusalAsync(url);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("https://stratus.dev/problems/console-ticket-expired", problem.GetProperty("type").GetString());
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("expired", detail, StringComparison.Ordinal);
        Assert.Contains("click Connect again", detail, StringComparison.OrdinalIgnoreCase);

        // Nothing was opened: no session, so nothing to sample either.
        var after = await SessionsAsync(fixture.Ada);
        Assert.Equal(before, after.Count);
        Assert.DoesNotContain(after, s => s.GetProperty("id").GetGuid() == sessionId);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Ada.PostAsync($"/api/v1/me/sessions/{sessionId}/roundTripProbes", null)).StatusCode);
    }

    [Fact]
    public async Task Round_trip_times_are_timed_by_the_gateway_for_the_session_own_user_only_and_bounded()
    {
        var ticket = await TicketAsync(fixture.Ada, $"/api/v1/me/cloudPCs/{fixture.PcId}/connect");
        var sessionId = ticket.GetProperty("sessionId").GetGuid();
        var probes = $"/api/v1/me/sessions/{sessionId}/roundTripProbes";
        var samples = $"/api/v1/me/sessions/{sessionId}/roundTripSamples";
        using var console = await OpenDisplayAsync(SocketUrl(ticket));

        var first = await SampleAsync(fixture.Ada, sessionId);
        Assert.InRange(first.GetProperty("milliseconds").GetDouble(), 0, 5000);

        // Another user of the tenant, its administrator, and another tenant: not their session, so not found.
        var probe = await ProbeAsync(fixture.Ada, sessionId);
        foreach (var stranger in new[] { fixture.Bob, fixture.Admin, fixture.OtherOperator })
        {
            await ProblemAssert.IsProblemAsync(await stranger.PostAsync(probes, null), HttpStatusCode.NotFound);
            await ProblemAssert.IsProblemAsync(await stranger.PostAsJsonAsync(samples, new { probe }), HttpStatusCode.NotFound);
        }

        // Bad echoes: none, forged, a valid one with its time changed (to look faster), and one sent twice.
        var missing = await ProblemAssert.IsProblemAsync(await fixture.Ada.PostAsJsonAsync(samples, new { }), HttpStatusCode.BadRequest);
        Assert.True(missing.GetProperty("errors").TryGetProperty("probe", out _), missing.ToString());
        await ProblemAssert.IsProblemAsync(await fixture.Ada.PostAsJsonAsync(samples, new { probe = "638000000000000000.forged" }), HttpStatusCode.BadRequest);
        var parts = probe.Split('.');
        var tampered = $"{long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture) + 10_000_000}.{parts[1]}";
        await ProblemAssert.IsProblemAsync(await fixture.Ada.PostAsJsonAsync(samples, new { probe = tampered }), HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.Created, (await fixture.Ada.PostAsJsonAsync(samples, new { probe })).StatusCode);
        await ProblemAssert.IsProblemAsync(await fixture.Ada.PostAsJsonAsync(samples, new { probe }), HttpStatusCode.Conflict);

        // A session keeps its latest 120 samples: 2 so far, 125 more.
        for (var i = 0; i < 125; i++)
        {
            await SampleAsync(fixture.Ada, sessionId);
        }

        var session = (await SessionsAsync(fixture.Ada)).Single(s => s.GetProperty("id").GetGuid() == sessionId);
        var times = session.GetProperty("roundTripTimes");
        Assert.Equal(120, times.GetProperty("count").GetInt32());
        var values = times.GetProperty("samples").EnumerateArray().Select(s => s.GetProperty("milliseconds").GetDouble()).ToList();
        Assert.Equal(120, values.Count);
        Assert.Equal(values.Min(), times.GetProperty("minimumMilliseconds").GetDouble());
        Assert.Equal(values.Max(), times.GetProperty("maximumMilliseconds").GetDouble());
        Assert.InRange(times.GetProperty("averageMilliseconds").GetDouble(), values.Average() - 0.01, values.Average() + 0.01);
        var at = times.GetProperty("samples").EnumerateArray().Select(s => s.GetProperty("at").GetDateTimeOffset()).ToList();
        Assert.Equal(at.Order().ToList(), at);
        Assert.DoesNotContain(at, a => a == first.GetProperty("at").GetDateTimeOffset());

        // Once the console closes, the session takes no more samples.
        await console.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        await Eventually.MatchesAsync(async () => (await SessionsAsync(fixture.Ada)).Single(s => s.GetProperty("id").GetGuid() == sessionId).GetProperty("endedAt"),
            e => e.ValueKind != JsonValueKind.Null, "the session to end");
        await ProblemAssert.IsProblemAsync(await fixture.Ada.PostAsync(probes, null), HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task An_admin_connects_to_a_users_cloud_pc_only_with_the_console_operator_role_audited_and_within_the_tenant()
    {
        var route = $"/api/v1/cloudPCs/{fixture.PcId}/connect";

        // Without the role, even the tenant's administrator is refused, and told which role to grant.
        foreach (var caller in new[] { fixture.Admin, fixture.Bob })
        {
            var refused = await ProblemAssert.IsProblemAsync(await caller.PostAsync(route, null), HttpStatusCode.Forbidden);
            Assert.Contains("cloudPcConsoleOperator", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // Another tenant's console operator does not find tenant A's Cloud PC.
        await ProblemAssert.IsProblemAsync(await fixture.OtherOperator.PostAsync(route, null), HttpStatusCode.NotFound);

        var grant = await fixture.Admin.PostAsJsonAsync("/api/v1/roleAssignments", new { principalId = fixture.AdminId, roleDefinitionId = "cloudPcConsoleOperator" });
        Assert.True(grant.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, await grant.Content.ReadAsStringAsync());
        using var operatorAdmin = await fixture.Stratus.SignedInClientAsync($"admin@{fixture.Domain}", ConsoleFixture.AdminPassword);

        var ticket = await TicketAsync(operatorAdmin, route);
        var sessionId = ticket.GetProperty("sessionId").GetGuid();
        using (var console = await OpenDisplayAsync(SocketUrl(ticket)))
        {
            await console.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        }

        // The session is the admin's, on Ada's Cloud PC; Ada's own list does not show it.
        var session = await Eventually.MatchesAsync(async () => (await SessionsAsync(operatorAdmin)).FirstOrDefault(s => s.GetProperty("id").GetGuid() == sessionId),
            s => s.ValueKind == JsonValueKind.Object, "the admin's session");
        Assert.Equal(fixture.AdminId, session.GetProperty("userId").GetGuid());
        Assert.Equal($"admin@{fixture.Domain}", session.GetProperty("userName").GetString());
        Assert.Equal(fixture.PcId, session.GetProperty("cloudPcId").GetGuid());
        Assert.Equal($"ada@{fixture.Domain}", session.GetProperty("cloudPcUserPrincipalName").GetString());
        Assert.DoesNotContain(await SessionsAsync(fixture.Ada), s => s.GetProperty("id").GetGuid() == sessionId);

        // The audit log says who connected, to which Cloud PC, and whose it is.
        var audit = await Eventually.MatchesAsync(async () => (await operatorAdmin.GetFromJsonAsync<JsonElement>("/api/v1/auditEvents?$top=1000")).GetProperty("value")
                .EnumerateArray().FirstOrDefault(e => e.GetProperty("activityType").GetString() == "ConnectAsOperator"),
            e => e.ValueKind == JsonValueKind.Object, "the audit record of the admin's connection");
        Assert.Equal(fixture.AdminId, audit.GetProperty("actor").GetProperty("id").GetGuid());
        Assert.Equal($"admin@{fixture.Domain}", audit.GetProperty("actor").GetProperty("userPrincipalName").GetString());
        var display = audit.GetProperty("displayName").GetString()!;
        Assert.Contains(fixture.PcName, display, StringComparison.Ordinal);
        Assert.Contains($"ada@{fixture.Domain}", display, StringComparison.Ordinal);
        var resources = audit.GetProperty("resources").EnumerateArray().Select(r => r.GetProperty("resourceId").GetString()).ToList();
        Assert.Contains(fixture.PcId.ToString(), resources);
        Assert.Contains(fixture.AdaId.ToString(), resources);

        // The role opens the admin route only: the user's route still answers for one's own Cloud PCs.
        Assert.Equal(HttpStatusCode.NotFound, (await operatorAdmin.PostAsync($"/api/v1/me/cloudPCs/{fixture.PcId}/connect", null)).StatusCode);
    }

    [Fact]
    public async Task A_powered_off_cloud_pc_cannot_be_connected_to_until_it_is_started_again()
    {
        Assert.Equal(HttpStatusCode.Accepted, (await fixture.Admin.PostAsync($"/api/v1/cloudPCs/{fixture.PcId}/powerOff", JsonContent.Create(new { }))).StatusCode);
        await WaitForPowerStateAsync("poweredOff");
        var notRunning = await ProblemAssert.IsProblemAsync(await fixture.Ada.PostAsync($"/api/v1/me/cloudPCs/{fixture.PcId}/connect", null), HttpStatusCode.Conflict);
        Assert.Contains("start it first", notRunning.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Started again (the other tests need it running), the display opens as before.
        Assert.Equal(HttpStatusCode.Accepted, (await fixture.Admin.PostAsync($"/api/v1/cloudPCs/{fixture.PcId}/powerOn", JsonContent.Create(new { }))).StatusCode);
        await WaitForPowerStateAsync("running");
        using var console = await Eventually.MatchesAsync<ClientWebSocket?>(async () =>
            {
                try
                {
                    return await OpenDisplayAsync(SocketUrl(await TicketAsync(fixture.Ada, $"/api/v1/me/cloudPCs/{fixture.PcId}/connect")));
                }
                catch (WebSocketException)
                {
                    return null;
                }
            },
            c => c is not null, "the display after the start", TimeSpan.FromMinutes(1));
        await console!.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
    }

    [Theory]
    [InlineData("TicketLifetime", "00:05:00", "at most 00:01:00")]
    [InlineData("TicketLifetime", "00:00:00", "more than 0")]
    [InlineData("TicketLifetime", "soon", "not a time span")]
    [InlineData("RelayWait", "00:05:00", "at most 00:01:00")]
    [InlineData("RelayWait", "later", "not a time span")]
    [InlineData("RelayUrl", "ftp://10.0.0.5/", "http:// or https://")]
    public async Task A_gateway_setting_out_of_bounds_stops_the_start_with_one_line(string key, string value, string says)
    {
        using var data = new TempFolder();
        var result = await ProcessRunner.RunAsync(StratusProcess.BinaryPath,
            ["run", "--targets", "gateway", "--data", data.Path, "--urls", $"http://127.0.0.1:{FreePort.Next()}"], TimeSpan.FromMinutes(1),
            new Dictionary<string, string?> { [$"Stratus__Gateway__{key}"] = value });

        Assert.Equal(1, result.ExitCode);
        var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"Expected one line on stderr:\n{result.StandardError}{result.StandardOutput}");
        Assert.StartsWith($"error: Stratus:Gateway:{key} ", lines[0], StringComparison.Ordinal);
        Assert.Contains(says, lines[0], StringComparison.Ordinal);
    }

    private async Task WaitForPowerStateAsync(string state) =>
        await Eventually.MatchesAsync(async () => (await fixture.Ada.GetFromJsonAsync<JsonElement>($"/api/v1/me/cloudPCs/{fixture.PcId}")).GetProperty("powerState").GetString(),
            p => p == state, $"the Cloud PC to be {state}", TimeSpan.FromMinutes(2));

    private static async Task<JsonElement> TicketAsync(HttpClient client, string route)
    {
        var response = await client.PostAsync(route, null);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private ConsoleTicket SocketUrl(JsonElement ticket) => ConsoleTicket.From(fixture.Stratus, ticket);

    /// <summary>Opens the console and reads QEMU's greeting (the RFB version): the bridge runs, so the session is recorded.</summary>
    private static async Task<ClientWebSocket> OpenDisplayAsync(ConsoleTicket ticket)
    {
        var console = await ticket.ConnectAsync();
        var buffer = new byte[64];
        var received = await console.ReceiveAsync(buffer, CancellationToken.None);
        Assert.Equal("RFB 003.008\n", Encoding.ASCII.GetString(buffer, 0, received.Count));
        return console;
    }

    private static async Task<List<JsonElement>> SessionsAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/me/sessions")).EnumerateArray().ToList();

    private static async Task<string> ProbeAsync(HttpClient client, Guid sessionId)
    {
        var response = await client.PostAsync($"/api/v1/me/sessions/{sessionId}/roundTripProbes", null);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("probe").GetString()!;
    }

    /// <summary>What the browser does every 10 s: a probe, echoed at once.</summary>
    private static async Task<JsonElement> SampleAsync(HttpClient client, Guid sessionId)
    {
        var probe = await ProbeAsync(client, sessionId);
        var response = await client.PostAsJsonAsync($"/api/v1/me/sessions/{sessionId}/roundTripSamples", new { probe });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
