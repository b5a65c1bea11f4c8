using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Cli;

/// <summary>The client commands against a real all-in-one: the operator sets up a tenant, its admin a user's Cloud PC, from a terminal only.</summary>
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

        var notSignedIn = await ClientCli.RunAsync(config.Path, ["cloudpc", "list"]);
        Assert.Equal(1, notSignedIn.ExitCode);
        Assert.Equal("error: not signed in: run 'stratus login --url URL --user NAME' first.", notSignedIn.StandardError.Trim());

        // The operator creates the tenant and gives it seats, from the CLI.
        using var operatorConfig = new TempFolder();
        await ClientCli.CheckedAsync(operatorConfig.Path, ["login", "--url", url, "--user", "operator"], new() { ["STRATUS_PASSWORD"] = TestAccounts.OperatorPassword });
        var domain = $"cli{Guid.NewGuid():N}"[..12] + ".test";
        const string password = "tenant-admin-pass-1";
        var created = JsonDocument.Parse((await ClientCli.CheckedAsync(operatorConfig.Path, ["tenant", "create", "--name", "Northwind", "--domain", domain, "-o", "json"],
            new() { ["STRATUS_NEW_USER_PASSWORD"] = password })).StandardOutput).RootElement;
        var tenantId = created.GetProperty("tenant").GetProperty("id").GetGuid();
        Assert.Equal($"admin@{domain}", created.GetProperty("admin").GetProperty("userPrincipalName").GetString());
        await ClientCli.CheckedAsync(operatorConfig.Path, ["tenant", "seats", tenantId.ToString(), "--plan", SmallPlan, "--units", "3"]);

        var wrongPassword = await ClientCli.RunAsync(config.Path, ["login", "--url", url, "--user", $"admin@{domain}"], new() { ["STRATUS_PASSWORD"] = "not-the-password" });
        Assert.Equal(1, wrongPassword.ExitCode);
        Assert.StartsWith("error: ", wrongPassword.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("run 'stratus login' again", wrongPassword.StandardError, StringComparison.Ordinal);

        var login = await ClientCli.RunAsync(config.Path, ["login", "--url", url, "--user", $"admin@{domain}"], new() { ["STRATUS_PASSWORD"] = password });
        Assert.True(login.ExitCode == 0, login.StandardError);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(config.Path, "stratus", "credentials.json")));

        var user = JsonDocument.Parse((await ClientCli.CheckedAsync(config.Path, ["user", "create", "--upn", $"ada@{domain}", "--name", "Ada", "-o", "json"],
            new() { ["STRATUS_NEW_USER_PASSWORD"] = "ada-password-123" })).StandardOutput).RootElement.GetProperty("id").GetGuid();
        var group = JsonDocument.Parse((await ClientCli.CheckedAsync(config.Path, ["group", "create", "--name", "Staff", "-o", "json"])).StandardOutput).RootElement.GetProperty("id").GetGuid();
        await ClientCli.CheckedAsync(config.Path, ["group", "add-member", group.ToString(), "--user", $"ada@{domain}"]);
        var members = JsonDocument.Parse((await ClientCli.CheckedAsync(config.Path, ["group", "members", group.ToString(), "-o", "json"])).StandardOutput).RootElement.GetProperty("value");
        Assert.Equal(user, Assert.Single(members.EnumerateArray()).GetProperty("id").GetGuid());

        var badTemplate = await ClientCli.RunAsync(config.Path, ["policy", "create", "--name", "Broken", "--naming-template", "PC-%RAND:3%"]);
        Assert.Equal(1, badTemplate.ExitCode);
        Assert.Contains("cloudPcNamingTemplate", badTemplate.StandardError, StringComparison.Ordinal);

        var policy = JsonDocument.Parse((await ClientCli.CheckedAsync(config.Path, ["policy", "create", "--name", "Staff PCs", "--region", "local-2", "-o", "json"])).StandardOutput)
            .RootElement.GetProperty("id").GetGuid();
        await ClientCli.CheckedAsync(config.Path, ["policy", "assign", policy.ToString(), "--group", group.ToString(), "--plan", SmallPlan]);
        await ClientCli.CheckedAsync(config.Path, ["user", "license", user.ToString(), "--add", SmallPlan]);

        var pcs = await Eventually.MatchesAsync(async () => JsonDocument.Parse((await ClientCli.CheckedAsync(config.Path, ["cloudpc", "list", "-o", "json"])).StandardOutput).RootElement.GetProperty("value"),
            v => v.GetArrayLength() == 1 && v[0].GetProperty("status").GetString() == "provisioned", "the Cloud PC, through the CLI");
        var pc = pcs[0];
        Assert.Equal("local-2", pc.GetProperty("regionName").GetString());

        var table = await ClientCli.CheckedAsync(config.Path, ["cloudpc", "list"]);
        Assert.Contains(pc.GetProperty("managedDeviceName").GetString()!, table.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("provisioned", table.StandardOutput, StringComparison.Ordinal);

        var reboot = await ClientCli.CheckedAsync(config.Path, ["cloudpc", "reboot", pc.GetProperty("id").GetString()!, "--wait"]);
        Assert.Contains("reboot: succeeded", reboot.StandardOutput, StringComparison.Ordinal);

        // Restore points: take one, list it, restore to it, export it.
        var pcId = pc.GetProperty("id").GetString()!;
        var snapshot = JsonDocument.Parse((await ClientCli.CheckedAsync(config.Path, ["cloudpc", "create-snapshot", pcId, "--wait", "-o", "json"])).StandardOutput).RootElement;
        Assert.Equal("succeeded", snapshot.GetProperty("status").GetString());
        var pointId = snapshot.GetProperty("id").GetString()!;
        var points = await ClientCli.CheckedAsync(config.Path, ["cloudpc", "snapshots", pcId]);
        Assert.Contains(pointId, points.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("manual", points.StandardOutput, StringComparison.Ordinal);
        var restore = await ClientCli.CheckedAsync(config.Path, ["cloudpc", "restore", pcId, "--snapshot", pointId, "--wait"]);
        Assert.Contains("restore: succeeded", restore.StandardOutput, StringComparison.Ordinal);
        var export = await ClientCli.CheckedAsync(config.Path, ["cloudpc", "export-snapshot", pcId, "--snapshot", pointId, "--wait"]);
        Assert.Contains("export-snapshot: succeeded (" + Path.Combine(data.Path, "exports"), export.StandardOutput, StringComparison.Ordinal);
        var wrongPoint = await ClientCli.RunAsync(config.Path, ["cloudpc", "restore", pcId, "--snapshot", Guid.NewGuid().ToString()]);
        Assert.Equal(1, wrongPoint.ExitCode);
        Assert.Contains("has no restore point", wrongPoint.StandardError, StringComparison.Ordinal);

        var unknown = await ClientCli.RunAsync(config.Path, ["cloudpc", "reboot", Guid.NewGuid().ToString()]);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("error: ", unknown.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", unknown.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_operator_manages_tenants_and_an_admin_manages_groups_from_the_cli_with_one_line_errors()
    {
        using var data = new TempFolder();
        using var operatorConfig = new TempFolder();
        using var adminConfig = new TempFolder();
        using var otherConfig = new TempFolder();
        await using var stratus = await StratusProcess.StartAsync(["up", "--hosts", "simulated"], data.Path);
        var url = stratus.BaseAddress.ToString().TrimEnd('/');
        await ClientCli.CheckedAsync(operatorConfig.Path, ["login", "--url", url, "--user", "operator"], new() { ["STRATUS_PASSWORD"] = TestAccounts.OperatorPassword });

        const string password = "tenant-admin-pass-1";
        var domain = $"t{Guid.NewGuid():N}"[..12] + ".test";
        var otherDomain = $"u{Guid.NewGuid():N}"[..12] + ".test";
        var newPassword = new Dictionary<string, string?> { ["STRATUS_NEW_USER_PASSWORD"] = password };
        var table = await ClientCli.CheckedAsync(operatorConfig.Path, ["tenant", "create", "--name", "Contoso", "--domain", domain, "--admin", $"boss@{domain}"], newPassword);
        Assert.Contains($"boss@{domain}", table.StandardOutput, StringComparison.Ordinal);
        var tenantId = TenantId(await ClientCli.CheckedAsync(operatorConfig.Path, ["tenant", "list", "-o", "json"]), domain);
        await ClientCli.CheckedAsync(operatorConfig.Path, ["tenant", "create", "--name", "Other", "--domain", otherDomain], newPassword);
        AssertOneLineError(await ClientCli.RunAsync(operatorConfig.Path, ["tenant", "create", "--name", "Again", "--domain", domain], newPassword), "already exists");
        AssertOneLineError(await ClientCli.RunAsync(operatorConfig.Path, ["tenant", "create", "--name", "No password", "--domain", "x" + domain]), "STRATUS_NEW_USER_PASSWORD");

        var list = await ClientCli.CheckedAsync(operatorConfig.Path, ["tenant", "list"]);
        Assert.Contains(domain, list.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("active", list.StandardOutput, StringComparison.Ordinal);

        // Deleting asks for --yes, then for the tenant to be suspended first.
        AssertOneLineError(await ClientCli.RunAsync(operatorConfig.Path, ["tenant", "delete", tenantId.ToString()]), "--yes");
        AssertOneLineError(await ClientCli.RunAsync(operatorConfig.Path, ["tenant", "delete", tenantId.ToString(), "--yes"]), "Suspend tenant");

        // The tenant's administrator: no tenant commands, the groups of its own tenant only.
        await ClientCli.CheckedAsync(adminConfig.Path, ["login", "--url", url, "--user", $"boss@{domain}"], new() { ["STRATUS_PASSWORD"] = password });
        AssertOneLineError(await ClientCli.RunAsync(adminConfig.Path, ["tenant", "list"]), "role");
        var temp = GroupId(await ClientCli.CheckedAsync(adminConfig.Path, ["group", "create", "--name", "Temp", "--description", "for a while", "-o", "json"]));
        GroupId(await ClientCli.CheckedAsync(adminConfig.Path, ["group", "create", "--name", "Keep", "-o", "json"]));
        var groups = await ClientCli.CheckedAsync(adminConfig.Path, ["group", "list"]);
        Assert.Contains("Temp", groups.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Keep", groups.StandardOutput, StringComparison.Ordinal);
        var named = JsonDocument.Parse((await ClientCli.CheckedAsync(adminConfig.Path, ["group", "list", "--name", "Temp", "-o", "json"])).StandardOutput).RootElement.GetProperty("value");
        Assert.Equal(temp, Assert.Single(named.EnumerateArray()).GetProperty("id").GetGuid());

        var bob = JsonDocument.Parse((await ClientCli.CheckedAsync(adminConfig.Path, ["user", "create", "--upn", $"bob@{domain}", "-o", "json"],
            new() { ["STRATUS_NEW_USER_PASSWORD"] = "bob-password-123" })).StandardOutput).RootElement.GetProperty("id").GetGuid();
        await ClientCli.CheckedAsync(adminConfig.Path, ["group", "add-member", temp.ToString(), "--user", bob.ToString()]);
        Assert.Contains($"bob@{domain}", (await ClientCli.CheckedAsync(adminConfig.Path, ["group", "members", temp.ToString()])).StandardOutput, StringComparison.Ordinal);
        AssertOneLineError(await ClientCli.RunAsync(adminConfig.Path, ["group", "add-member", temp.ToString(), "--user", $"nobody@{domain}"]), $"no user 'nobody@{domain}'");

        // Another tenant's administrator does not see this tenant's group.
        await ClientCli.CheckedAsync(otherConfig.Path, ["login", "--url", url, "--user", $"admin@{otherDomain}"], new() { ["STRATUS_PASSWORD"] = password });
        AssertOneLineError(await ClientCli.RunAsync(otherConfig.Path, ["group", "members", temp.ToString()]), temp.ToString());
        AssertOneLineError(await ClientCli.RunAsync(otherConfig.Path, ["group", "delete", temp.ToString(), "--yes"]), temp.ToString());
        Assert.DoesNotContain("Temp", (await ClientCli.CheckedAsync(otherConfig.Path, ["group", "list"])).StandardOutput, StringComparison.Ordinal);

        await ClientCli.CheckedAsync(adminConfig.Path, ["group", "remove-member", temp.ToString(), "--user", $"bob@{domain}"]);
        Assert.Contains("Nothing here yet.", (await ClientCli.CheckedAsync(adminConfig.Path, ["group", "members", temp.ToString()])).StandardOutput, StringComparison.Ordinal);
        AssertOneLineError(await ClientCli.RunAsync(adminConfig.Path, ["group", "remove-member", temp.ToString(), "--user", $"bob@{domain}"]), bob.ToString());
        AssertOneLineError(await ClientCli.RunAsync(adminConfig.Path, ["group", "delete", temp.ToString()]), "--yes");
        await ClientCli.CheckedAsync(adminConfig.Path, ["group", "delete", temp.ToString(), "--yes"]);
        var left = JsonDocument.Parse((await ClientCli.CheckedAsync(adminConfig.Path, ["group", "list", "-o", "json"])).StandardOutput).RootElement.GetProperty("value");
        Assert.Equal(["Keep"], left.EnumerateArray().Select(g => g.GetProperty("displayName").GetString()));
        AssertOneLineError(await ClientCli.RunAsync(adminConfig.Path, ["group", "delete", temp.ToString(), "--yes"]), temp.ToString());

        // Suspended, its administrator cannot sign in; active again, they can; suspended and deleted, it is gone.
        Assert.Contains("suspended", (await ClientCli.CheckedAsync(operatorConfig.Path, ["tenant", "suspend", tenantId.ToString()])).StandardOutput, StringComparison.Ordinal);
        AssertOneLineError(await ClientCli.RunAsync(adminConfig.Path, ["login", "--url", url, "--user", $"boss@{domain}"], new() { ["STRATUS_PASSWORD"] = password }), "suspended");
        var activated = JsonDocument.Parse((await ClientCli.CheckedAsync(operatorConfig.Path, ["tenant", "activate", tenantId.ToString(), "-o", "json"])).StandardOutput).RootElement;
        Assert.Equal("active", activated.GetProperty("state").GetString());
        await ClientCli.CheckedAsync(adminConfig.Path, ["login", "--url", url, "--user", $"boss@{domain}"], new() { ["STRATUS_PASSWORD"] = password });
        await ClientCli.CheckedAsync(operatorConfig.Path, ["tenant", "suspend", tenantId.ToString()]);
        Assert.Contains("Deleted tenant", (await ClientCli.CheckedAsync(operatorConfig.Path, ["tenant", "delete", tenantId.ToString(), "--yes"])).StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(domain, (await ClientCli.CheckedAsync(operatorConfig.Path, ["tenant", "list"])).StandardOutput, StringComparison.Ordinal);
        AssertOneLineError(await ClientCli.RunAsync(operatorConfig.Path, ["tenant", "suspend", tenantId.ToString()]), tenantId.ToString());
    }

    private static Guid TenantId(ProcessResult list, string domain) =>
        JsonDocument.Parse(list.StandardOutput).RootElement.GetProperty("value").EnumerateArray()
            .Single(t => t.GetProperty("domain").GetString() == domain).GetProperty("id").GetGuid();

    private static Guid GroupId(ProcessResult created) => JsonDocument.Parse(created.StandardOutput).RootElement.GetProperty("id").GetGuid();

    /// <summary>A refusal: exit 1 and one line on stderr that says what is wrong, no stack trace.</summary>
    private static void AssertOneLineError(ProcessResult result, string mentions)
    {
        Assert.True(result.ExitCode == 1, $"exit {result.ExitCode}: {result.StandardOutput}{result.StandardError}");
        var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"Expected one line on stderr:\n{result.StandardError}");
        Assert.StartsWith("error: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(mentions, lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StandardError, StringComparison.Ordinal);
    }
}
