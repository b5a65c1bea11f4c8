using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Cli;

/// <summary>
/// `stratus network ...` against a real all-in-one with the real network service (issue 20). The region has no host,
/// so each run of the checks ends at the short run timeout given here with the service's own verdict
/// (hostsReporting failed: no host reported). The all-in-one hosts provisioning too: a delete asks its usage endpoint,
/// and a real provisioning policy naming the connection is what keeps it.
/// </summary>
public sealed class NetworkCommandsTests
{
    private const string Password = "tenant-admin-pass-1";

    [Fact]
    public async Task An_admin_creates_checks_changes_and_deletes_a_network_connection_from_the_cli()
    {
        using var data = new TempFolder();
        using var config = new TempFolder();
        // The gallery image a provisioning policy names must exist.
        await TinyImageFolder.InstallIntoAsync(data.Path);
        var environment = new Dictionary<string, string?>
        {
            ["Stratus__Network__HealthCheckRunTimeout"] = "00:00:03",
            ["Stratus__Network__SchedulerInterval"] = "00:00:01",
        };
        await using var stratus = await StratusProcess.StartAsync(["up", "--hosts", "none"], data.Path, environment);
        var domain = $"net{Guid.NewGuid():N}"[..12] + ".test";
        using (var operatorClient = await stratus.OperatorClientAsync())
        {
            var tenant = await operatorClient.PostAsJsonAsync("/api/v1/tenants", new { displayName = "Corp", domain, admin = new { userName = $"admin@{domain}", password = Password } });
            Assert.Equal(HttpStatusCode.Created, tenant.StatusCode);
            await ClientCli.CheckedAsync(config.Path, ["login", "--url", stratus.BaseAddress.ToString().TrimEnd('/'), "--user", $"admin@{domain}"], new() { ["STRATUS_PASSWORD"] = Password });
        }

        Assert.Equal("Nothing here yet.", (await ClientCli.CheckedAsync(config.Path, ["network", "list"])).StandardOutput.Trim());

        // Bad input: one line on stderr naming each wrong field, exit 1, nothing created.
        var refused = await ClientCli.RunAsync(config.Path, ["network", "create", "--name", "Corp A", "--region", "local-1", "--subnet", "10.20.0.0/33",
            "--gateway", "10.20.0.1", "--interface", "eth1", "--uplink", "vlan", "--vlan-id", "5000"]);
        Assert.Equal(1, refused.ExitCode);
        Assert.StartsWith("error: ", refused.StandardError, StringComparison.Ordinal);
        Assert.Contains("subnet: '10.20.0.0/33'", refused.StandardError, StringComparison.Ordinal);
        Assert.Contains("uplink.vlanId: 'uplink.vlanId' must be 1 to 4094", refused.StandardError, StringComparison.Ordinal);
        Assert.Equal("Nothing here yet.", (await ClientCli.CheckedAsync(config.Path, ["network", "list"])).StandardOutput.Trim());

        var created = JsonDocument.Parse((await ClientCli.CheckedAsync(config.Path, ["network", "create", "--name", "Corp A", "--region", "local-1",
            "--subnet", "10.20.0.0/24", "--gateway", "10.20.0.1", "--uplink", "vlan", "--interface", "eth1", "--vlan-id", "120",
            "--dns-server", "10.20.0.53", "--dns-search-domain", "corp.example", "--resolve", "intranet.corp.example", "--endpoint", "intranet.corp.example:443",
            "-o", "json"])).StandardOutput).RootElement;
        var id = created.GetProperty("id").GetString()!;
        Assert.Equal(120, created.GetProperty("uplink").GetProperty("vlanId").GetInt32());
        Assert.Equal(["10.20.0.53"], created.GetProperty("dnsServers").EnumerateArray().Select(e => e.GetString()));

        var table = (await ClientCli.CheckedAsync(config.Path, ["network", "list"])).StandardOutput;
        Assert.Contains("Corp A", table, StringComparison.Ordinal);
        Assert.Contains("vlan 120 on eth1", table, StringComparison.Ordinal);
        Assert.Contains(id, table, StringComparison.Ordinal);

        // check --wait: progress while the run is under way, then its checks; a failed check is exit 1 naming it.
        var check = await ClientCli.RunAsync(config.Path, ["network", "check", id, "--wait"]);
        Assert.True(check.ExitCode == 1, $"exit {check.ExitCode}: {check.StandardOutput} {check.StandardError}");
        Assert.Contains("checking Corp A on the hosts of local-1...", check.StandardOutput, StringComparison.Ordinal);
        // No agent here runs the checks: the network service's own verdict, with what to do.
        var verdict = System.Text.RegularExpressions.Regex.Match(check.StandardError.Trim(), @"^error: the checks of Corp A failed: hostsReporting \((noHostInRegion|hostDidNotReport)\)\.$");
        Assert.True(verdict.Success, check.StandardError);
        Assert.Contains(verdict.Groups[1].Value, check.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("addressSpace", check.StandardOutput, StringComparison.Ordinal);

        var runs = JsonDocument.Parse((await ClientCli.CheckedAsync(config.Path, ["network", "runs", id, "-o", "json"])).StandardOutput).RootElement.GetProperty("value");
        Assert.NotEmpty(runs.EnumerateArray());
        Assert.All(runs.EnumerateArray(), run => Assert.Equal("failed", run.GetProperty("status").GetString()));
        Assert.Contains($"hostsReporting: failed ({verdict.Groups[1].Value})", (await ClientCli.CheckedAsync(config.Path, ["network", "runs", id])).StandardOutput, StringComparison.Ordinal);

        var show = (await ClientCli.CheckedAsync(config.Path, ["network", "show", id])).StandardOutput;
        Assert.Contains("Corp A", show, StringComparison.Ordinal);
        Assert.Contains("addressSpace", show, StringComparison.Ordinal);

        var updated = JsonDocument.Parse((await ClientCli.CheckedAsync(config.Path, ["network", "update", id, "--name", "Corp B", "--mtu", "1400",
            "--endpoint", "intranet.corp.example:443", "--endpoint", "mail.corp.example:25", "-o", "json"])).StandardOutput).RootElement;
        Assert.Equal("Corp B", updated.GetProperty("displayName").GetString());
        Assert.Equal(1400, updated.GetProperty("mtu").GetInt32());
        Assert.Equal(2, updated.GetProperty("requiredEndpoints").GetArrayLength());
        Assert.Equal("10.20.0.0/24", updated.GetProperty("subnet").GetString());
        var nothing = await ClientCli.RunAsync(config.Path, ["network", "update", id]);
        Assert.Equal(1, nothing.ExitCode);
        Assert.Contains("nothing to change", nothing.StandardError, StringComparison.Ordinal);

        // A connection a provisioning policy names is kept, and the refusal names the policy (no Cloud PC here).
        using var admin = await stratus.SignedInClientAsync($"admin@{domain}", Password);
        var policy = await admin.PostAsJsonAsync("/api/v1/provisioningPolicies", new { displayName = "Branch PCs", imageId = TinyImageFolder.ImageId, networkConnectionIds = new[] { id } });
        Assert.True(policy.StatusCode == HttpStatusCode.Created, await policy.Content.ReadAsStringAsync());
        var policyId = (await policy.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var inUse = await ClientCli.RunAsync(config.Path, ["network", "delete", id]);
        Assert.Equal(1, inUse.ExitCode);
        Assert.Contains("provisioning policy 'Branch PCs' and 0 Cloud PCs", inUse.StandardError, StringComparison.Ordinal);
        Assert.Contains("Corp B", (await ClientCli.CheckedAsync(config.Path, ["network", "list"])).StandardOutput, StringComparison.Ordinal);

        // Taken out of the policy (the hosted network instead), nothing uses it: the delete goes through.
        var released = await admin.PatchAsJsonAsync($"/api/v1/provisioningPolicies/{policyId}", new { networkConnectionIds = Array.Empty<string>() });
        Assert.True(released.StatusCode == HttpStatusCode.OK, await released.Content.ReadAsStringAsync());
        Assert.Contains($"Deleted network connection {id}.", (await ClientCli.CheckedAsync(config.Path, ["network", "delete", id])).StandardOutput, StringComparison.Ordinal);
        Assert.Equal("Nothing here yet.", (await ClientCli.CheckedAsync(config.Path, ["network", "list"])).StandardOutput.Trim());
    }
}
