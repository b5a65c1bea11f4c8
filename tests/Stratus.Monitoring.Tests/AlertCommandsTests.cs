using System.Text.Json;
using Stratus.Testing;

namespace Stratus.Monitoring.Tests;

/// <summary>`stratus alert ...` as an administrator runs it, against the SQLite host, with its own session folder.</summary>
[Collection(MonitoringCollection.Name)]
public sealed class AlertCommandsTests(MonitoringHosts hosts)
{
    [Fact]
    public async Task AnAdmin_ListsChangesAndResolves_FromTheCli()
    {
        var host = hosts.Host("sqlite");
        using var tenant = await host.CreateTenantAsync();
        using var config = new TempFolder();
        await CheckedAsync(config.Path, ["login", "--url", host.Process.BaseAddress.ToString().TrimEnd('/'), "--user", $"admin@{tenant.Domain}"],
            new() { ["STRATUS_PASSWORD"] = "admin-password-123" });

        var rules = JsonDocument.Parse((await CheckedAsync(config.Path, ["alert", "rules", "-o", "json"])).StandardOutput).RootElement.GetProperty("value");
        var rule = rules.EnumerateArray().Single(r => r.GetProperty("alertRuleTemplate").GetString() == "cloudPcImageUploadScenario");
        var id = rule.GetProperty("id").GetString()!;
        Assert.Contains("Image upload failures", (await CheckedAsync(config.Path, ["alert", "rules"])).StandardOutput, StringComparison.Ordinal);

        var refused = await RunAsync(config.Path, ["alert", "update", id, "--severity", "urgent"]);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("severity", refused.StandardError, StringComparison.Ordinal);

        var recipient = $"cli-{Guid.NewGuid():N}@{tenant.Domain}";
        var updated = JsonDocument.Parse((await CheckedAsync(config.Path, ["alert", "update", id, "--severity", "critical", "--email", recipient, "-o", "json"])).StandardOutput).RootElement;
        Assert.Equal("critical", updated.GetProperty("severity").GetString());
        Assert.Equal(recipient, updated.GetProperty("notificationChannels")[1].GetProperty("notificationReceivers")[0].GetProperty("contactInformation").GetString());

        await host.PublishAsync(new DeviceImageFailed(Guid.NewGuid(), tenant.Id, "Golden", "2.0", "sourceImageInvalid", "Not a disk image.", TimeProvider.System.GetUtcNow()));
        var record = await Eventually.UntilAsync(async () =>
            JsonDocument.Parse((await CheckedAsync(config.Path, ["alert", "records", "--status", "active", "-o", "json"])).StandardOutput).RootElement.GetProperty("value"),
            v => v.GetArrayLength() == 1, "the active record in the CLI");
        var recordId = record[0].GetProperty("alertRecordId").GetString()!;
        await Eventually.UntilAsync(() => hosts.Smtp.To(recipient), m => m.Count == 1, "the e-mail");

        var resolved = JsonDocument.Parse((await CheckedAsync(config.Path, ["alert", "resolve", recordId, "-o", "json"])).StandardOutput).RootElement;
        Assert.Equal("resolved", resolved.GetProperty("status").GetString());
        var deliveries = await Eventually.UntilAsync(async () =>
            JsonDocument.Parse((await CheckedAsync(config.Path, ["alert", "deliveries", id, "-o", "json"])).StandardOutput).RootElement.GetProperty("value"),
            v => v.GetArrayLength() == 2 && v.EnumerateArray().All(d => d.GetProperty("status").GetString() == "delivered"), "both e-mails delivered");
        Assert.All(deliveries.EnumerateArray(), d => Assert.Equal("email", d.GetProperty("channel").GetString()));
    }

    private static Task<ProcessResult> RunAsync(string configFolder, string[] arguments, Dictionary<string, string?>? environment = null)
    {
        var variables = new Dictionary<string, string?>(environment ?? []) { ["XDG_CONFIG_HOME"] = configFolder };
        return ProcessRunner.RunAsync(StratusProcess.BinaryPath, arguments, TimeSpan.FromMinutes(3), variables);
    }

    private static async Task<ProcessResult> CheckedAsync(string configFolder, string[] arguments, Dictionary<string, string?>? environment = null)
    {
        var result = await RunAsync(configFolder, arguments, environment);
        Assert.True(result.ExitCode == 0, $"stratus {string.Join(' ', arguments)}: exit {result.ExitCode}: {result.StandardError}");
        return result;
    }
}
