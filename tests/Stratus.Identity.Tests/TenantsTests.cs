using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Testing;

namespace Stratus.Identity.Tests;

[Collection(IdentityCollection.Name)]
public sealed class TenantsTests(IdentityHosts hosts)
{
    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task CreateTenant_DuplicateDomain_Returns409AndChangesNothing(string provider)
    {
        using var tenant = await hosts.CreateTenantAsync(provider);
        using var operatorClient = await tenant.Host.OperatorClientAsync();
        var before = (await operatorClient.GetFromJsonAsync<JsonElement>("/api/v1/tenants?$top=1000")).GetProperty("totalCount").GetInt32();

        var response = await operatorClient.PostAsJsonAsync("/api/v1/tenants", new
        {
            displayName = "Again",
            domain = tenant.Domain.ToUpperInvariant(),
            admin = new { userName = "other", password = "admin-password-123" },
        });

        var problem = await Problem.AssertAsync(response, HttpStatusCode.Conflict);
        Assert.Contains(tenant.Domain, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var after = (await operatorClient.GetFromJsonAsync<JsonElement>("/api/v1/tenants?$top=1000")).GetProperty("totalCount").GetInt32();
        Assert.Equal(before, after);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task CreateTenant_BadInput_NamesEveryField(string provider)
    {
        using var operatorClient = await hosts.Host(provider).OperatorClientAsync();

        var response = await operatorClient.PostAsJsonAsync("/api/v1/tenants", new
        {
            displayName = "",
            domain = "not a domain",
            admin = new { userName = "x", password = "short" },
        });

        var problem = await Problem.AssertAsync(response, HttpStatusCode.BadRequest);
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("displayName", out _));
        Assert.True(errors.TryGetProperty("domain", out _));
        Assert.True(errors.TryGetProperty("admin.password", out _));
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task SuspendTenant_RefusesSignIn_ActivateAllowsItAgain(string provider)
    {
        using var tenant = await hosts.CreateTenantAsync(provider);
        using var operatorClient = await tenant.Host.OperatorClientAsync();

        var suspend = await operatorClient.PostAsync($"/api/v1/tenants/{tenant.Id}/suspend", null);
        Assert.Equal(HttpStatusCode.OK, suspend.StatusCode);
        Assert.Equal("suspended", (await suspend.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString());

        var refused = await tenant.Host.Http.PostAsJsonAsync("/api/v1/auth/token", new { userName = "admin@" + tenant.Domain, password = "admin-password-123" });
        var problem = await Problem.AssertAsync(refused, HttpStatusCode.Unauthorized);
        Assert.Contains("suspended", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Nothing was deleted: the users are still there, and signing in works after activation.
        Assert.Equal(HttpStatusCode.OK, (await operatorClient.PostAsync($"/api/v1/tenants/{tenant.Id}/activate", null)).StatusCode);
        using var admin = await tenant.Host.SignedInClientAsync("admin@" + tenant.Domain, "admin-password-123");
        var users = await admin.GetFromJsonAsync<JsonElement>("/api/v1/users");
        Assert.Equal(1, users.GetProperty("totalCount").GetInt32());
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task DeleteTenant_MustBeSuspendedFirst_ThenRemovesItsDirectory(string provider)
    {
        using var tenant = await hosts.CreateTenantAsync(provider);
        await tenant.CreateUserAsync("carol");
        using var operatorClient = await tenant.Host.OperatorClientAsync();

        await Problem.AssertAsync(await operatorClient.DeleteAsync($"/api/v1/tenants/{tenant.Id}"), HttpStatusCode.Conflict);
        await operatorClient.PostAsync($"/api/v1/tenants/{tenant.Id}/suspend", null);
        Assert.Equal(HttpStatusCode.NoContent, (await operatorClient.DeleteAsync($"/api/v1/tenants/{tenant.Id}")).StatusCode);

        await Problem.AssertAsync(await operatorClient.GetAsync($"/api/v1/tenants/{tenant.Id}"), HttpStatusCode.NotFound);
        var signIn = await tenant.Host.Http.PostAsJsonAsync("/api/v1/auth/token", new { userName = "carol@" + tenant.Domain, password = "user-password-123" });
        await Problem.AssertAsync(signIn, HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task TenantEndpoints_TenantAdministrator_Returns403(string provider)
    {
        using var tenant = await hosts.CreateTenantAsync(provider);

        await Problem.AssertAsync(await tenant.Admin.GetAsync("/api/v1/tenants"), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await tenant.Admin.PostAsync($"/api/v1/tenants/{tenant.Id}/suspend", null), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await tenant.Admin.PutAsJsonAsync($"/api/v1/tenants/{tenant.Id}/subscribedSkus/{Plans.Small}", new { prepaidUnits = 100 }), HttpStatusCode.Forbidden);
    }
}
