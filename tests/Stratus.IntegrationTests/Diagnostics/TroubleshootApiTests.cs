using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;
using static Stratus.IntegrationTests.Diagnostics.TroubleshootTenant;

namespace Stratus.IntegrationTests.Diagnostics;

/// <summary>
/// The troubleshoot API's contract, bad input and tenant isolation on a real `stratus up` whose embedded hosts use the
/// simulated driver (no VM matters here; the QEMU path is TroubleshootOnQemuTests).
/// </summary>
public sealed class TroubleshootApiTests
{
    private static readonly string[] AllChecks =
        ["cloudPcRecord", "hostReporting", "vmRunning", "networkConnection", "diskCopies", "restorePoints", "lastConsoleSession", "hostDiskSpace"];

    [Fact]
    public async Task Troubleshoot_is_tenant_scoped_refuses_bad_input_and_keeps_its_results()
    {
        using var data = new TempFolder();
        await TinyImageFolder.InstallIntoAsync(data.Path);
        await using var stratus = await StratusProcess.StartAsync(["up", "--hosts", "simulated"], data.Path);
        using var operatorClient = await stratus.OperatorClientAsync();
        var tenant = await CreateAsync(stratus, operatorClient, withCloudPc: true);
        var other = await CreateAsync(stratus, operatorClient, withCloudPc: false);
        var pc = await tenant.ProvisionedCloudPcAsync();

        // Every check, in order, each with a status and a message a person can read; a failed one has advice.
        var result = await Eventually.MatchesAsync(() => tenant.TroubleshootedAsync(pc), r => Status(r, "vmRunning") == "passed", "the VM check to pass");
        Assert.Equal(AllChecks, result.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.All(result.GetProperty("checks").EnumerateArray(), c =>
        {
            Assert.Contains(c.GetProperty("status").GetString(), new[] { "passed", "warning", "failed", "skipped" });
            Assert.False(string.IsNullOrWhiteSpace(c.GetProperty("message").GetString()));
            if (c.GetProperty("status").GetString() is "failed" or "warning")
            {
                Assert.False(string.IsNullOrWhiteSpace(c.GetProperty("advice").GetString()), c.ToString());
            }
        });
        Assert.Contains(result.GetProperty("overallStatus").GetString(), new[] { "passed", "warning" });
        // Diagnostics reads the restore points with the administrator's own token, exchanged: the check runs.
        Assert.Contains(Status(result, "restorePoints"), new[] { "passed", "warning" });
        Assert.True(result.GetProperty("endDateTime").GetDateTimeOffset() >= result.GetProperty("startDateTime").GetDateTimeOffset());
        var kept = (await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/cloudPCs/{pc}/troubleshootResults")).GetProperty("value");
        Assert.Equal(result.GetProperty("id").GetGuid(), kept[0].GetProperty("id").GetGuid());

        // Another tenant's administrator: the Cloud PC is not found, its results are not there, a bulk run names it not found.
        var refused = await ProblemAssert.IsProblemAsync(await other.TroubleshootAsync(pc), HttpStatusCode.NotFound);
        Assert.Contains(pc.ToString(), refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty((await other.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/cloudPCs/{pc}/troubleshootResults")).GetProperty("value").EnumerateArray());
        var otherBulk = await other.Admin.PostAsJsonAsync("/api/v1/cloudPCs/bulkTroubleshoot", new { cloudPcIds = new[] { pc } });
        Assert.Equal(HttpStatusCode.OK, otherBulk.StatusCode);
        var otherItem = (await otherBulk.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("value")[0];
        Assert.Equal(404, otherItem.GetProperty("errorStatus").GetInt32());
        Assert.Equal(JsonValueKind.Null, otherItem.GetProperty("result").ValueKind);
        Assert.Equal(kept.GetArrayLength(), await ResultCountAsync(tenant, pc));

        // An unknown id: 404 as problem details, nothing kept.
        var unknown = Guid.NewGuid();
        await ProblemAssert.IsProblemAsync(await tenant.TroubleshootAsync(unknown), HttpStatusCode.NotFound);
        Assert.Empty((await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/cloudPCs/{unknown}/troubleshootResults")).GetProperty("value").EnumerateArray());

        // Bulk: empty, over 100, no body: 400 naming cloudPcIds.
        foreach (var body in new object?[] { new { cloudPcIds = Array.Empty<Guid>() }, new { cloudPcIds = Enumerable.Range(0, 101).Select(_ => Guid.NewGuid()).ToArray() }, new { } })
        {
            var problem = await ProblemAssert.IsProblemAsync(await tenant.Admin.PostAsJsonAsync("/api/v1/cloudPCs/bulkTroubleshoot", body), HttpStatusCode.BadRequest);
            Assert.Contains("1 to 100", problem.GetProperty("errors").GetProperty("cloudPcIds")[0].GetString(), StringComparison.Ordinal);
        }

        // Bulk: a result per Cloud PC, the unknown one named not found.
        var bulk = await tenant.Admin.PostAsJsonAsync("/api/v1/cloudPCs/bulkTroubleshoot", new { cloudPcIds = new[] { pc, unknown } });
        Assert.Equal(HttpStatusCode.OK, bulk.StatusCode);
        var answer = await bulk.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, answer.GetProperty("successfulCount").GetInt32());
        Assert.Equal(1, answer.GetProperty("failedCount").GetInt32());
        var items = answer.GetProperty("value").EnumerateArray().ToDictionary(i => i.GetProperty("cloudPcId").GetGuid());
        Assert.Equal(AllChecks.Length, items[pc].GetProperty("result").GetProperty("checks").GetArrayLength());
        Assert.Equal(404, items[unknown].GetProperty("errorStatus").GetInt32());
        Assert.Equal(kept.GetArrayLength() + 1, await ResultCountAsync(tenant, pc));

        // A user without an admin role may not troubleshoot.
        using var user = await stratus.SignedInClientAsync("ada@" + tenant.AdminUserName.Split('@')[1], "ada-password-123");
        await ProblemAssert.IsProblemAsync(await user.PostAsync($"/api/v1/cloudPCs/{pc}/troubleshoot", null), HttpStatusCode.Forbidden);
    }

    private static async Task<int> ResultCountAsync(TroubleshootTenant tenant, Guid pc) =>
        (await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/cloudPCs/{pc}/troubleshootResults")).GetProperty("value").GetArrayLength();
}
