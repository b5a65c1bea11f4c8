using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.Monitoring.Tests;

/// <summary>The built-in rules, their threshold, a record resolved by hand, and every bad input refused with nothing saved.</summary>
[Collection(MonitoringCollection.Name)]
public sealed class RulesApiTests(MonitoringHosts hosts)
{
    [Theory]
    [MemberData(nameof(MonitoringHosts.Providers), MemberType = typeof(MonitoringHosts))]
    public async Task ATenant_HasTheBuiltInRules_OnByDefault(string provider)
    {
        using var tenant = await hosts.Host(provider).CreateTenantAsync();
        var rules = (await tenant.Admin.GetFromJsonAsync<JsonElement>(TestTenant.Rules)).GetProperty("value").EnumerateArray().ToList();

        Assert.Equal(
            ["cloudPcProvisionScenario", "cloudPcImageUploadScenario", "cloudPcOnPremiseNetworkConnectionCheckScenario", "cloudPcInGracePeriodScenario", "cloudPcDiskCopyScenario"],
            rules.Select(r => r.GetProperty("alertRuleTemplate").GetString()));
        Assert.All(rules, r =>
        {
            Assert.True(r.GetProperty("enabled").GetBoolean());
            Assert.Equal("count", r.GetProperty("threshold").GetProperty("aggregation").GetString());
            Assert.Equal("greaterOrEqual", r.GetProperty("threshold").GetProperty("operator").GetString());
            Assert.Equal(1, r.GetProperty("threshold").GetProperty("target").GetInt32());
            Assert.Equal("portal", r.GetProperty("notificationChannels")[0].GetProperty("notificationChannelType").GetString());
        });
        var again = (await tenant.Admin.GetFromJsonAsync<JsonElement>(TestTenant.Rules)).GetProperty("value").EnumerateArray();
        Assert.Equal(rules.Select(r => r.GetProperty("id").GetGuid()), again.Select(r => r.GetProperty("id").GetGuid()));
    }

