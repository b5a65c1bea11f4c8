using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Provisioning.Tests.Support;

namespace Stratus.Provisioning.Tests;

/// <summary>
/// Tenant A with ada's provisioned Cloud PC, a finished operation on it, and users with each role; tenant B with
/// bea's Cloud PC. Made once for the isolation tests, which must leave A's things as they are.
/// </summary>
public sealed class TwoTenantsHost : ProvisioningHost
{
    public TestTenant A { get; private set; } = null!;

    public Provisioned Ada { get; private set; } = null!;

    public Guid AdaOperationId { get; private set; }

    public TestTenant B { get; private set; } = null!;

    public Provisioned Bea { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        A = await CreateTenantAsync("a");
        B = await CreateTenantAsync("b");
        // Both at once on purpose: the first assignments after a start copy identity's plans at the same moment,
        // which once answered one of them with a 500.
        var provisioning = new[] { A.ProvisionAsync("ada"), B.ProvisionAsync("bea") };
        var provisioned = await Task.WhenAll(provisioning);
        (Ada, Bea) = (provisioned[0], provisioned[1]);
        AdaOperationId = (await A.ActAsync(Ada.CloudPc.Id, "rename", new { displayName = "Ada's PC" })).Id;
    }

    public override async Task DisposeAsync()
    {
        A?.Dispose();
        B?.Dispose();
        await base.DisposeAsync();
    }
}

public sealed class TenantIsolationTests(TwoTenantsHost host) : IClassFixture<TwoTenantsHost>
{
    [Theory]
    [InlineData("GET", "/api/v1/provisioningPolicies/{policy}")]
    [InlineData("PATCH", "/api/v1/provisioningPolicies/{policy}")]
    [InlineData("DELETE", "/api/v1/provisioningPolicies/{policy}")]
    [InlineData("POST", "/api/v1/provisioningPolicies/{policy}/assign")]
    [InlineData("GET", "/api/v1/cloudPCs/{pc}")]
    [InlineData("GET", "/api/v1/cloudPCs/{pc}/operations/{operation}")]
    [InlineData("GET", "/api/v1/me/cloudPCs/{pc}")]
    [InlineData("POST", "/api/v1/me/cloudPCs/{pc}/reboot")]
    [InlineData("POST", "/api/v1/me/cloudPCs/{pc}/rename")]
    [InlineData("POST", "/api/v1/cloudPCs/{pc}/reboot")]
    [InlineData("POST", "/api/v1/cloudPCs/{pc}/rename")]
    [InlineData("POST", "/api/v1/cloudPCs/{pc}/reprovision")]
    [InlineData("POST", "/api/v1/cloudPCs/{pc}/resize")]
    [InlineData("POST", "/api/v1/cloudPCs/{pc}/powerOn")]
    [InlineData("POST", "/api/v1/cloudPCs/{pc}/powerOff")]
    [InlineData("POST", "/api/v1/cloudPCs/{pc}/endGracePeriod")]
    [InlineData("POST", "/api/v1/cloudPCs/{pc}/retry")]
    public async Task OtherTenantsAdmin_GetsNotFound_AndNothingChanges(string method, string template)
    {
        var path = template.Replace("{policy}", host.Ada.Policy.Id.ToString(), StringComparison.Ordinal)
            .Replace("{pc}", host.Ada.CloudPc.Id.ToString(), StringComparison.Ordinal)
            .Replace("{operation}", host.AdaOperationId.ToString(), StringComparison.Ordinal);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PATCH")
        {
            // Everything any of these endpoints reads, valid: only the tenant can make it fail.
            request.Content = JsonContent.Create(new { displayName = "Taken over", assignments = Array.Empty<object>(), targetServicePlanId = Plans.Small, gracePeriodInHours = 0 });
        }

        var response = await host.B.Admin.SendAsync(request);

        var problem = await Problem.AssertAsync(response, HttpStatusCode.NotFound);
        Assert.Equal("https://stratus.dev/problems/not-found", problem.GetProperty("type").GetString());
        var policy = await host.A.GetPolicyAsync(host.Ada.Policy.Id);
        Assert.Equal(("Developers", 100), (policy.DisplayName, policy.GracePeriodInHours));
        Assert.Equal(host.Ada.Policy.Assignments, policy.Assignments);
        var pc = await host.A.GetCloudPcAsync(host.Ada.CloudPc.Id);
        Assert.Equal(("provisioned", "Ada's PC", (Guid?)null), (pc.Status, pc.DisplayName, pc.ActiveOperationId));
    }

