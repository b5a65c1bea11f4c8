using System.Net;
using System.Net.Http.Json;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Hosts;

/// <summary>
/// The distributed form over HTTPS (issue 17, item 6; ADR 0013): `stratus run --tls-cert --tls-key --ca-cert` with the
/// certificates deploy/local-region's make-ca.sh makes (a root, an issuing CA, a server certificate). Identity and
/// compute run as two processes; compute validates the operator's token with identity's keys, fetched over HTTPS
/// through its --ca-cert, and a host agent enrolls at compute pinning the issuing CA, as the lab's hosts do.
/// </summary>
public sealed class RunTlsTests
{
    [Fact]
    public async Task Run_serves_https_only_its_calls_trust_the_ca_a_client_without_it_is_refused_and_a_host_pins_the_ca()
    {
        using var tls = new TempFolder();
        using var identityData = new TempFolder();
        using var computeData = new TempFolder();
        using var agentData = new TempFolder();
        await MakeCaAsync(tls.Path);
        string[] Tls(string targets) =>
            ["run", "--targets", targets, "--tls-cert", Path.Combine(tls.Path, "server.pem"), "--tls-key", Path.Combine(tls.Path, "server.key"), "--ca-cert", Path.Combine(tls.Path, "ca.pem")];
        await using var identity = await StratusProcess.StartAsync(Tls("identity"), identityData.Path, DeploymentSecrets.With());
        await using var compute = await StratusProcess.StartAsync(Tls("compute"), computeData.Path,
            DeploymentSecrets.With(new Dictionary<string, string?> { ["Stratus__Services__identity__Url"] = identity.BaseAddress.ToString() }));

        Assert.Equal(Uri.UriSchemeHttps, identity.BaseAddress.Scheme);
        Assert.False(await PlainHttpAnswersAsync(identity.BaseAddress), "the --tls-cert address must not serve plain HTTP");

        // A client with the deployment's CA: answered. One with only the machine's store: refused at the handshake.
        using (var withCa = new HttpClient(TrustingOnly(Path.Combine(tls.Path, "ca.pem"))) { BaseAddress = identity.BaseAddress, Timeout = TimeSpan.FromSeconds(30) })
        {
            using var healthy = await withCa.GetAsync("/healthz");
            Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
        }

        using (var withoutCa = new HttpClient { BaseAddress = identity.BaseAddress, Timeout = TimeSpan.FromSeconds(30) })
        {
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() => withoutCa.GetAsync("/healthz"));
            Assert.IsType<AuthenticationException>(refused.InnerException);
        }

        // The operator's token, from identity, accepted by compute: compute read identity's JWKS over HTTPS, trusting --ca-cert.
        var token = await (await identity.Http.PostAsJsonAsync("/api/v1/auth/token", new { userName = "operator", password = TestAccounts.OperatorPassword }))
            .EnsureSuccessStatusCode().Content.ReadFromJsonAsync<TokenBody>();
        using var operatorAtCompute = compute.NewClient();
        operatorAtCompute.DefaultRequestHeaders.Authorization = new("Bearer", token!.AccessToken);
        var created = await operatorAtCompute.PostAsJsonAsync("/api/v1/hosts/enrollmentTokens", new { region = "local-1" });
        Assert.True(created.IsSuccessStatusCode, $"compute refused the operator's token: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        var enrollment = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;

        // A host pinned to the issuing CA (the pin make-ca.sh writes, not the server certificate's) enrolls over HTTPS.
        var pin = (await File.ReadAllTextAsync(Path.Combine(tls.Path, "pin"))).Trim();
        Assert.NotEqual(ImpostorTlsServer.PinOf(X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(tls.Path, "server.pem")))), pin);
        await using var agent = HostAgentProcess.Start(["--control-plane", compute.BaseAddress.ToString().TrimEnd('/'), "--control-plane-cert-hash", pin,
            "--enrollment-token", enrollment, "--zone", "local-1a", "--name", "ca-pinned-host", "--data", agentData.Path, "--driver", "simulated", "--vcpus", "4", "--memory-mib", "4096"]);
        await Eventually.MatchesAsync(async () => (await operatorAtCompute.GetFromJsonAsync<JsonElement>("/api/v1/hosts")).EnumerateArray().ToList(),
            hosts => hosts.Count == 1 && hosts[0].GetProperty("state").GetString() == "ready", "the CA-pinned host to enroll and be ready", TimeSpan.FromSeconds(90));
    }

    [Fact]
    public async Task A_missing_or_mismatched_certificate_or_key_is_one_line_naming_the_file()
    {
        using var tls = new TempFolder();
        using var data = new TempFolder();
        await MakeCaAsync(tls.Path);
        var certificate = Path.Combine(tls.Path, "server.pem");
        var missing = Path.Combine(tls.Path, "missing.key");
        var otherKey = Path.Combine(tls.Path, "ca.key");

        var noKey = await RunAsync(data.Path, "--tls-cert", certificate, "--tls-key", missing);
        Assert.Equal(1, noKey.ExitCode);
        Assert.Equal($"error: --tls-key {missing}: cannot read it: no such file.", noKey.StandardError.Trim());

        var mismatched = await RunAsync(data.Path, "--tls-cert", certificate, "--tls-key", otherKey);
        Assert.Equal(1, mismatched.ExitCode);
        var line = Assert.Single(mismatched.StandardError.Trim().Split('\n'));
        Assert.StartsWith($"error: --tls-key {otherKey} is not the private key of the certificate in --tls-cert {certificate}", line, StringComparison.Ordinal);

        var alone = await RunAsync(data.Path, "--tls-cert", certificate);
        Assert.Equal(1, alone.ExitCode);
        Assert.Equal("error: --tls-cert and --tls-key go together: the server's certificate and its private key, both PEM files.", alone.StandardError.Trim());

        var notPem = await RunAsync(data.Path, "--ca-cert", otherKey);
        Assert.Equal(1, notPem.ExitCode);
        Assert.Equal($"error: --ca-cert {otherKey} holds no PEM certificate (-----BEGIN CERTIFICATE-----).", notPem.StandardError.Trim());
    }

    private static Task<ProcessResult> RunAsync(string data, params string[] tls) =>
        ProcessRunner.RunAsync(StratusProcess.BinaryPath, ["run", "--targets", "identity", "--data", data, "--urls", $"http://127.0.0.1:{FreePort.Next()}", .. tls],
            TimeSpan.FromMinutes(2), DeploymentSecrets.With());

    /// <summary>The lab's own script: a root, an issuing CA and a server certificate for 127.0.0.1.</summary>
    private static Task MakeCaAsync(string folder) =>
        ProcessRunner.RunCheckedAsync("bash", [Path.Combine(StratusProcess.RepositoryRoot, "deploy", "local-region", "make-ca.sh"), folder, "127.0.0.1"], TimeSpan.FromMinutes(1));

    private static SocketsHttpHandler TrustingOnly(string caFile)
    {
        var handler = new SocketsHttpHandler();
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(X509Certificate2.CreateFromPem(File.ReadAllText(caFile)));
        handler.SslOptions.CertificateChainPolicy = policy;
        return handler;
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
}
