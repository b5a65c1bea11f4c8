using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Provisioning.Tests.Support;

namespace Stratus.Provisioning.Tests;

/// <summary>
/// GET /api/v1/cloudPCs/disasterRecovery: the disaster recovery rows of a page of the Cloud PC list in one call (the
/// admin portal's Cloud PCs page reads it once per refresh), only ever of the caller's tenant, and bad queries refused.
/// </summary>
public sealed class DisasterRecoveryListTests(ProvisioningHost host) : IClassFixture<ProvisioningHost>
{
    private const string List = "/api/v1/cloudPCs/disasterRecovery";

    [Fact]
    public async Task The_list_gives_the_rows_of_the_same_page_as_the_cloud_pc_list_and_never_another_tenants()
    {
        using var tenant = await host.CreateTenantAsync("drl");
        using var other = await host.CreateTenantAsync("drlx");
        var provisioning = new[] { tenant.ProvisionAsync("ada", region: "local-1"), tenant.ProvisionAsync("bob", region: "local-1", policyName: "Designers"), other.ProvisionAsync("eve") };
        var (ada, bob, eve) = (await provisioning[0], await provisioning[1], await provisioning[2]);

        // ada is protected to local-2; bob is not.
        var setting = await tenant.Admin.PostAsJsonAsync("/api/v1/userSettings", new
        {
            displayName = "Protected",
            crossRegionDisasterRecoverySetting = new { disasterRecoveryType = "crossRegion", disasterRecoveryNetworkSetting = new { regionName = "local-2" } },
        });
        Assert.True(setting.IsSuccessStatusCode, await setting.Content.ReadAsStringAsync());
        var settingId = (await setting.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var assigned = await tenant.Admin.PostAsJsonAsync($"/api/v1/userSettings/{settingId}/assign",
            new { assignments = new[] { new { target = new { groupId = ada.GroupId }, priority = 1 } } });
        Assert.True(assigned.IsSuccessStatusCode, await assigned.Content.ReadAsStringAsync());
        await Eventually.UntilAsync(() => tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/cloudPCs/{ada.CloudPc.Id}"),
            p => p.GetProperty("disasterRecoveryCapability").GetProperty("secondaryRegion").GetString() == "local-2", "ada's Cloud PC to have a backup region");

        // The same query gives the same Cloud PCs in the same order as the Cloud PC list, each once.
        foreach (var query in new[] { "", "?$orderby=userPrincipalName desc", "?$orderby=managedDeviceName&$top=1&$skip=1" })
        {
            var cloudPcs = await tenant.CloudPcPageAsync(query);
            var rows = await ListAsync(tenant.Admin, query);
            Assert.Equal(cloudPcs.Value.Select(p => p.Id), rows.Value.Select(r => r.GetProperty("cloudPcId").GetGuid()));
            Assert.Equal(cloudPcs.TotalCount, rows.TotalCount);
        }

        var all = (await ListAsync(tenant.Admin, "")).Value;
        Assert.Equal(2, all.Count);
        var adaRow = Assert.Single(all, r => r.GetProperty("cloudPcId").GetGuid() == ada.CloudPc.Id);
        Assert.Equal(("crossRegion", "local-2", "notFailedOver", ada.UserPrincipalName),
            (adaRow.GetProperty("disasterRecoveryType").GetString(), adaRow.GetProperty("backupRegion").GetString(),
                adaRow.GetProperty("disasterRecoveryStatus").GetString(), adaRow.GetProperty("userPrincipalName").GetString()));
        var bobRow = Assert.Single(all, r => r.GetProperty("cloudPcId").GetGuid() == bob.CloudPc.Id);
        Assert.Equal("notConfigured", bobRow.GetProperty("disasterRecoveryType").GetString());

        // The row's latest copy is the one the Cloud PC's own disasterRecovery shows for the backup region.
        var single = await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/cloudPCs/{ada.CloudPc.Id}/disasterRecovery");
        var backupCopy = single.GetProperty("diskCopies").EnumerateArray().Where(c => c.GetProperty("region").GetString() == "local-2")
            .Select(c => c.GetProperty("latestCopyAt")).FirstOrDefault();
        var rowCopy = adaRow.GetProperty("latestCopyDateTime");
        Assert.Equal(backupCopy.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null, rowCopy.ValueKind == JsonValueKind.Null);

        // The other tenant's admin sees only eve's, whatever the filter names.
        var theirs = await ListAsync(other.Admin, "");
        Assert.Equal([eve.CloudPc.Id], theirs.Value.Select(r => r.GetProperty("cloudPcId").GetGuid()));
        var named = await ListAsync(other.Admin, "?$filter=" + Uri.EscapeDataString($"userPrincipalName eq '{ada.UserPrincipalName}'"));
        Assert.Equal(0, named.TotalCount);
        Assert.Empty(named.Value);
    }

    [Theory]
    [InlineData("?$filter=health eq 'stale'", "$filter")]
    [InlineData("?$filter=status eq 'sleeping'", "$filter")]
    [InlineData("?$filter=status ne 'provisioned'", "$filter")]
    [InlineData("?$orderby=health", "$orderby")]
    [InlineData("?$top=0", "$top")]
    [InlineData("?$skip=-1", "$skip")]
    public async Task A_bad_query_is_refused_with_the_field_named(string query, string field)
    {
        using var tenant = await host.CreateTenantAsync("drlq");

        var message = await Problem.AssertValidationAsync(await tenant.Admin.GetAsync(List + query), field);

        // Each says what is wrong in words an admin can act on, not only which parameter.
        Assert.True(message.Length > field.Length + 10, message);
    }

    private static async Task<Page<JsonElement>> ListAsync(HttpClient admin, string query) =>
        (await admin.GetFromJsonAsync<Page<JsonElement>>(List + query))!;
}
