using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Cli;

/// <summary>The client commands against a real all-in-one: an admin sets up a user's Cloud PC from a terminal only.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ClientCommandsTests
{
    private const string SmallPlan = "5c1a0000-0000-4000-8000-000000010108";

    [Fact]
    public async Task An_admin_gives_a_user_a_cloud_pc_and_reboots_it_from_the_cli()
    {
        using var data = new TempFolder();
        using var config = new TempFolder();
        await TinyImageFolder.InstallIntoAsync(data.Path);
        await using var stratus = await StratusProcess.StartAsync(["up", "--hosts", "simulated"], data.Path);
        var url = stratus.BaseAddress.ToString().TrimEnd('/');

        var notSignedIn = await CliAsync(config.Path, ["cloudpc", "list"]);
        Assert.Equal(1, notSignedIn.ExitCode);
        Assert.Equal("error: not signed in: run 'stratus login --url URL --user NAME' first.", notSignedIn.StandardError.Trim());

        // The tenant and its group come from the API (the CLI has no tenant or group commands yet).
        using var operatorClient = await stratus.OperatorClientAsync();
        var domain = $"cli{Guid.NewGuid():N}"[..12] + ".test";
        const string password = "tenant-admin-pass-1";
        var created = await operatorClient.PostAsJsonAsync("/api/v1/tenants", new { displayName = "Northwind", domain, admin = new { userName = $"admin@{domain}", password } });
        var tenantId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tenant").GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.OK, (await operatorClient.PutAsJsonAsync($"/api/v1/tenants/{tenantId}/subscribedSkus/{SmallPlan}", new { prepaidUnits = 3 })).StatusCode);
        using var admin = await stratus.SignedInClientAsync($"admin@{domain}", password);
        var group = (await (await admin.PostAsJsonAsync("/api/v1/groups", new { displayName = "Staff" })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        var wrongPassword = await CliAsync(config.Path, ["login", "--url", url, "--user", $"admin@{domain}"], new() { ["STRATUS_PASSWORD"] = "not-the-password" });
        Assert.Equal(1, wrongPassword.ExitCode);
        Assert.StartsWith("error: ", wrongPassword.StandardError, StringComparison.Ordinal);

        var login = await CliAsync(config.Path, ["login", "--url", url, "--user", $"admin@{domain}"], new() { ["STRATUS_PASSWORD"] = password });
        Assert.True(login.ExitCode == 0, login.StandardError);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(config.Path, "stratus", "credentials.json")));

        var user = JsonDocument.Parse((await CheckedAsync(config.Path, ["user", "create", "--upn", $"ada@{domain}", "--name", "Ada", "-o", "json"],
            new() { ["STRATUS_NEW_USER_PASSWORD"] = "ada-password-123" })).StandardOutput).RootElement.GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsJsonAsync($"/api/v1/groups/{group}/members", new { id = user })).StatusCode);

        var badTemplate = await CliAsync(config.Path, ["policy", "create", "--name", "Broken", "--naming-template", "PC-%RAND:3%"]);
        Assert.Equal(1, badTemplate.ExitCode);
        Assert.Contains("cloudPcNamingTemplate", badTemplate.StandardError, StringComparison.Ordinal);

        var policy = JsonDocument.Parse((await CheckedAsync(config.Path, ["policy", "create", "--name", "Staff PCs", "--region", "local-2", "-o", "json"])).StandardOutput)
            .RootElement.GetProperty("id").GetGuid();
        await CheckedAsync(config.Path, ["policy", "assign", policy.ToString(), "--group", group.ToString(), "--plan", SmallPlan]);
        await CheckedAsync(config.Path, ["user", "license", user.ToString(), "--add", SmallPlan]);

        var pcs = await Eventually.MatchesAsync(async () => JsonDocument.Parse((await CheckedAsync(config.Path, ["cloudpc", "list", "-o", "json"])).StandardOutput).RootElement.GetProperty("value"),
            v => v.GetArrayLength() == 1 && v[0].GetProperty("status").GetString() == "provisioned", "the Cloud PC, through the CLI");
        var pc = pcs[0];
        Assert.Equal("local-2", pc.GetProperty("regionName").GetString());

        var table = await CheckedAsync(config.Path, ["cloudpc", "list"]);
        Assert.Contains(pc.GetProperty("managedDeviceName").GetString()!, table.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("provisioned", table.StandardOutput, StringComparison.Ordinal);

        var reboot = await CheckedAsync(config.Path, ["cloudpc", "reboot", pc.GetProperty("id").GetString()!, "--wait"]);
        Assert.Contains("reboot: succeeded", reboot.StandardOutput, StringComparison.Ordinal);

        var unknown = await CliAsync(config.Path, ["cloudpc", "reboot", Guid.NewGuid().ToString()]);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("error: ", unknown.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", unknown.StandardError, StringComparison.Ordinal);
    }

    private static Task<ProcessResult> CliAsync(string configFolder, string[] arguments, Dictionary<string, string?>? environment = null)
    {
        var variables = new Dictionary<string, string?>(environment ?? []) { ["XDG_CONFIG_HOME"] = configFolder };
        return ProcessRunner.RunAsync(StratusProcess.BinaryPath, arguments, TimeSpan.FromMinutes(2), variables);
    }

    private static async Task<ProcessResult> CheckedAsync(string configFolder, string[] arguments, Dictionary<string, string?>? environment = null)
    {
        var result = await CliAsync(configFolder, arguments, environment);
        Assert.True(result.ExitCode == 0, $"stratus {string.Join(' ', arguments)}: exit {result.ExitCode}: {result.StandardError}");
        return result;
    }
}
