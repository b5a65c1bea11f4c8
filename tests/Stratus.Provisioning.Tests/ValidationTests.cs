using System.Net;
using System.Net.Http.Json;
using Stratus.Provisioning.Tests.Support;

namespace Stratus.Provisioning.Tests;

/// <summary>A tenant with three Cloud PCs (ada's and bob's provisioned, cy's in its grace period) made once for the list tests.</summary>
public sealed class ListingHost : ProvisioningHost
{
    public TestTenant Tenant { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Tenant = await CreateTenantAsync("list");
        var group = await Tenant.CreateGroupAsync("Everyone");
        var policy = await Tenant.CreatePolicyAsync(gracePeriodInHours: 8760);
        await Tenant.AssignAsync(policy.Id, (group, Plans.Small));
        var users = new Dictionary<string, Guid>();
        foreach (var name in new[] { "bob", "cy", "ada" })
        {
            users[name] = await Tenant.CreateUserAsync(name);
            await Tenant.AddMemberAsync(group, users[name]);
            await Tenant.AssignLicenseAsync(users[name], Plans.Small);
        }

        await Eventually.UntilAsync(Tenant.CloudPcsAsync, l => l.Count == 3 && l.All(p => p.Status == "provisioned"), "three provisioned Cloud PCs");
        await Tenant.RemoveLicenseAsync(users["cy"], Plans.Small);
        await Tenant.WaitForCloudPcAsync(p => p.Status == "inGracePeriod", "cy's grace period");
    }

    public override async Task DisposeAsync()
    {
        Tenant?.Dispose();
        await base.DisposeAsync();
    }
}

/// <summary>What the policy and Cloud PC APIs refuse, and how the list filters, orders and pages.</summary>
public sealed class ValidationTests(ListingHost host) : IClassFixture<ListingHost>
{
    [Theory]
    [InlineData("CPC-%USERNAME:4%")]
    [InlineData("CPC-%RAND:4%")]
    [InlineData("CPCLONGNAME-%RAND:5%")]
    [InlineData("%USERNAME:8%-%RAND:7%")]
    [InlineData("CPC_%RAND:5%")]
    [InlineData("CPC %RAND:5%")]
    [InlineData("CPC-%HOST:3%-%RAND:5%")]
    [InlineData("%RAND:5%%RAND:5%")]
    [InlineData("CPC-%USERNAME:0%-%RAND:5%")]
    [InlineData("")]
    public async Task NamingTemplate_Invalid_400NamingTheField_OnCreateAndOnEdit(string template)
    {
        using var tenant = await host.CreateTenantAsync();

        var created = await tenant.PostPolicyAsync(new { displayName = "Bad names", imageId = ProvisioningHost.ImageId, cloudPcNamingTemplate = template });

        var message = await Problem.AssertValidationAsync(created, "cloudPcNamingTemplate");
        Assert.StartsWith("'cloudPcNamingTemplate' ", message, StringComparison.Ordinal);
        Assert.Equal(0, (await tenant.Admin.GetFromJsonAsync<Page<PolicyBody>>("/api/v1/provisioningPolicies"))!.TotalCount);

        var policy = await tenant.CreatePolicyAsync();
        var edited = await tenant.Admin.PatchAsJsonAsync($"/api/v1/provisioningPolicies/{policy.Id}", new { cloudPcNamingTemplate = template });
        await Problem.AssertValidationAsync(edited, "cloudPcNamingTemplate");
        Assert.Equal("CPC-%USERNAME:4%-%RAND:5%", (await tenant.GetPolicyAsync(policy.Id)).CloudPcNamingTemplate);
    }

    [Theory]
    [InlineData("%RAND:15%")]
    [InlineData("A-%USERNAME:2%-%RAND:5%")]
    [InlineData("dev-%rand:5%")]
    [InlineData("NAMELESS-%RAND:6%")]
    public async Task NamingTemplate_Valid_IsKept(string template)
    {
        using var tenant = await host.CreateTenantAsync();

        var policy = await tenant.CreatePolicyAsync(namingTemplate: template);

        Assert.Equal(template, policy.CloudPcNamingTemplate);
        Assert.Equal(template, (await tenant.GetPolicyAsync(policy.Id)).CloudPcNamingTemplate);
    }

