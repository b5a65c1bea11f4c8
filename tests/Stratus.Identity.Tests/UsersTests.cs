using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.Identity.Tests;

[Collection(IdentityCollection.Name)]
public sealed class UsersTests(IdentityHosts hosts)
{
    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task CreateUser_DuplicateUserPrincipalName_Returns409(string provider)
    {
        using var tenant = await hosts.CreateTenantAsync(provider);
        await tenant.CreateUserAsync("dave");

        var response = await tenant.Admin.PostAsJsonAsync("/api/v1/users", new
        {
            userPrincipalName = "DAVE@" + tenant.Domain,
            displayName = "Dave again",
            passwordProfile = new { password = "user-password-123" },
        });

        await Problem.AssertAsync(response, HttpStatusCode.Conflict);
        var users = await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/users");
        Assert.Equal(2, users.GetProperty("totalCount").GetInt32());
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task CreateUser_OtherDomainAndMissingFields_Returns400NamingThem(string provider)
    {
        using var tenant = await hosts.CreateTenantAsync(provider);

        var response = await tenant.Admin.PostAsJsonAsync("/api/v1/users", new { userPrincipalName = "eve@elsewhere.test", mail = "not-an-address" });

        var errors = (await Problem.AssertAsync(response, HttpStatusCode.BadRequest)).GetProperty("errors");
        Assert.Contains(tenant.Domain, errors.GetProperty("userPrincipalName")[0].GetString(), StringComparison.Ordinal);
        Assert.True(errors.TryGetProperty("displayName", out _));
        Assert.True(errors.TryGetProperty("mail", out _));
        Assert.True(errors.TryGetProperty("passwordProfile.password", out _));
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task UpdateUser_DisableAndResetPassword_TakeEffectAtSignIn(string provider)
    {
        using var tenant = await hosts.CreateTenantAsync(provider);
        var frank = await tenant.CreateUserAsync("frank");

        var reset = await tenant.Admin.PatchAsJsonAsync($"/api/v1/users/{frank}", new { displayName = "Frank F.", passwordProfile = new { password = "new-password-4567" } });
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        Assert.Equal("Frank F.", (await reset.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("displayName").GetString());
        using (var signedIn = await tenant.Host.SignedInClientAsync("frank@" + tenant.Domain, "new-password-4567"))
        {
            var me = await signedIn.GetFromJsonAsync<JsonElement>("/api/v1/me");
            Assert.Equal(tenant.Id, me.GetProperty("tenantId").GetGuid());
        }

        var disable = await tenant.Admin.PatchAsJsonAsync($"/api/v1/users/{frank}", new { accountEnabled = false });
        Assert.False((await disable.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accountEnabled").GetBoolean());
        var refused = await tenant.Host.Http.PostAsJsonAsync("/api/v1/auth/token", new { userName = "frank@" + tenant.Domain, password = "new-password-4567" });
        var problem = await Problem.AssertAsync(refused, HttpStatusCode.Unauthorized);
        Assert.Contains("disabled", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task ListUsers_FilterByUserPrincipalName_ReturnsOnlyThatUser(string provider)
    {
        using var tenant = await hosts.CreateTenantAsync(provider);
        await tenant.CreateUserAsync("gina");
        await tenant.CreateUserAsync("hank");

        var page = await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/users?$filter=userPrincipalName eq 'gina@{tenant.Domain}'");
        Assert.Equal(1, page.GetProperty("totalCount").GetInt32());
        Assert.Equal("gina@" + tenant.Domain, page.GetProperty("value")[0].GetProperty("userPrincipalName").GetString());

        var bad = await tenant.Admin.GetAsync("/api/v1/users?$filter=startswith(displayName,'g')");
        Assert.True((await Problem.AssertAsync(bad, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("$filter", out _));
        await Problem.AssertAsync(await tenant.Admin.GetAsync("/api/v1/users?$top=0"), HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task DeleteUser_RemovesUserMembershipsAndLicenses(string provider)
    {
        using var tenant = await hosts.CreateTenantAsync(provider);
        var ivan = await tenant.CreateUserAsync("ivan");
        var group = await tenant.CreateGroupAsync("Ops");
        await tenant.SetSeatsAsync(Plans.Small, 1);
        Assert.Equal(HttpStatusCode.NoContent, (await tenant.Admin.PostAsJsonAsync($"/api/v1/groups/{group}/members", new { id = ivan })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await tenant.Admin.PostAsJsonAsync($"/api/v1/users/{ivan}/assignLicense", new { addLicenses = new[] { new { skuId = Plans.Small } } })).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await tenant.Admin.DeleteAsync($"/api/v1/users/{ivan}")).StatusCode);

        await Problem.AssertAsync(await tenant.Admin.GetAsync($"/api/v1/users/{ivan}"), HttpStatusCode.NotFound);
        Assert.Equal(0, (await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/groups/{group}/members")).GetProperty("totalCount").GetInt32());
        var skus = await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/subscribedSkus");
        Assert.Equal(0, skus[0].GetProperty("consumedUnits").GetInt32());
        await Problem.AssertAsync(await tenant.Admin.DeleteAsync($"/api/v1/users/{tenant.AdminId}"), HttpStatusCode.Conflict);
    }
}
