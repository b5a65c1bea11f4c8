using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.Monitoring.Tests;

/// <summary>Each rule's bad event opens its record and its good event resolves it.</summary>
[Collection(MonitoringCollection.Name)]
public sealed class EventRulesTests(MonitoringHosts hosts)
{
    [Theory]
    [MemberData(nameof(MonitoringHosts.Providers), MemberType = typeof(MonitoringHosts))]
    public async Task NetworkCheckFailure_GracePeriod_AndImageFailure_OpenAndResolve(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var now = TimeProvider.System.GetUtcNow();
        var connection = Guid.NewGuid();
        var cloudPc = Guid.NewGuid();
        var image = Guid.NewGuid();
        await host.PublishAsync(new NetworkConnectionHealthChanged(tenant.Id, connection, "Corp A", "failed", now));
        await host.PublishAsync(new CloudPcStatusChanged(tenant.Id, cloudPc, Guid.NewGuid(), "inGracePeriod", null, now));
        await host.PublishAsync(new DeviceImageFailed(image, tenant.Id, "Golden", "1.0", "sourceImageInvalid", "Not a disk image.", now));

        var active = await Eventually.UntilAsync(() => tenant.RecordsAsync("active"), r => r.Count == 3, "three active records");
        Assert.Equal(
            ["cloudPcImageUploadScenario", "cloudPcInGracePeriodScenario", "cloudPcOnPremiseNetworkConnectionCheckScenario"],
            active.Select(r => r.GetProperty("alertRuleTemplate").GetString()).Order(StringComparer.Ordinal));
        Assert.Contains("Corp A", active.Single(r => r.GetProperty("alertRuleTemplate").GetString() == "cloudPcOnPremiseNetworkConnectionCheckScenario")
            .GetProperty("detail").GetString(), StringComparison.Ordinal);

        await host.PublishAsync(new NetworkConnectionHealthChanged(tenant.Id, connection, "Corp A", "passed", now));
        await host.PublishAsync(new CloudPcStatusChanged(tenant.Id, cloudPc, Guid.NewGuid(), "deprovisioning", null, now));
        await host.PublishAsync(new DeviceImageDeleted(image, tenant.Id, "Golden", "1.0", now));

        await Eventually.UntilAsync(() => tenant.RecordsAsync("active"), r => r.Count == 0, "every record resolved");
        var resolved = await tenant.RecordsAsync("resolved");
        Assert.Equal(3, resolved.Count);
        Assert.All(resolved, r => Assert.Equal(0, r.GetProperty("alertImpact").GetProperty("value").GetInt32()));
        var filtered = (await tenant.Admin.GetFromJsonAsync<JsonElement>($"{TestTenant.Records}?$filter=alertRuleTemplate eq 'cloudPcInGracePeriodScenario'")).GetProperty("value");
        Assert.Equal(1, filtered.GetArrayLength());
    }
}