    [Fact]
    public async Task CreatePolicy_BadFields_400NamingEach_AndNothingIsCreated()
    {
        using var tenant = await host.CreateTenantAsync();
        var image = ProvisioningHost.ImageId;

        Assert.Contains("no-such-image", await Problem.AssertValidationAsync(await tenant.PostPolicyAsync(new { displayName = "P", imageId = "no-such-image" }), "imageId"), StringComparison.Ordinal);
        var region = await Problem.AssertValidationAsync(await tenant.PostPolicyAsync(new { displayName = "P", imageId = image, regionNames = new[] { "mars-1" } }), "regionNames");
        Assert.Equal("'mars-1' is not a region; choose from local-1, local-2, or automatic.", region);
        await Problem.AssertValidationAsync(await tenant.PostPolicyAsync(new { imageId = image }), "displayName");
        await Problem.AssertValidationAsync(await tenant.PostPolicyAsync(new { displayName = "P", imageId = image, imageType = "floppy" }), "imageType");
        await Problem.AssertValidationAsync(await tenant.PostPolicyAsync(new { displayName = "P", imageId = image, gracePeriodInHours = 9000 }), "gracePeriodInHours");
        await Problem.AssertValidationAsync(await tenant.PostPolicyAsync(new { displayName = "P", imageId = image, networkConnectionIds = new[] { "corp" } }), "networkConnectionIds[0]");

        // Every error at once.
        await Problem.AssertValidationAsync(
            await tenant.PostPolicyAsync(new { imageId = image, regionNames = new[] { "mars-1" }, cloudPcNamingTemplate = "X" }),
            "displayName", "regionNames", "cloudPcNamingTemplate");
        Assert.Equal(0, (await tenant.Admin.GetFromJsonAsync<Page<PolicyBody>>("/api/v1/provisioningPolicies"))!.TotalCount);

        var automatic = await tenant.PostPolicyAsync(new { displayName = "Anywhere", imageId = image, regionNames = new[] { "automatic" } });
        Assert.Equal(HttpStatusCode.Created, automatic.StatusCode);
        var body = (await automatic.Content.ReadFromJsonAsync<PolicyBody>())!;
        Assert.Equal((true, 0, 168), (body.AutomaticRegion, body.RegionNames.Count, body.GracePeriodInHours));
        await Problem.AssertConflictAsync(await tenant.PostPolicyAsync(new { displayName = "Anywhere", imageId = image }), "policy-exists");
        await Problem.AssertValidationAsync(await tenant.Admin.PatchAsJsonAsync($"/api/v1/provisioningPolicies/{body.Id}", new { imageId = "no-such-image" }), "imageId");
        Assert.Equal(image, (await tenant.GetPolicyAsync(body.Id)).ImageId);
    }

    [Fact]
    public async Task Assign_UnknownPlan_OtherTenantsGroup_OrMissingTarget_400_AndTheAssignmentIsUnchanged()
    {
        using var tenant = await host.CreateTenantAsync();
        using var other = await host.CreateTenantAsync();
        var group = await tenant.CreateGroupAsync("Developers");
        var foreignGroup = await other.CreateGroupAsync("Theirs");
        var policy = await tenant.CreatePolicyAsync();
        var assignment = Assert.Single((await tenant.AssignAsync(policy.Id, (group, Plans.Small))).Assignments);

        var plan = await Problem.AssertValidationAsync(await tenant.PostAssignAsync(policy.Id, (group, Guid.NewGuid())), "assignments[0].target.servicePlanId");
        Assert.StartsWith("There is no service plan", plan, StringComparison.Ordinal);
        var foreign = await Problem.AssertValidationAsync(await tenant.PostAssignAsync(policy.Id, (group, Plans.Small), (foreignGroup, Plans.Small)), "assignments[1].target.groupId");
        Assert.Equal($"There is no group {foreignGroup} in your tenant.", foreign);
        await Problem.AssertValidationAsync(await tenant.PostAssignAsync(policy.Id, (Guid.NewGuid(), Plans.Small)), "assignments[0].target.groupId");
        await Problem.AssertValidationAsync(await tenant.Admin.PostAsJsonAsync($"/api/v1/provisioningPolicies/{policy.Id}/assign", new { }), "assignments");
        await Problem.AssertValidationAsync(
            await tenant.Admin.PostAsJsonAsync($"/api/v1/provisioningPolicies/{policy.Id}/assign", new { assignments = new[] { new { target = new { servicePlanId = Plans.Small } } } }),
            "assignments[0].target.groupId");
        await Problem.AssertAsync(await tenant.PostAssignAsync(Guid.NewGuid(), (group, Plans.Small)), HttpStatusCode.NotFound);

        Assert.Equal(assignment, Assert.Single((await tenant.GetPolicyAsync(policy.Id)).Assignments));
    }

