using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Hosts;

/// <summary>
/// Agents talk to the control plane over HTTPS and pin its certificate, as kubeadm's --discovery-token-ca-cert-hash
/// (issue 17, item 6): `stratus up --tls` makes a certificate, keeps it across restarts and prints its pin; its
/// embedded hosts and a `stratus host` given the pin enroll over HTTPS; a server with another certificate is refused.
/// </summary>
public sealed class ControlPlaneTlsTests
{
    [Fact]
    public async Task Up_with_tls_serves_https_prints_the_pin_its_embedded_hosts_enroll_pinned_and_a_restart_keeps_the_certificate()
    {
        using var data = new TempFolder();
        string pin;
        List<Guid> hostIds;
        await using (var first = await StratusProcess.StartAsync(["up", "--tls", "--hosts", "simulated"], data.Path))
        {
            pin = await ServedPinAsync(first.BaseAddress);
            Assert.Equal(ImpostorTlsServer.PinOf(X509CertificateLoader.LoadPkcs12FromFile(first.CertificateFile, null)), pin);
            Assert.Contains($"pin {pin}", first.Output, StringComparison.Ordinal);
            Assert.Contains($"stratus host --control-plane {first.BaseAddress.ToString().TrimEnd('/')} --control-plane-cert-hash {pin}", first.Output, StringComparison.Ordinal);
            Assert.False(await PlainHttpAnswersAsync(first.BaseAddress), "the --tls address must not serve plain HTTP");

            using var operatorClient = await first.OperatorClientAsync();
            hostIds = await ReadyHostsAsync(operatorClient, 2);
            foreach (var region in new[] { "local-1", "local-2" })
            {
                Assert.Equal(pin, await Eventually.MatchesAsync(() => KeptPinAsync(Path.Combine(data.Path, "hosts", region, "agent.json")), p => p is not null, $"the host of {region} to keep its identity"));
            }
        }

        // The same certificate after a restart: hosts that pinned it keep reporting, without enrolling again.
        var restarted = TimeProvider.System.GetUtcNow();
        await using var second = await StratusProcess.StartAsync(["up", "--tls", "--hosts", "simulated"], data.Path);
        Assert.Equal(pin, await ServedPinAsync(second.BaseAddress));
        Assert.Contains($"pin {pin}", second.Output, StringComparison.Ordinal);
        using var again = await second.OperatorClientAsync();
        await Eventually.MatchesAsync(async () => (await again.GetFromJsonAsync<JsonElement>("/api/v1/hosts")).EnumerateArray().ToList(),
            hosts => hosts.Count == 2 && hosts.All(h => hostIds.Contains(h.GetProperty("id").GetGuid()) && h.GetProperty("lastHeartbeatDateTime").GetDateTimeOffset() > restarted),
            "the same two hosts to report over HTTPS after the restart", TimeSpan.FromSeconds(90));
    }

    [Fact]
    public async Task A_host_joins_with_the_printed_pin_keeps_it_in_agent_json_and_refuses_servers_with_another_certificate()
    {
        using var data = new TempFolder();
        using var agentData = new TempFolder();
        await using var stratus = await StratusProcess.StartAsync(["up", "--tls", "--hosts", "none"], data.Path);
        var pin = await ServedPinAsync(stratus.BaseAddress);
        using var operatorClient = await stratus.OperatorClientAsync();
        var created = await operatorClient.PostAsJsonAsync("/api/v1/hosts/enrollmentTokens", new { region = "local-1" });
        var token = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        string[] Agent(Uri controlPlane, params string[] more) =>
            ["--control-plane", controlPlane.ToString().TrimEnd('/'), "--zone", "local-1a", "--name", "pinned-host", "--data", agentData.Path, "--driver", "simulated",
             "--vcpus", "4", "--memory-mib", "4096", .. more];

        // A pin that is not the server's: refused at the handshake, nothing sent, the token still unused.
        var wrongPin = "sha256:" + new string('0', 64);
        await using (var wrong = HostAgentProcess.Start(Agent(stratus.BaseAddress, "--control-plane-cert-hash", wrongPin, "--enrollment-token", token)))
        {
            Assert.Equal(1, await wrong.WaitForExitAsync(TimeSpan.FromSeconds(120)));
            Assert.Contains($"Refused the TLS connection to 127.0.0.1: its certificate's key is {pin}, not {wrongPin}", wrong.Output, StringComparison.Ordinal);
            Assert.Contains($"error: Refused to enroll at {stratus.BaseAddress}", wrong.Output, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(agentData.Path, "agent.json")));
        }

        // The printed pin: it enrolls with the same token, runs, and keeps the pin.
        await using (var joined = HostAgentProcess.Start(Agent(stratus.BaseAddress, "--control-plane-cert-hash", pin, "--enrollment-token", token)))
        {
            await ReadyHostsAsync(operatorClient, 1);
            // Compute shows the host ready as it answers the enrollment; the agent writes its identity just after.
            var kept = await Eventually.MatchesAsync(() => KeptPinAsync(Path.Combine(agentData.Path, "agent.json")), p => p is not null, "the agent to keep its identity", TimeSpan.FromSeconds(30));
            Assert.Equal(pin, kept);
        }

        // Started again without the option, it uses the kept pin: a server with another self-signed certificate at the
        // control plane's address is refused before the agent sends its token, and says why.
        using var impostor = ImpostorTlsServer.Start();
        await using var misled = HostAgentProcess.Start(Agent(impostor.Url));
        await Eventually.MatchesAsync(() => Task.FromResult(misled.Output),
            output => output.Contains($"Refused the TLS connection to 127.0.0.1: its certificate's key is {impostor.Pin}, not {pin}", StringComparison.Ordinal),
            "the agent to refuse the impostor's certificate", TimeSpan.FromSeconds(60));
        Assert.True(impostor.Connections > 0, "the agent should have tried the impostor");
        Assert.Equal(0, impostor.Requests);
    }

    /// <summary>The pin of the certificate the server at <paramref name="address"/> shows.</summary>
    private static async Task<string> ServedPinAsync(Uri address)
    {
        string? served = null;
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            using var copy = new X509Certificate2(certificate!);
            served = ImpostorTlsServer.PinOf(copy);
            return true;
        };
        using var client = new HttpClient(handler) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        using var response = await client.GetAsync("/healthz");
        return served ?? throw new InvalidOperationException($"{address} showed no certificate");
    }

    /// <summary>The pin in an agent.json; null while the agent has not written it whole yet.</summary>
    private static async Task<string?> KeptPinAsync(string file)
    {
        try
        {
            return JsonDocument.Parse(await File.ReadAllTextAsync(file)).RootElement.GetProperty("controlPlaneCertificatePin").GetString();
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return null;
        }
    }

    private static async Task<bool> PlainHttpAnswersAsync(Uri address)
    {
        using var client = new HttpClient { BaseAddress = new UriBuilder(address) { Scheme = "http" }.Uri, Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            using var response = await client.GetAsync("/healthz");
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static async Task<List<Guid>> ReadyHostsAsync(HttpClient operatorClient, int count) =>
        (await Eventually.MatchesAsync(async () => (await operatorClient.GetFromJsonAsync<JsonElement>("/api/v1/hosts")).EnumerateArray().ToList(),
            hosts => hosts.Count == count && hosts.All(h => h.GetProperty("state").GetString() == "ready"), $"{count} ready hosts enrolled over HTTPS", TimeSpan.FromSeconds(90)))
        .Select(h => h.GetProperty("id").GetGuid()).ToList();
}
