using System.Globalization;
using System.Text.RegularExpressions;
using Stratus.Provisioning.Tests.Support;

namespace Stratus.Provisioning.Tests;

/// <summary>The provisioning metrics in the /metrics of a real process: a Cloud PC provisioned, then rebooted.</summary>
public sealed partial class ProvisioningMetricsTests(ProvisioningHost host) : IClassFixture<ProvisioningHost>
{
    [Fact]
    public async Task ProvisionedThenRebooted_IsCountedInTheDurationHistogramAndTheOperations()
    {
        using var tenant = await host.CreateTenantAsync();
        var user = await tenant.CreateUserAsync("ada");
        var group = await tenant.CreateGroupAsync("Developers");
        await tenant.AddMemberAsync(group, user);
        await tenant.AssignLicenseAsync(user, Plans.Small);
        var policy = await tenant.CreatePolicyAsync();
        await tenant.AssignAsync(policy.Id, (group, Plans.Small));
        var pc = await tenant.WaitForCloudPcAsync(p => p.Status == "provisioned", "the Cloud PC to be provisioned");

        var provisioned = Value(await MetricsAsync(), "stratus_provisioning_duration_seconds_count", "outcome=\"Provisioned\"");
        Assert.True(provisioned >= 1, $"provisioned count {provisioned}");

        await tenant.WaitForSuccessAsync(await tenant.ActAsync(pc.Id, "reboot"));
        var rebooted = await Eventually.UntilAsync(async () => Value(await MetricsAsync(), "stratus_provisioning_operations_total", "action=\"reboot\""),
            v => v >= 1, "the reboot counted");
        Assert.True(rebooted >= 1);
    }

    private async Task<string> MetricsAsync() => await host.Stratus.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative));

    /// <summary>The sum of the samples of a metric whose labels contain the given one (0 when none).</summary>
    private static double Value(string metrics, string name, string label) =>
        metrics.Split('\n')
            .Select(line => Sample().Match(line))
            .Where(m => m.Success && m.Groups["name"].Value == name && m.Groups["labels"].Value.Contains(label, StringComparison.Ordinal))
            .Sum(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex(@"^(?<name>[a-z_]+)\{(?<labels>[^}]*)\} (?<value>[0-9.eE+-]+)")]
    private static partial Regex Sample();
}
