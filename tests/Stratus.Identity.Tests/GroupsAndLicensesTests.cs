using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.Identity.Tests;

[Collection(IdentityCollection.Name)]
public sealed class GroupsAndLicensesTests(IdentityHosts hosts)
{
    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task GroupMembers_AddBothFormsListAndRemove(string provider)
    {
        using var tenant = await hosts.CreateTenantAsync(provider);
        var judy = await tenant.CreateUserAsync("judy");
        var ken = await tenant.CreateUserAsync("ken");
        var group = await tenant.CreateGroupAsync("Design");

        Assert.Equal(HttpStatusCode.NoContent, (await tenant.Admin.PostAsJsonAsync($"/api/v1/groups/{group}/members", new { id = judy })).StatusCode);
        var graphForm = new Dictionary<string, string> { ["@odata.id"] = $"https://example.test/v1.0/directoryObjects/{ken}" };
        Assert.Equal(HttpStatusCode.NoContent, (await tenant.Admin.PostAsJsonAsync($"/api/v1/groups/{group}/members", graphForm)).StatusCode);

        var members = await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/groups/{group}/members");
        Assert.Equal(2, members.GetProperty("totalCount").GetInt32());

        Assert.Equal(HttpStatusCode.NoContent, (await tenant.Admin.DeleteAsync($"/api/v1/groups/{group}/members/{judy}")).StatusCode);
        await Problem.AssertAsync(await tenant.Admin.DeleteAsync($"/api/v1/groups/{group}/members/{judy}"), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await tenant.Admin.PostAsJsonAsync($"/api/v1/groups/{group}/members", new { id = Guid.NewGuid() }), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await tenant.Admin.PostAsJsonAsync($"/api/v1/groups/{group}/members", new { }), HttpStatusCode.BadRequest);
        Assert.Equal(1, (await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/groups/{group}/members")).GetProperty("totalCount").GetInt32());
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task AssignLicense_PastSeatCount_Returns409AndChangesNothing(string provider)
    {
        using var tenant = await hosts.CreateTenantAsync(provider);
        var leo = await tenant.CreateUserAsync("leo");
        var mia = await tenant.CreateUserAsync("mia");
        await tenant.SetSeatsAsync(Plans.Small, 1);
        await tenant.SetSeatsAsync(Plans.Medium, 5);
        var first = await tenant.Admin.PostAsJsonAsync($"/api/v1/users/{leo}/assignLicense", new { addLicenses = new[] { new { skuId = Plans.Small } } });
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        // Medium has seats but Small does not: the whole request is refused, Medium included.
        var second = await tenant.Admin.PostAsJsonAsync($"/api/v1/users/{mia}/assignLicense",
            new { addLicenses = new[] { new { skuId = Plans.Medium }, new { skuId = Plans.Small } } });

        var problem = await Problem.AssertAsync(second, HttpStatusCode.Conflict);
        Assert.Contains("seats", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty((await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/users/{mia}/licenseDetails")).EnumerateArray());
        var skus = (await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/subscribedSkus")).EnumerateArray()
            .ToDictionary(s => s.GetProperty("skuId").GetGuid(), s => s.GetProperty("consumedUnits").GetInt32());
        Assert.Equal(1, skus[Plans.Small]);
        Assert.Equal(0, skus[Plans.Medium]);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Licenses_UnsubscribedRemoveAndSeatsBelowUse_AreRefusedClearly(string provider)
    {
        using var tenant = await hosts.CreateTenantAsync(provider);
        var nina = await tenant.CreateUserAsync("nina");

        var unsubscribed = await tenant.Admin.PostAsJsonAsync($"/api/v1/users/{nina}/assignLicense", new { addLicenses = new[] { new { skuId = Plans.Medium } } });
        await Problem.AssertAsync(unsubscribed, HttpStatusCode.BadRequest);

        await tenant.SetSeatsAsync(Plans.Medium, 2);
        Assert.Equal(HttpStatusCode.OK, (await tenant.Admin.PostAsJsonAsync($"/api/v1/users/{nina}/assignLicense", new { addLicenses = new[] { new { skuId = Plans.Medium } } })).StatusCode);
        using var operatorClient = await tenant.Host.OperatorClientAsync();
        await Problem.AssertAsync(await operatorClient.PutAsJsonAsync($"/api/v1/tenants/{tenant.Id}/subscribedSkus/{Plans.Medium}", new { prepaidUnits = 0 }), HttpStatusCode.Conflict);

        var removed = await tenant.Admin.PostAsJsonAsync($"/api/v1/users/{nina}/assignLicense", new { addLicenses = Array.Empty<object>(), removeLicenses = new[] { Plans.Medium } });
        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        Assert.Empty((await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/users/{nina}/licenseDetails")).EnumerateArray());
        await Problem.AssertAsync(await tenant.Admin.PostAsJsonAsync($"/api/v1/users/{nina}/assignLicense", new { removeLicenses = new[] { Plans.Medium } }), HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task ServicePlans_SeededAndOperatorManagesThem(string provider)
    {
        var host = hosts.Host(provider);
        using var operatorClient = await host.OperatorClientAsync();
        var plans = (await operatorClient.GetFromJsonAsync<JsonElement>("/api/v1/servicePlans")).EnumerateArray().ToList();
        Assert.Contains(plans, p => p.GetProperty("id").GetGuid() == Plans.Small && p.GetProperty("vCpuCount").GetInt32() == 1 && p.GetProperty("ramInGB").GetInt32() == 1 && p.GetProperty("storageInGB").GetInt32() == 8);
        Assert.Contains(plans, p => p.GetProperty("id").GetGuid() == Plans.Medium && p.GetProperty("vCpuCount").GetInt32() == 2);

        var invalid = await operatorClient.PostAsJsonAsync("/api/v1/servicePlans", new { displayName = "Huge", vCpuCount = 0, ramInGB = 9999, storageInGB = 1 });
        var errors = (await Problem.AssertAsync(invalid, HttpStatusCode.BadRequest)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("vCpuCount", out _) && errors.TryGetProperty("ramInGB", out _) && errors.TryGetProperty("storageInGB", out _));

        var name = "Plan " + Guid.NewGuid().ToString("N")[..8];
        var created = await operatorClient.PostAsJsonAsync("/api/v1/servicePlans", new { displayName = name, vCpuCount = 4, ramInGB = 8, storageInGB = 64 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        await Problem.AssertAsync(await operatorClient.PostAsJsonAsync("/api/v1/servicePlans", new { displayName = name, vCpuCount = 4, ramInGB = 8, storageInGB = 64 }), HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.NoContent, (await operatorClient.DeleteAsync($"/api/v1/servicePlans/{id}")).StatusCode);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Roles_ReaderReadsButCannotWrite_LastAdministratorIsKept(string provider)
    {
        using var tenant = await hosts.CreateTenantAsync(provider);
        var olga = await tenant.CreateUserAsync("olga");

        var assign = await tenant.Admin.PostAsJsonAsync("/api/v1/roleAssignments", new { principalId = olga, roleDefinitionId = "cloudPcReader" });
        Assert.Equal(HttpStatusCode.Created, assign.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await tenant.Admin.PostAsJsonAsync("/api/v1/roleAssignments", new { principalId = olga, roleDefinitionId = "cloudPcReader" })).StatusCode);
        await Problem.AssertAsync(await tenant.Admin.PostAsJsonAsync("/api/v1/roleAssignments", new { principalId = olga, roleDefinitionId = "platformOperator" }), HttpStatusCode.BadRequest);

        using (var reader = await tenant.Host.SignedInClientAsync("olga@" + tenant.Domain, "user-password-123"))
        {
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/v1/users")).StatusCode);
            await Problem.AssertAsync(await reader.PostAsJsonAsync("/api/v1/groups", new { displayName = "Nope" }), HttpStatusCode.Forbidden);
        }

        var plainUser = await tenant.CreateUserAsync("pat");
        using (var user = await tenant.Host.SignedInClientAsync("pat@" + tenant.Domain, "user-password-123"))
        {
            await Problem.AssertAsync(await user.GetAsync("/api/v1/users"), HttpStatusCode.Forbidden);
            Assert.Equal(plainUser, (await user.GetFromJsonAsync<JsonElement>("/api/v1/me")).GetProperty("id").GetGuid());
        }

        var last = await tenant.Admin.DeleteAsync($"/api/v1/roleAssignments/{tenant.AdminId}_tenantAdministrator");
        await Problem.AssertAsync(last, HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.NoContent, (await tenant.Admin.DeleteAsync($"/api/v1/roleAssignments/{olga}_cloudPcReader")).StatusCode);
        var assignments = await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/roleAssignments");
        Assert.Equal(1, assignments.GetProperty("totalCount").GetInt32());
    }
}
