using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Provisioning.Tests.Support;

namespace Stratus.Provisioning.Tests;

/// <summary>User settings (Graph's cloudPcUserSetting): validation, assignment by priority, the effective setting of a user, isolation.</summary>
public sealed class UserSettingsTests(ProvisioningHost host) : IClassFixture<ProvisioningHost>
{
    [Fact]
    public async Task A_users_setting_is_that_of_their_groups_best_priority_and_defaults_without_one()
    {
        using var tenant = await host.CreateTenantAsync("us");
        var ada = await tenant.CreateUserAsync("ada");
        var staff = await tenant.CreateGroupAsync("Staff");
        var admins = await tenant.CreateGroupAsync("Admins");
        await tenant.AddMemberAsync(staff, ada);
        await tenant.AddMemberAsync(admins, ada);
        using var adaClient = await tenant.SignInAsync("ada");

        var defaults = await adaClient.GetFromJsonAsync<JsonElement>("/api/v1/me/userSetting");
        Assert.Equal("twelveHours", defaults.GetProperty("restorePointSetting").GetProperty("frequencyType").GetString());
        Assert.False(defaults.GetProperty("restorePointSetting").GetProperty("userRestoreEnabled").GetBoolean());

        var everyone = await CreateAsync(tenant, new { displayName = "Everyone", restorePointSetting = new { frequencyType = "twentyFourHours", userRestoreEnabled = false } });
        var power = await CreateAsync(tenant, new { displayName = "Power users", resetEnabled = true, restorePointSetting = new { frequencyType = "fourHours", userRestoreEnabled = true } });
        await AssignAsync(tenant, everyone, (staff, 10));
        await AssignAsync(tenant, power, (admins, 1));

        // Both groups apply; priority 1 wins. The directory copy follows identity's events, so wait for it.
        var mine = await Eventually.UntilAsync(() => adaClient.GetFromJsonAsync<JsonElement>("/api/v1/me/userSetting"),
            s => s.GetProperty("displayName").GetString() == "Power users", "the power users setting to apply to ada");
        Assert.Equal("fourHours", mine.GetProperty("restorePointSetting").GetProperty("frequencyType").GetString());
        Assert.True(mine.GetProperty("resetEnabled").GetBoolean());

        // Out of the admins group, the staff setting applies.
        await tenant.RemoveMemberAsync(admins, ada);
        mine = await Eventually.UntilAsync(() => adaClient.GetFromJsonAsync<JsonElement>("/api/v1/me/userSetting"),
            s => s.GetProperty("displayName").GetString() == "Everyone", "the staff setting to apply once ada leaves Admins");
        Assert.Equal("twentyFourHours", mine.GetProperty("restorePointSetting").GetProperty("frequencyType").GetString());
    }

    [Fact]
    public async Task Bad_settings_and_assignments_are_refused_by_field_and_change_nothing()
    {
        using var tenant = await host.CreateTenantAsync("uv");
        var bad = await tenant.Admin.PostAsJsonAsync("/api/v1/userSettings", new { displayName = "", restorePointSetting = new { frequencyType = "hourly" } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("displayName", out _));
        Assert.Contains("fourHours", errors.GetProperty("restorePointSetting.frequencyType")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/userSettings")).GetProperty("totalCount").GetInt32());

        var setting = await CreateAsync(tenant, new { displayName = "Everyone" });
        var duplicate = await tenant.Admin.PostAsJsonAsync("/api/v1/userSettings", new { displayName = "Everyone" });
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);

        var group = await tenant.CreateGroupAsync("Staff");
        var badAssign = await tenant.Admin.PostAsJsonAsync($"/api/v1/userSettings/{setting}/assign",
            new { assignments = new[] { new { target = new { groupId = group }, priority = 0 } } });
        Assert.Equal(HttpStatusCode.BadRequest, badAssign.StatusCode);
        Assert.True((await badAssign.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("assignments[0].priority", out _));
        var stored = await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/userSettings/{setting}");
        Assert.Equal(0, stored.GetProperty("assignments").GetArrayLength());
    }

    [Fact]
    public async Task Another_tenants_setting_is_not_found_for_any_verb()
    {
        using var a = await host.CreateTenantAsync("ua");
        using var b = await host.CreateTenantAsync("ub");
        var setting = await CreateAsync(a, new { displayName = "Everyone" });

        Assert.Equal(HttpStatusCode.NotFound, (await b.Admin.GetAsync($"/api/v1/userSettings/{setting}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await b.Admin.PatchAsJsonAsync($"/api/v1/userSettings/{setting}", new { displayName = "Mine" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await b.Admin.PostAsJsonAsync($"/api/v1/userSettings/{setting}/assign", new { assignments = Array.Empty<object>() })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await b.Admin.DeleteAsync($"/api/v1/userSettings/{setting}")).StatusCode);
        Assert.Equal(0, (await b.Admin.GetFromJsonAsync<JsonElement>("/api/v1/userSettings")).GetProperty("totalCount").GetInt32());
        Assert.Equal("Everyone", (await a.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/userSettings/{setting}")).GetProperty("displayName").GetString());
    }

    private static async Task<Guid> CreateAsync(TestTenant tenant, object body)
    {
        var response = await tenant.Admin.PostAsJsonAsync("/api/v1/userSettings", body);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private static async Task AssignAsync(TestTenant tenant, Guid setting, params (Guid Group, int Priority)[] targets)
    {
        var response = await tenant.Admin.PostAsJsonAsync($"/api/v1/userSettings/{setting}/assign",
            new { assignments = targets.Select(t => new { target = new { groupId = t.Group }, priority = t.Priority }) });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }
}