    [Theory]
    [MemberData(nameof(MonitoringHosts.Providers), MemberType = typeof(MonitoringHosts))]
    public async Task ARecord_OpensAtTheThreshold_AndAnAdministratorCanResolveIt(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var ruleId = (await tenant.RuleAsync("cloudPcDiskCopyScenario")).GetProperty("id").GetGuid();
        await tenant.PatchAsync(ruleId, new { threshold = new { target = 2 } });

        var first = Guid.NewGuid();
        await host.PublishAsync(new DiskCopyStale(first, tenant.Id, "local-1", null, "no copy yet"));
        // The positive signal that the first event was handled: the monitoring store counts its impact.
        await Eventually.UntilAsync(async () =>
        {
            await using var store = host.OpenStore();
            return store.Impacts.Count(i => i.Scope == tenant.Id);
        }, n => n == 1, "the first impact recorded");
        Assert.Empty(await tenant.RecordsAsync());

        await host.PublishAsync(new DiskCopyStale(Guid.NewGuid(), tenant.Id, "local-1", null, "no copy yet"));
        var record = Assert.Single(await Eventually.UntilAsync(() => tenant.RecordsAsync("active"), r => r.Count > 0, "the record at two impacts"));
        Assert.Equal(2, record.GetProperty("alertImpact").GetProperty("value").GetInt32());
        var id = record.GetProperty("alertRecordId").GetGuid();

        var resolved = await tenant.Admin.PostAsJsonAsync($"{TestTenant.Records}/{id}/changeStatus", new { status = "resolved" });
        Assert.Equal(HttpStatusCode.OK, resolved.StatusCode);
        Assert.Equal("resolved", (await resolved.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.Empty(await tenant.RecordsAsync("active"));
        Assert.Single(await tenant.RecordsAsync("resolved"));

        // The copies of the first VM come back: nothing was impacted any more, so nothing changes.
        await host.PublishAsync(new DiskCopyHealthy(first, tenant.Id, "local-1", TimeProvider.System.GetUtcNow()));
        Assert.Single(await tenant.RecordsAsync());
    }

    public static TheoryData<string, string> BadPatches() => new()
    {
        { """{"severity":"urgent"}""", "severity" },
        { """{"threshold":{"target":0}}""", "threshold.target" },
        { """{"threshold":{"operator":"lessThan"}}""", "threshold.operator" },
        { """{"threshold":{"aggregation":"percentage"}}""", "threshold.aggregation" },
        { """{"displayName":"Mine"}""", "displayName" },
        { """{"notificationChannels":[{"notificationChannelType":"sms"}]}""", "notificationChannels[0].notificationChannelType" },
        { """{"notificationChannels":[{"notificationChannelType":"email","notificationReceivers":[]}]}""", "notificationChannels[0].notificationReceivers" },
        { """{"notificationChannels":[{"notificationChannelType":"email","notificationReceivers":[{"contactInformation":"not an address"}]}]}""",
            "notificationChannels[0].notificationReceivers[0].contactInformation" },
        { """{"notificationChannels":[{"notificationChannelType":"webhook","url":"ftp://example.com/x","secret":"0123456789abcdef"}]}""", "notificationChannels[0].url" },
        { """{"notificationChannels":[{"notificationChannelType":"webhook","url":"/relative","secret":"0123456789abcdef"}]}""", "notificationChannels[0].url" },
        { """{"notificationChannels":[{"notificationChannelType":"webhook","url":"https://hooks.example.com/x"}]}""", "notificationChannels[0].secret" },
        { """{"notificationChannels":[{"notificationChannelType":"webhook","url":"https://hooks.example.com/x","secret":"short"}]}""", "notificationChannels[0].secret" },
        { """{"notificationChannels":[{"notificationChannelType":"portal"},{"notificationChannelType":"portal"}]}""", "notificationChannels" },
    };

    [Theory]
    [MemberData(nameof(BadPatches))]
    public async Task Patch_WithBadInput_Answers400NamingTheField_AndSavesNothing(string body, string field)
    {
        using var tenant = await hosts.Host("sqlite").CreateTenantAsync();
        // The first read creates the rules; compare with the rule as stored.
        await tenant.RuleAsync("cloudPcProvisionScenario");
        var before = await tenant.RuleAsync("cloudPcProvisionScenario");
        var id = before.GetProperty("id").GetGuid();
        // Valid changes beside the bad one must not be saved either.
        var withValid = body.Insert(1, "\"enabled\":false,");

        using var content = new StringContent(withValid, System.Text.Encoding.UTF8, "application/json");
        var problem = await Problem.AssertAsync(await tenant.Admin.PatchAsync($"{TestTenant.Rules}/{id}", content), HttpStatusCode.BadRequest);

        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out var messages), $"errors name {field}: {problem}");
        Assert.False(string.IsNullOrWhiteSpace(messages[0].GetString()));
        Assert.Equal(before.GetRawText(), (await tenant.RuleAsync("cloudPcProvisionScenario")).GetRawText());
    }

    [Fact]
    public async Task BadQueriesAndBodies_Answer400()
    {
        using var tenant = await hosts.Host("sqlite").CreateTenantAsync();
        await Problem.AssertAsync(await tenant.Admin.GetAsync($"{TestTenant.Records}?$filter=status eq 'open'"), HttpStatusCode.BadRequest);
        await Problem.AssertAsync(await tenant.Admin.GetAsync($"{TestTenant.Records}?$filter=severity gt 2"), HttpStatusCode.BadRequest);
        await Problem.AssertAsync(await tenant.Admin.GetAsync($"{TestTenant.Records}?$top=0"), HttpStatusCode.BadRequest);
        var rule = (await tenant.RuleAsync("cloudPcProvisionScenario")).GetProperty("id").GetGuid();
        await Problem.AssertAsync(await tenant.Admin.GetAsync($"{TestTenant.Rules}/{rule}/deliveries?$skip=-1"), HttpStatusCode.BadRequest);
        using var nothing = new StringContent("", System.Text.Encoding.UTF8, "application/json");
        await Problem.AssertAsync(await tenant.Admin.PatchAsync($"{TestTenant.Rules}/{rule}", nothing), HttpStatusCode.BadRequest);
        await Problem.AssertAsync(await tenant.Admin.PostAsJsonAsync($"{TestTenant.Records}/{Guid.NewGuid()}/changeStatus", new { status = "active" }), HttpStatusCode.BadRequest);
        await Problem.AssertAsync(await tenant.Admin.PostAsJsonAsync($"{TestTenant.Records}/{Guid.NewGuid()}/changeStatus", new { status = "resolved" }), HttpStatusCode.NotFound);
    }
}
