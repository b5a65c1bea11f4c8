using System.Text.Json;
using Stratus.IntegrationTests.Diagnostics;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Cli;

/// <summary>`stratus cloudpc troubleshoot ID` against a real all-in-one whose embedded hosts use the simulated driver.</summary>
public sealed class TroubleshootCommandsTests
{
    [Fact]
    public async Task An_admin_troubleshoots_a_cloud_pc_from_the_cli_and_sees_each_check_with_its_status()
    {
        using var data = new TempFolder();
        using var config = new TempFolder();
        await TinyImageFolder.InstallIntoAsync(data.Path);
        await using var stratus = await StratusProcess.StartAsync(["up", "--hosts", "simulated"], data.Path);
        using var operatorClient = await stratus.OperatorClientAsync();
        var tenant = await TroubleshootTenant.CreateAsync(stratus, operatorClient, withCloudPc: true);
        var pc = await tenant.ProvisionedCloudPcAsync();
        await ClientCli.CheckedAsync(config.Path, ["login", "--url", stratus.BaseAddress.ToString().TrimEnd('/'), "--user", tenant.AdminUserName],
            new() { ["STRATUS_PASSWORD"] = TroubleshootTenant.Password });

        var table = (await ClientCli.CheckedAsync(config.Path, ["cloudpc", "troubleshoot", pc.ToString()])).StandardOutput;
        foreach (var check in new[] { "cloudPcRecord", "hostReporting", "vmRunning", "networkConnection", "diskCopies", "restorePoints", "lastConsoleSession", "hostDiskSpace" })
        {
            Assert.Contains(check, table, StringComparison.Ordinal);
        }

        Assert.Contains("hosted network", table, StringComparison.Ordinal);
        Assert.Matches(@"Overall: (passed|warning|failed) \(result [0-9a-f-]{36}, ", table);

        // -o json: the API's result itself, which is kept like any other.
        var json = JsonDocument.Parse((await ClientCli.CheckedAsync(config.Path, ["cloudpc", "troubleshoot", pc.ToString(), "-o", "json"])).StandardOutput).RootElement;
        Assert.Equal(pc, json.GetProperty("cloudPcId").GetGuid());
        Assert.Equal(8, json.GetProperty("checks").GetArrayLength());

        // An unknown Cloud PC: one line on stderr, exit 1.
        var missing = await ClientCli.RunAsync(config.Path, ["cloudpc", "troubleshoot", Guid.NewGuid().ToString()]);
        Assert.Equal(1, missing.ExitCode);
        Assert.StartsWith("error: ", missing.StandardError, StringComparison.Ordinal);
        Assert.Contains("no Cloud PC", missing.StandardError, StringComparison.Ordinal);
    }
}
