using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Gateway;

/// <summary>
/// The services as separate-machine deployments run them (`stratus run --targets all`, no embedded host) and a
/// `stratus host` agent with real QEMU, which takes no inbound connections: Ada's Cloud PC runs on the agent.
/// </summary>
public class RemoteHostConsoleFixture : ConsoleFixture
{
    /// <summary>How long a console waits for the host here: short, so that a test can wait one out.</summary>
    public static readonly TimeSpan RelayWait = TimeSpan.FromSeconds(3);

    private readonly TempFolder agentData = new();
    private HostAgentProcess? agent;
    private string[] agentArguments = [];
    private readonly List<string> enrollmentTokens = [];

    public string AgentOutput => agent?.Output ?? "";

    /// <summary>Every enrollment token the fixture made, in order.</summary>
    public IReadOnlyList<string> EnrollmentTokens => enrollmentTokens;

    /// <summary>The agent's data folder: its identity (agent.json) and its VMs (vms/VM/disk.qcow2).</summary>
    public string AgentDataPath => agentData.Path;

    protected override string Region => "local-1";

    protected override async Task<StratusProcess> StartStratusAsync(string dataFolder, Dictionary<string, string?> settings)
    {
        settings["Stratus__Gateway__RelayWait"] = RelayWait.ToString();
        var stratus = await StratusProcess.StartAsync(["run", "--targets", "all"], dataFolder, settings);
        try
        {
            using var operatorClient = await stratus.OperatorClientAsync();
            var token = await EnrollmentTokenAsync(operatorClient);
            agentArguments =
            [
                "--control-plane", stratus.BaseAddress.ToString().TrimEnd('/'), "--enrollment-token", token, "--region", Region, "--zone", $"{Region}a",
                "--name", "remote-host", "--data", agentData.Path, "--images", Path.Combine(dataFolder, "images", "gallery"), "--driver", "qemu",
                "--vcpus", "2", "--memory-mib", "2048", "--disk-gib", "16",
            ];
            agent = HostAgentProcess.Start(agentArguments);
            await Eventually.MatchesAsync(async () => (await operatorClient.GetFromJsonAsync<JsonElement>("/api/v1/hosts")).EnumerateArray().Count(h => h.GetProperty("state").GetString() == "ready"),
                n => n == 1, "the remote host to enroll");
            return stratus;
        }
        catch
        {
            await stratus.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the agent (kill -9): its VMs run on, and nothing on the host answers the control plane.</summary>
    public async Task StopAgentAsync()
    {
        if (agent is not null)
        {
            await agent.DisposeAsync();
            agent = null;
        }
    }

    /// <summary>Starts the agent again: it is the same host (its identity is in its data folder) and adopts its VMs.</summary>
    public void StartAgent() => agent ??= HostAgentProcess.Start(agentArguments);

    /// <summary>
    /// The machine reinstalled with its data disk kept: the agent is stopped, its identity removed, and it enrolls
    /// again under <paramref name="name"/> with a new token, over the same data folder and its VMs.
    /// </summary>
    public async Task ReenrollAgentAsync(string name)
    {
        await StopAgentAsync();
        File.Delete(Path.Combine(agentData.Path, "agent.json"));
        using var operatorClient = await Stratus.OperatorClientAsync();
        var token = await EnrollmentTokenAsync(operatorClient);
        agentArguments = [.. agentArguments.Select((argument, i) => i > 0 && agentArguments[i - 1] == "--enrollment-token" ? token : i > 0 && agentArguments[i - 1] == "--name" ? name : argument)];
        StartAgent();
    }

    private async Task<string> EnrollmentTokenAsync(HttpClient operatorClient)
    {
        var tokenResponse = await operatorClient.PostAsJsonAsync("/api/v1/hosts/enrollmentTokens", new { region = Region });
        Assert.True(tokenResponse.StatusCode == HttpStatusCode.Created, await tokenResponse.Content.ReadAsStringAsync());
        var token = (await tokenResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        enrollmentTokens.Add(token);
        return token;
    }

    public override async Task DisposeAsync()
    {
        if (agent is not null)
        {
            await agent.DisposeAsync();
        }

        await base.DisposeAsync();
        QemuProcesses.KillAll(agentData.Path);
        agentData.Dispose();
    }
}

/// <summary>
/// A console of a Cloud PC on a separate host: the gateway asks compute for a relay, the host's agent dials back
/// to that gateway instance with the VM's display, and the browser gets real VNC. Nobody else can take the relay.
/// </summary>
public sealed class RemoteHostConsoleTests(RemoteHostConsoleFixture fixture) : IClassFixture<RemoteHostConsoleFixture>
{
    [Fact]
    public async Task The_user_opens_the_display_of_a_cloud_pc_on_a_separate_host_through_the_agents_relay()
    {
        var response = await fixture.Ada.PostAsync($"/api/v1/me/cloudPCs/{fixture.PcId}/connect", null);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var ticket = await response.Content.ReadFromJsonAsync<JsonElement>();
        using var console = await ConsoleTicket.From(fixture.Stratus, ticket).ConnectAsync();
        var buffer = new byte[64];
        var greeting = await console.ReceiveAsync(buffer, CancellationToken.None);
        Assert.Equal("RFB 003.008\n", Encoding.ASCII.GetString(buffer, 0, greeting.Count));
        await console.SendAsync(Encoding.ASCII.GetBytes("RFB 003.008\n"), WebSocketMessageType.Binary, true, CancellationToken.None);
        var types = await console.ReceiveAsync(buffer, CancellationToken.None);
        Assert.True(types.Count >= 2, "the VNC server offers its security types through the relay");
        await console.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);

        var sessionId = ticket.GetProperty("sessionId").GetGuid();
        var session = await Eventually.MatchesAsync(
            async () => (await fixture.Ada.GetFromJsonAsync<JsonElement>("/api/v1/me/sessions")).EnumerateArray().FirstOrDefault(s => s.GetProperty("id").GetGuid() == sessionId),
            s => s.ValueKind == JsonValueKind.Object && s.GetProperty("endedAt").ValueKind != JsonValueKind.Null, "the session record");
        Assert.Equal(12, session.GetProperty("bytesFromClient").GetInt64());

        // The browser left: the gateway closes the host's side too, and the agent ends the relay cleanly.
        await Eventually.MatchesAsync(() => Task.FromResult(fixture.AgentOutput),
            o => o.Contains("the display of VM", StringComparison.Ordinal) && Regex.IsMatch(o, @"Console relay \S+ of VM \S+ ended"), "the agent to carry, then end the relay");
    }

    [Fact]
    public async Task A_host_that_does_not_bring_the_display_is_a_409_that_says_so_and_a_later_connect_works()
    {
        await fixture.StopAgentAsync();
        try
        {
            var (status, problem) = await fixture.RefusalAsync(await SocketUrlAsync());
            Assert.True(status == HttpStatusCode.Conflict, $"{status}: {problem}");
            Assert.Equal("https://stratus.dev/problems/display-unreachable", problem.GetProperty("type").GetString());
            Assert.Contains($"did not bring its display within {RemoteHostConsoleFixture.RelayWait.TotalSeconds:0} s", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            fixture.StartAgent();
        }

        // The agent back (the same host, adopting the running VM): Connect again is all it takes.
        var console = await Eventually.MatchesAsync(async () =>
            {
                try
                {
                    return await (await SocketUrlAsync()).ConnectAsync();
                }
                catch (WebSocketException)
                {
                    return null;
                }
            },
            c => c is not null, "the display through the restarted agent", TimeSpan.FromMinutes(1));
        using (console)
        {
            var buffer = new byte[64];
            var greeting = await console!.ReceiveAsync(buffer, CancellationToken.None);
            Assert.Equal("RFB 003.008\n", Encoding.ASCII.GetString(buffer, 0, greeting.Count));
            await console.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_relay_is_taken_only_with_its_secret_and_compute_checks_what_a_relay_asks_for()
    {
        // The relay endpoint: a WebSocket only, and a relay nobody waits for (or a wrong secret) is refused.
        using var anonymous = new HttpClient { BaseAddress = fixture.Stratus.BaseAddress };
        var plain = await anonymous.GetAsync($"/api/v1/gateway/relays/{Guid.NewGuid()}");
        await HasProblemAsync(plain, HttpStatusCode.BadRequest, "not-a-websocket");
        using (var forged = new ClientWebSocket())
        {
            forged.Options.CollectHttpResponseDetails = true;
            forged.Options.SetRequestHeader("X-Stratus-Relay-Secret", "guessed-secret-guessed-secret");
            var relayUrl = new Uri(fixture.Stratus.BaseAddress.ToString().Replace("http://", "ws://", StringComparison.Ordinal) + $"api/v1/gateway/relays/{Guid.NewGuid()}");
            await Assert.ThrowsAsync<WebSocketException>(() => forged.ConnectAsync(relayUrl, CancellationToken.None));
            Assert.Equal(HttpStatusCode.Forbidden, forged.HttpStatusCode);
        }

        // Compute's side is for the platform operator and for the gateway acting for a user of the VM's tenant: a tenant's admin is refused.
        var vmId = (await fixture.Ada.GetFromJsonAsync<JsonElement>($"/api/v1/me/cloudPCs/{fixture.PcId}")).GetProperty("vmId").GetGuid();
        var byAdmin = await fixture.Admin.PostAsJsonAsync($"/api/v1/vms/{vmId}/consoleRelays", new { id = Guid.NewGuid(), url = "ws://127.0.0.1:1/x", secret = new string('s', 32) });
        Assert.Equal(HttpStatusCode.Forbidden, byAdmin.StatusCode);

        using var operatorClient = await fixture.Stratus.OperatorClientAsync();
        var invalid = await operatorClient.PostAsJsonAsync($"/api/v1/vms/{vmId}/consoleRelays", new { url = "http://127.0.0.1:1/x", secret = "short" });
        var errors = (await ProblemAssert.IsProblemAsync(invalid, HttpStatusCode.BadRequest)).GetProperty("errors");
        Assert.Equal(["id", "secret", "url"], errors.EnumerateObject().Select(e => e.Name).Order(StringComparer.Ordinal));
        var unknownVm = await operatorClient.PostAsJsonAsync($"/api/v1/vms/{Guid.NewGuid()}/consoleRelays", new { id = Guid.NewGuid(), url = "ws://127.0.0.1:1/x", secret = new string('s', 32) });
        Assert.Equal(HttpStatusCode.NotFound, unknownVm.StatusCode);

        // Idempotent by id: the same request again is 200, the id with other values is 409.
        var relay = new RelayRequest(Guid.NewGuid(), "ws://127.0.0.1:1/nobody-listens", new string('s', 32));
        Assert.Equal(HttpStatusCode.Accepted, (await operatorClient.PostAsJsonAsync($"/api/v1/vms/{vmId}/consoleRelays", relay)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await operatorClient.PostAsJsonAsync($"/api/v1/vms/{vmId}/consoleRelays", relay)).StatusCode);
        var reused = await operatorClient.PostAsJsonAsync($"/api/v1/vms/{vmId}/consoleRelays", relay with { Secret = new string('t', 32) });
        await HasProblemAsync(reused, HttpStatusCode.Conflict, "console-relay-exists");

        // The agent tried that relay and said why it failed, and it goes on serving the Cloud PC.
        await Eventually.MatchesAsync(() => Task.FromResult(fixture.AgentOutput), o => o.Contains("nobody-listens failed", StringComparison.Ordinal), "the agent's log line");
    }

    [Fact]
    public async Task The_gateways_token_for_a_user_reaches_only_that_users_tenant_and_a_portal_session_still_connects()
    {
        // A portal session (the cookie, which carries the user's token) connects: the gateway exchanges that token.
        using (var cookie = new HttpClient(new HttpClientHandler { UseCookies = true, CookieContainer = new CookieContainer() }) { BaseAddress = fixture.Stratus.BaseAddress })
        {
            using var signedIn = await cookie.PostAsJsonAsync("/api/v1/auth/signin", new { userName = $"ada@{fixture.Domain}", password = "ada-password-123" });
            Assert.Equal(HttpStatusCode.NoContent, signedIn.StatusCode);
            using var connected = await cookie.PostAsync($"/api/v1/me/cloudPCs/{fixture.PcId}/connect", null);
            Assert.True(connected.StatusCode == HttpStatusCode.OK, await connected.Content.ReadAsStringAsync());
        }

        // What a compromised gateway instance holds: its client secret, and the tokens of the users it serves.
        var gatewaySecret = (await File.ReadAllTextAsync(Path.Combine(fixture.Stratus.DataFolder, "clients", "gateway.secret"))).Trim();
        var vmId = (await fixture.Ada.GetFromJsonAsync<JsonElement>($"/api/v1/me/cloudPCs/{fixture.PcId}")).GetProperty("vmId").GetGuid();

        // Tenant B's console operator: the gateway acting for them finds neither tenant A's Cloud PC nor a relay from its VM.
        using (var asOther = await DelegatedClientAsync(gatewaySecret, fixture.OtherOperator, "cloudPcs.read consoles.relay"))
        {
            Assert.Equal(HttpStatusCode.NotFound, (await asOther.GetAsync($"/api/v1/cloudPCs/{fixture.PcId}")).StatusCode);
            var relay = new RelayRequest(Guid.NewGuid(), "ws://127.0.0.1:1/cross-tenant", new string('s', 32));
            await HasProblemAsync(await asOther.PostAsJsonAsync($"/api/v1/vms/{vmId}/consoleRelays", relay), HttpStatusCode.NotFound, "not-found");
        }

        // Bob, of Ada's tenant: not his Cloud PC.
        using (var asBob = await DelegatedClientAsync(gatewaySecret, fixture.Bob, "cloudPcs.read"))
        {
            Assert.Equal(HttpStatusCode.NotFound, (await asBob.GetAsync($"/api/v1/me/cloudPCs/{fixture.PcId}")).StatusCode);
        }

        // The control: acting for Ada, her Cloud PC and a relay from its VM.
        using var asAda = await DelegatedClientAsync(gatewaySecret, fixture.Ada, "cloudPcs.read consoles.relay");
        Assert.Equal(HttpStatusCode.OK, (await asAda.GetAsync($"/api/v1/me/cloudPCs/{fixture.PcId}")).StatusCode);
        var own = new RelayRequest(Guid.NewGuid(), "ws://127.0.0.1:1/own-tenant", new string('s', 32));
        Assert.Equal(HttpStatusCode.Accepted, (await asAda.PostAsJsonAsync($"/api/v1/vms/{vmId}/consoleRelays", own)).StatusCode);
    }

    /// <summary>A client with the gateway's token exchanged (RFC 8693) from the token <paramref name="user"/> signed in with.</summary>
    private async Task<HttpClient> DelegatedClientAsync(string gatewaySecret, HttpClient user, string scope)
    {
        using var response = await fixture.Stratus.Http.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "urn:ietf:params:oauth:grant-type:token-exchange", ["client_id"] = "gateway", ["client_secret"] = gatewaySecret, ["scope"] = scope,
            ["subject_token"] = user.DefaultRequestHeaders.Authorization!.Parameter!, ["subject_token_type"] = "urn:ietf:params:oauth:token-type:access_token",
        }));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var client = new HttpClient { BaseAddress = fixture.Stratus.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer",
            (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString());
        return client;
    }

    private async Task<ConsoleTicket> SocketUrlAsync()
    {
        var response = await fixture.Ada.PostAsync($"/api/v1/me/cloudPCs/{fixture.PcId}/connect", null);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var ticket = await response.Content.ReadFromJsonAsync<JsonElement>();
        return ConsoleTicket.From(fixture.Stratus, ticket);
    }

    private sealed record RelayRequest(Guid Id, string Url, string Secret);

    private static async Task HasProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code) =>
        Assert.Equal("https://stratus.dev/problems/" + code, (await ProblemAssert.IsProblemAsync(response, status)).GetProperty("type").GetString());
}
