using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Revocation;

/// <summary>
/// Issue 17, item 3: disabling a user, removing a role, suspending a tenant or deleting a SCIM token ends the
/// credentials already issued within 60 s: bearer tokens (checked at identity's /api/v1/me and at provisioning's
/// /api/v1/me/cloudPCs, so both services refuse them) and portal cookies. Each test has a tenant of its own.
/// </summary>
public sealed class RevocationTests(StratusUpFixture fixture) : IClassFixture<StratusUpFixture>
{
    private const string Me = "/api/v1/me";
    private const string MyCloudPcs = "/api/v1/me/cloudPCs";

    private StratusProcess Stratus => fixture.Stratus;

    [Fact]
    public async Task Disabling_a_user_ends_its_tokens_and_cookies_within_a_minute()
    {
        using var tenant = await RevocationTenant.CreateAsync(Stratus);
        var userId = await tenant.CreateUserAsync("dora");
        using var token = await tenant.TokenClientAsync("dora");
        using var cookie = await tenant.CookieClientAsync("dora");
        await RevocationTenant.AnswersAsync(token, Me);
        await RevocationTenant.AnswersAsync(token, MyCloudPcs);
        await RevocationTenant.AnswersAsync(cookie, Me);

        var since = Stopwatch.StartNew();
        using (var disabled = await tenant.Admin.PatchAsJsonAsync($"/api/v1/users/{userId}", new { accountEnabled = false }))
        {
            Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        }

        await RevocationTenant.RefusedWithinLimitAsync(token, Me, since, "the disabled user's token at identity");
        await RevocationTenant.RefusedWithinLimitAsync(token, MyCloudPcs, since, "the disabled user's token at provisioning");
        await RevocationTenant.RefusedWithinLimitAsync(cookie, Me, since, "the disabled user's portal cookie");

        // The administrator's own credentials are untouched: the revocation is the user's.
        await RevocationTenant.AnswersAsync(tenant.Admin, Me);

        // Enabled again, the user signs in again at once, and the new credentials work.
        using (var enabled = await tenant.Admin.PatchAsJsonAsync($"/api/v1/users/{userId}", new { accountEnabled = true }))
        {
            Assert.Equal(HttpStatusCode.OK, enabled.StatusCode);
        }

        using var again = await tenant.TokenClientAsync("dora");
        await RevocationTenant.AnswersAsync(again, MyCloudPcs);
        using var againCookie = await tenant.CookieClientAsync("dora");
        await RevocationTenant.AnswersAsync(againCookie, Me);
    }

    [Fact]
    public async Task Removing_a_role_ends_the_credentials_that_carry_it_and_the_next_sign_in_lacks_it()
    {
        using var tenant = await RevocationTenant.CreateAsync(Stratus);
        var userId = await tenant.CreateUserAsync("rita");
        using (var granted = await tenant.Admin.PostAsJsonAsync("/api/v1/roleAssignments", new { principalId = userId, roleDefinitionId = "cloudPcReader" }))
        {
            Assert.Equal(HttpStatusCode.Created, granted.StatusCode);
        }

        // The reader role opens the tenant's role assignments; a user without it gets 403.
        const string ReadersOnly = "/api/v1/roleAssignments";
        using var token = await tenant.TokenClientAsync("rita");
        using var cookie = await tenant.CookieClientAsync("rita");
        await RevocationTenant.AnswersAsync(token, ReadersOnly);
        await RevocationTenant.AnswersAsync(cookie, ReadersOnly);

        var since = Stopwatch.StartNew();
        using (var removed = await tenant.Admin.DeleteAsync($"/api/v1/roleAssignments/{userId}_cloudPcReader"))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }

        await RevocationTenant.RefusedWithinLimitAsync(token, ReadersOnly, since, "the token that carries the removed role");
        await RevocationTenant.RefusedWithinLimitAsync(cookie, ReadersOnly, since, "the cookie that carries the removed role");

        // Signed in again right away: the user is back, without the role.
        using var again = await tenant.TokenClientAsync("rita");
        var me = await again.GetFromJsonAsync<MeBody>(Me);
        Assert.DoesNotContain("cloudPcReader", me!.Roles);
        await RevocationTenant.AnswersAsync(again, ReadersOnly, HttpStatusCode.Forbidden);
        using var againCookie = await tenant.CookieClientAsync("rita");
        await RevocationTenant.AnswersAsync(againCookie, ReadersOnly, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Suspending_a_tenant_ends_every_token_and_cookie_of_its_accounts_within_a_minute()
    {
        using var tenant = await RevocationTenant.CreateAsync(Stratus);
        await tenant.CreateUserAsync("sam");
        using var token = await tenant.TokenClientAsync("sam");
        using var cookie = await tenant.CookieClientAsync("sam");
        using var adminCookie = await tenant.CookieClientAsync("admin");
        await RevocationTenant.AnswersAsync(token, MyCloudPcs);
        await RevocationTenant.AnswersAsync(cookie, Me);
        await RevocationTenant.AnswersAsync(adminCookie, Me);

        using var operatorClient = await Stratus.OperatorClientAsync();
        var since = Stopwatch.StartNew();
        using (var suspended = await operatorClient.PostAsync($"/api/v1/tenants/{tenant.Id}/suspend", null))
        {
            Assert.Equal(HttpStatusCode.OK, suspended.StatusCode);
        }

        await RevocationTenant.RefusedWithinLimitAsync(token, Me, since, "a user's token of the suspended tenant at identity");
        await RevocationTenant.RefusedWithinLimitAsync(token, MyCloudPcs, since, "a user's token of the suspended tenant at provisioning");
        await RevocationTenant.RefusedWithinLimitAsync(tenant.Admin, "/api/v1/users", since, "the administrator's token of the suspended tenant");
        await RevocationTenant.RefusedWithinLimitAsync(cookie, Me, since, "a user's cookie of the suspended tenant");
        await RevocationTenant.RefusedWithinLimitAsync(adminCookie, Me, since, "the administrator's cookie of the suspended tenant");

        // The operator, of no tenant, keeps working.
        await RevocationTenant.AnswersAsync(operatorClient, "/api/v1/tenants");
    }

    [Fact]
    public async Task Deleting_the_scim_token_ends_it_within_a_minute()
    {
        using var tenant = await RevocationTenant.CreateAsync(Stratus);
        using var created = await tenant.Admin.PostAsync("/api/v1/scim/token", null);
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var secret = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        using var scim = new HttpClient { BaseAddress = Stratus.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        scim.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        await RevocationTenant.AnswersAsync(scim, "/scim/v2/Users");

        var since = Stopwatch.StartNew();
        using (var deleted = await tenant.Admin.DeleteAsync("/api/v1/scim/token"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        await RevocationTenant.RefusedWithinLimitAsync(scim, "/scim/v2/Users", since, "the deleted SCIM token");
    }
}