    [Fact]
    public async Task DeletePolicy_WhileAssigned_409_AfterUnassigning_204()
    {
        using var tenant = await host.CreateTenantAsync();
        var group = await tenant.CreateGroupAsync("Developers");
        var policy = await tenant.CreatePolicyAsync();
        await tenant.AssignAsync(policy.Id, (group, Plans.Small));

        await Problem.AssertConflictAsync(await tenant.Admin.DeleteAsync($"/api/v1/provisioningPolicies/{policy.Id}"), "policy-assigned");
        Assert.Empty((await tenant.AssignAsync(policy.Id)).Assignments);

        Assert.Equal(HttpStatusCode.NoContent, (await tenant.Admin.DeleteAsync($"/api/v1/provisioningPolicies/{policy.Id}")).StatusCode);
        await Problem.AssertAsync(await tenant.Admin.GetAsync($"/api/v1/provisioningPolicies/{policy.Id}"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Filter_ByStatus_User_DeviceName_Plan_AndCombined()
    {
        var tenant = host.Tenant;
        var all = await tenant.CloudPcsAsync();

        var provisioned = await tenant.CloudPcPageAsync("?$filter=status eq 'provisioned'");
        Assert.Equal(2, provisioned.TotalCount);
        Assert.Equal([tenant.Upn("ada"), tenant.Upn("bob")], provisioned.Value.Select(p => p.UserPrincipalName).Order(StringComparer.Ordinal));
        Assert.All(provisioned.Value, p => Assert.Equal("provisioned", p.Status));

        var inGrace = Assert.Single((await tenant.CloudPcPageAsync("?$filter=status eq 'inGracePeriod'")).Value);
        Assert.Equal(tenant.Upn("cy"), inGrace.UserPrincipalName);

        var bob = all.Single(p => p.UserPrincipalName == tenant.Upn("bob"));
        Assert.Equal(bob.Id, Assert.Single((await tenant.CloudPcPageAsync($"?$filter=userPrincipalName eq '{bob.UserPrincipalName}' and status eq 'provisioned'")).Value).Id);
        Assert.Empty((await tenant.CloudPcPageAsync($"?$filter=userPrincipalName eq '{bob.UserPrincipalName}' and status eq 'inGracePeriod'")).Value);
        Assert.Equal(bob.Id, Assert.Single((await tenant.CloudPcPageAsync($"?$filter=managedDeviceName eq '{bob.ManagedDeviceName.ToLowerInvariant()}'")).Value).Id);
        Assert.Equal(3, (await tenant.CloudPcPageAsync($"?$filter=servicePlanId eq '{Plans.Small}'")).TotalCount);
        Assert.Equal(0, (await tenant.CloudPcPageAsync($"?$filter=servicePlanId eq '{Plans.Medium}'")).TotalCount);
        Assert.Equal(3, (await tenant.CloudPcPageAsync("?$filter=regionName eq 'local-1'")).TotalCount);
    }

    [Theory]
    [InlineData("$filter=color eq 'red'", "$filter")]
    [InlineData("$filter=status eq 'sleeping'", "$filter")]
    [InlineData("$filter=status ne 'provisioned'", "$filter")]
    [InlineData("$filter=servicePlanId eq 'not-a-guid'", "$filter")]
    [InlineData("$filter=status eq 'provisioned' or status eq 'failed'", "$filter")]
    [InlineData("$orderby=color", "$orderby")]
    [InlineData("$orderby=userPrincipalName sideways", "$orderby")]
    [InlineData("$top=0", "$top")]
    [InlineData("$top=1001", "$top")]
    [InlineData("$skip=-1", "$skip")]
    public async Task List_BadQuery_400NamingTheParameter(string query, string parameter)
    {
        await Problem.AssertValidationAsync(await host.Tenant.Admin.GetAsync("/api/v1/cloudPCs?" + query), parameter);
    }

    [Theory]
    [InlineData("$orderby=userPrincipalName&$top=2", "ada,bob")]
    [InlineData("$orderby=userPrincipalName&$skip=2", "cy")]
    [InlineData("$orderby=userPrincipalName&$top=1&$skip=1", "bob")]
    [InlineData("$orderby=userPrincipalName desc", "cy,bob,ada")]
    [InlineData("$orderby=status&$top=1", "cy")]
    [InlineData("$orderby=status desc&$skip=2", "cy")]
    [InlineData("$orderby=userPrincipalName&$skip=3", "")]
    [InlineData("$filter=status eq 'provisioned'&$orderby=userPrincipalName desc&$top=1", "bob")]
    public async Task List_OrdersAndPages_TotalCountIsOfAllMatches(string query, string expected)
    {
        var page = await host.Tenant.CloudPcPageAsync("?" + query);

        // By status is by its name: inGracePeriod before provisioned.
        Assert.Equal(expected, string.Join(",", page.Value.Select(p => p.UserPrincipalName.Split('@')[0])));
        Assert.Equal(query.Contains("$filter", StringComparison.Ordinal) ? 2 : 3, page.TotalCount);
    }
}