    [Fact]
    public async Task OtherTenantsAdmin_ListsOnlyTheirOwn()
    {
        var pcs = await host.B.CloudPcPageAsync();
        Assert.Equal(host.Bea.CloudPc.Id, Assert.Single(pcs.Value).Id);
        Assert.Equal(1, pcs.TotalCount);
        Assert.Empty((await host.B.CloudPcPageAsync($"?$filter=userPrincipalName eq '{host.Ada.UserPrincipalName}'")).Value);
        Assert.Empty((await host.B.CloudPcPageAsync($"?$filter=provisioningPolicyId eq '{host.Ada.Policy.Id}'")).Value);

        var policies = (await host.B.Admin.GetFromJsonAsync<Page<PolicyBody>>("/api/v1/provisioningPolicies"))!;
        Assert.Equal(host.Bea.Policy.Id, Assert.Single(policies.Value).Id);

        Assert.Empty((await host.B.Admin.GetFromJsonAsync<Page<CloudPcBody>>("/api/v1/me/cloudPCs"))!.Value);
        var audit = await host.B.Admin.GetFromJsonAsync<JsonElement>("/api/v1/auditEvents?$top=1000");
        Assert.DoesNotContain(host.Ada.CloudPc.Id.ToString(), audit.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(host.Ada.Policy.Id.ToString(), audit.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OtherTenantsAdmin_BulkAction_IsNotFoundForTheOtherTenantsCloudPc()
    {
        var response = await host.B.Admin.PostAsJsonAsync("/api/v1/cloudPCs/bulkAction", new { action = "reboot", cloudPcIds = new[] { host.Ada.CloudPc.Id, host.Bea.CloudPc.Id } });

        var result = (await response.Content.ReadFromJsonAsync<BulkResultBody>())!;
        Assert.Equal((1, 1), (result.Succeeded, result.Failed));
        Assert.Equal((host.Ada.CloudPc.Id, 404, (Guid?)null), (result.Value[0].CloudPcId, result.Value[0].Status, result.Value[0].OperationId));
        Assert.Equal((host.Bea.CloudPc.Id, 202), (result.Value[1].CloudPcId, result.Value[1].Status));
        await host.B.WaitForSuccessAsync(await host.B.GetOperationAsync(host.Bea.CloudPc.Id, result.Value[1].OperationId!.Value));
        Assert.Null((await host.A.GetCloudPcAsync(host.Ada.CloudPc.Id)).ActiveOperationId);
    }

    [Fact]
    public async Task OtherTenantsAdmin_CannotAssignTheirPolicyToThisTenantsGroup()
    {
        var response = await host.B.PostAssignAsync(host.Bea.Policy.Id, (host.Ada.GroupId, Plans.Small));

        Assert.Equal($"There is no group {host.Ada.GroupId} in your tenant.", await Problem.AssertValidationAsync(response, "assignments[0].target.groupId"));
        Assert.Equal(host.Bea.Policy.Assignments, (await host.B.GetPolicyAsync(host.Bea.Policy.Id)).Assignments);
    }

    [Fact]
    public async Task CloudPcReader_ReadsEverything_ButActsOnNothing()
    {
        using var reader = await host.A.UserWithRoleAsync("reader-" + Guid.NewGuid().ToString("N")[..6], "cloudPcReader");
        var pc = host.Ada.CloudPc.Id;
        var policy = host.Ada.Policy.Id;

        Assert.Equal(pc, Assert.Single((await reader.GetFromJsonAsync<Page<CloudPcBody>>("/api/v1/cloudPCs"))!.Value).Id);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/api/v1/cloudPCs/{pc}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/api/v1/cloudPCs/{pc}/operations/{host.AdaOperationId}")).StatusCode);
        Assert.Equal(policy, Assert.Single((await reader.GetFromJsonAsync<Page<PolicyBody>>("/api/v1/provisioningPolicies"))!.Value).Id);

        await Problem.AssertAsync(await reader.PostAsJsonAsync($"/api/v1/cloudPCs/{pc}/reboot", new { }), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await reader.PostAsJsonAsync($"/api/v1/cloudPCs/{pc}/rename", new { displayName = "Mine now" }), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await reader.PostAsJsonAsync("/api/v1/cloudPCs/bulkAction", new { action = "reboot", cloudPcIds = new[] { pc } }), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await reader.PostAsJsonAsync("/api/v1/provisioningPolicies", new { displayName = "Reader's", imageId = ProvisioningHost.ImageId }), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await reader.PatchAsJsonAsync($"/api/v1/provisioningPolicies/{policy}", new { displayName = "Reader's" }), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await reader.PostAsJsonAsync($"/api/v1/provisioningPolicies/{policy}/assign", new { assignments = Array.Empty<object>() }), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await reader.DeleteAsync($"/api/v1/provisioningPolicies/{policy}"), HttpStatusCode.Forbidden);
        Assert.Equal("Ada's PC", (await host.A.GetCloudPcAsync(pc)).DisplayName);
        Assert.Single((await host.A.GetPolicyAsync(policy)).Assignments);
    }

    [Fact]
    public async Task PlainUser_CannotListTheTenantsCloudPcs_ButListsTheirOwn()
    {
        using var ada = await host.A.SignInAsync("ada");
        var pc = host.Ada.CloudPc.Id;

        await Problem.AssertAsync(await ada.GetAsync("/api/v1/cloudPCs"), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await ada.GetAsync($"/api/v1/cloudPCs/{pc}"), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await ada.GetAsync("/api/v1/provisioningPolicies"), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await ada.PostAsJsonAsync($"/api/v1/cloudPCs/{pc}/reboot", new { }), HttpStatusCode.Forbidden);

        var mine = (await ada.GetFromJsonAsync<Page<CloudPcBody>>("/api/v1/me/cloudPCs"))!;
        var own = Assert.Single(mine.Value);
        Assert.Equal((pc, host.Ada.UserPrincipalName, "provisioned"), (own.Id, own.UserPrincipalName, own.Status));
        Assert.Equal(pc, (await ada.GetFromJsonAsync<CloudPcBody>($"/api/v1/me/cloudPCs/{pc}"))!.Id);
        await Problem.AssertAsync(await ada.GetAsync($"/api/v1/me/cloudPCs/{host.Bea.CloudPc.Id}"), HttpStatusCode.NotFound);

        // Their own Cloud PC they restart and rename themselves, as in Windows 365's end-user portal; another user's they cannot.
        var rename = await ada.PostAsJsonAsync($"/api/v1/me/cloudPCs/{pc}/rename", new { displayName = "Ada's PC" });
        Assert.Equal(HttpStatusCode.Accepted, rename.StatusCode);
        Assert.Equal("succeeded", (await rename.Content.ReadFromJsonAsync<OperationBody>())!.Status);
        var name = "pat-" + Guid.NewGuid().ToString("N")[..6];
        await host.A.CreateUserAsync(name);
        using var pat = await host.A.SignInAsync(name);
        Assert.Empty((await pat.GetFromJsonAsync<Page<CloudPcBody>>("/api/v1/me/cloudPCs"))!.Value);
        await Problem.AssertAsync(await pat.PostAsJsonAsync($"/api/v1/me/cloudPCs/{pc}/reboot", new { }), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await pat.PostAsJsonAsync($"/api/v1/me/cloudPCs/{pc}/rename", new { displayName = "Pat's now" }), HttpStatusCode.NotFound);
        var unchanged = await host.A.GetCloudPcAsync(pc);
        Assert.Equal(("Ada's PC", (Guid?)null), (unchanged.DisplayName, unchanged.ActiveOperationId));

        await Problem.AssertAsync(await host.Stratus.Http.GetAsync("/api/v1/cloudPCs"), HttpStatusCode.Unauthorized);
        await Problem.AssertAsync(await host.Stratus.Http.GetAsync("/api/v1/me/cloudPCs"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task CloudPcAdministrator_CanAct()
    {
        using var admin = await host.A.UserWithRoleAsync("cpcadmin-" + Guid.NewGuid().ToString("N")[..6], "cloudPcAdministrator");

        var response = await admin.PostAsJsonAsync($"/api/v1/cloudPCs/{host.Ada.CloudPc.Id}/reboot", new { });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await host.A.WaitForSuccessAsync((await response.Content.ReadFromJsonAsync<OperationBody>())!);
        Assert.Equal("provisioned", (await host.A.GetCloudPcAsync(host.Ada.CloudPc.Id)).Status);
    }
}
