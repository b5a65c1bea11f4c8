using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.Monitoring.Tests;

/// <summary>A tenant never sees or changes another's rules, records or deliveries; a user who is no administrator none at all.</summary>
[Collection(MonitoringCollection.Name)]
public sealed class TenantIsolationTests(MonitoringHosts hosts)
{
    [Theory]
    [MemberData(nameof(MonitoringHosts.Providers), MemberType = typeof(MonitoringHosts))]
    public async Task TenantA_CannotReachTenantBsRulesOrRecords(string provider)
    {
        var host = hosts.Host(provider);
        using var a = await host.CreateTenantAsync();
        using var b = await host.CreateTenantAsync();
        var bRule = (await b.RuleAsync("cloudPcInGracePeriodScenario")).GetProperty("id").GetGuid();
        await host.PublishAsync(new CloudPcStatusChanged(b.Id, Guid.NewGuid(), Guid.NewGuid(), "inGracePeriod", null, TimeProvider.System.GetUtcNow()));
        var bRecord = Assert.Single(await Eventually.UntilAsync(() => b.RecordsAsync("active"), r => r.Count > 0, "B's record")).GetProperty("alertRecordId").GetGuid();

        await Problem.AssertAsync(await a.Admin.GetAsync($"{TestTenant.Rules}/{bRule}"), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await a.Admin.PatchAsJsonAsync($"{TestTenant.Rules}/{bRule}", new { enabled = false }), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await a.Admin.GetAsync($"{TestTenant.Rules}/{bRule}/deliveries"), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await a.Admin.GetAsync($"{TestTenant.Records}/{bRecord}"), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await a.Admin.PostAsJsonAsync($"{TestTenant.Records}/{bRecord}/changeStatus", new { status = "resolved" }), HttpStatusCode.NotFound);
        Assert.Empty(await a.RecordsAsync());
        Assert.DoesNotContain(bRule, (await a.Admin.GetFromJsonAsync<JsonElement>(TestTenant.Rules)).GetProperty("value").EnumerateArray().Select(r => r.GetProperty("id").GetGuid()));

        Assert.True((await b.RuleAsync("cloudPcInGracePeriodScenario")).GetProperty("enabled").GetBoolean());
        Assert.Equal("active", (await b.Admin.GetFromJsonAsync<JsonElement>($"{TestTenant.Records}/{bRecord}")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task AUser_WhoIsNoAdministrator_IsRefused()
    {
        var host = hosts.Host("sqlite");
        using var tenant = await host.CreateTenantAsync();
        var created = await tenant.Admin.PostAsJsonAsync("/api/v1/users", new
        {
            userPrincipalName = "ada@" + tenant.Domain,
            displayName = "Ada",
            passwordProfile = new { password = "user-password-123" },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var user = await host.Process.SignedInClientAsync("ada@" + tenant.Domain, "user-password-123");

        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync(TestTenant.Rules)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync(TestTenant.Records)).StatusCode);
        var rule = (await tenant.RuleAsync("cloudPcProvisionScenario")).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.Forbidden, (await user.PatchAsJsonAsync($"{TestTenant.Rules}/{rule}", new { enabled = false })).StatusCode);
        Assert.True((await tenant.RuleAsync("cloudPcProvisionScenario")).GetProperty("enabled").GetBoolean());
    }
}
