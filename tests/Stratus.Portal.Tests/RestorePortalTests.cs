using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Stratus.Testing;

namespace Stratus.Portal.Tests;

/// <summary>
/// User settings and restore points in both portals, in Debian's chromium against one real all-in-one with
/// simulated hosts (restore points here are about the control plane; the disk work is the host agent's tests).
/// Each test makes its own tenant. Every page state is saved as a screenshot under the test output's screenshots folder.
/// </summary>
public sealed class RestorePortalTests(RestoreFixture stratus) : IClassFixture<RestoreFixture>
{
    [Fact]
    public async Task A_tenant_admin_creates_edits_assigns_and_deletes_a_user_setting_that_another_tenant_does_not_see()
    {
        var tenant = await stratus.CreateTenantAsync("Contoso");
        var designers = await tenant.GroupAsync("Designers");
        var contractors = await tenant.GroupAsync("Contractors");
        var page = await stratus.SignInAsync(tenant.AdminUserName);

        await page.GotoAsync("/admin");
        await page.Locator("nav").GetByText("User settings").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/admin/usersettings$"));
        await Assertions.Expect(page.GetByText("No user settings yet")).ToBeVisibleAsync();
        await ShotAsync(page, "70-user-settings-empty");

        // No name: the field is named in the portal's words under it (not the API's field name), and nothing created.
        await page.ClickAsync("[data-testid=new-setting]");
        var dialog = page.Locator("[data-testid=setting-dialog]");
        await Assertions.Expect(dialog.Locator("#setting-name")).ToBeVisibleAsync();
        await page.ClickAsync("[data-testid=setting-save]");
        await Assertions.Expect(dialog.Locator("[data-field=displayName]")).ToContainTextAsync("Name is required.");
        await ShotAsync(page, "71-user-setting-no-name");
        Assert.Equal(0, (await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/userSettings")).GetProperty("totalCount").GetInt32());

        await page.Locator("#setting-name input").FillAsync("Designers restore");
        await PickAsync(page, "#setting-frequency", "Every 4 hours");
        await page.ClickAsync("[data-testid=setting-save]");
        await Assertions.Expect(dialog).ToHaveCountAsync(0);
        var row = Row(page, "Designers restore");
        await Assertions.Expect(row.Locator("[data-testid=setting-frequency]")).ToHaveTextAsync("Every 4 hours");
        await Assertions.Expect(row.Locator("[data-testid=setting-user-restore]")).ToHaveTextAsync("Off");
        await Assertions.Expect(row.Locator("[data-testid=setting-assignments]")).ToHaveTextAsync("Not assigned");

        // The same name again: the API's 409 in the dialog, and still one setting.
        await page.ClickAsync("[data-testid=new-setting]");
        await page.Locator("#setting-name input").FillAsync("Designers restore");
        await page.ClickAsync("[data-testid=setting-save]");
        await Assertions.Expect(dialog.Locator("[data-testid=setting-error]")).ToContainTextAsync("exists already");
        await ShotAsync(page, "72-user-setting-duplicate");
        Assert.Equal(1, (await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/userSettings")).GetProperty("totalCount").GetInt32());
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel", Exact = true }).ClickAsync();
        await Assertions.Expect(dialog).ToHaveCountAsync(0);

        // Edited: every 16 hours, and users may restore.
        await row.Locator("[data-testid=setting-edit]").ClickAsync();
        await Assertions.Expect(dialog.Locator("#setting-name")).ToHaveAttributeAsync("current-value", "Designers restore");
        await PickAsync(page, "#setting-frequency", "Every 16 hours");
        await page.ClickAsync("#setting-user-restore");
        await ShotAsync(page, "73-user-setting-edit");
        await page.ClickAsync("[data-testid=setting-save]");
        await Assertions.Expect(dialog).ToHaveCountAsync(0);
        await Assertions.Expect(row.Locator("[data-testid=setting-frequency]")).ToHaveTextAsync("Every 16 hours");
        await Assertions.Expect(row.Locator("[data-testid=setting-user-restore]")).ToHaveTextAsync("On");
        var saved = (await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/userSettings")).GetProperty("value")[0];
        Assert.Equal("sixteenHours", saved.GetProperty("restorePointSetting").GetProperty("frequencyType").GetString());
        Assert.True(saved.GetProperty("restorePointSetting").GetProperty("userRestoreEnabled").GetBoolean());

        // Assigned to Designers with priority 5; a priority out of range is refused under the field.
        await row.Locator("[data-testid=setting-assign]").ClickAsync();
        var assign = page.Locator("[data-testid=assign-dialog]");
        await Assertions.Expect(assign.Locator("[data-testid=no-assignments]")).ToBeVisibleAsync();
        await PickAsync(page, "#assign-group", "Designers");
        await page.Locator("#assign-priority input").FillAsync("5");
        await assign.Locator("[data-testid=assign-add]").ClickAsync();
        await Assertions.Expect(assign.Locator("[data-testid=assignment]")).ToContainTextAsync("Priority 5");
        await Assertions.Expect(assign.Locator("[data-testid=assignment]")).ToContainTextAsync("Designers");
        await PickAsync(page, "#assign-group", "Contractors");
        await page.Locator("#assign-priority input").FillAsync("2000");
        await assign.Locator("[data-testid=assign-add]").ClickAsync();
        await Assertions.Expect(assign.Locator("[data-field='assignments[1].priority']")).ToContainTextAsync("1000");
        await ShotAsync(page, "74-user-setting-assign");
        await assign.GetByRole(AriaRole.Button, new() { Name = "Close", Exact = true }).ClickAsync();
        await Assertions.Expect(assign).ToHaveCountAsync(0);
        await Assertions.Expect(row.Locator("[data-testid=setting-assignments]")).ToHaveTextAsync("Designers · priority 5");
        await ShotAsync(page, "75-user-settings");
        var assigned = await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/userSettings/{saved.GetProperty("id").GetGuid()}");
        var only = Assert.Single(assigned.GetProperty("assignments").EnumerateArray());
        Assert.Equal(designers, only.GetProperty("target").GetProperty("groupId").GetGuid());
        Assert.Equal(5, only.GetProperty("priority").GetInt32());
        Assert.NotEqual(contractors, designers);

        // Another tenant's admin sees none of it.
        var other = await stratus.CreateTenantAsync("Fabrikam");
        var otherPage = await stratus.SignInAsync(other.AdminUserName);
        await otherPage.GotoAsync("/admin/usersettings");
        await Assertions.Expect(otherPage.GetByText("No user settings yet")).ToBeVisibleAsync();
        await Assertions.Expect(otherPage.GetByText("Designers restore")).ToHaveCountAsync(0);
        await ShotAsync(otherPage, "76-user-settings-other-tenant");
        await otherPage.Context.CloseAsync();

        // Deleted after a confirmation.
        await row.Locator("[data-testid=setting-delete]").ClickAsync();
        var confirm = page.Locator("fluent-dialog").Filter(new() { HasText = "Delete user setting" });
        await Assertions.Expect(confirm).ToContainTextAsync("Designers restore");
        await ShotAsync(page, "77-user-setting-delete-confirm");
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Delete", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByText("No user settings yet")).ToBeVisibleAsync();
        Assert.Equal(0, (await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/userSettings")).GetProperty("totalCount").GetInt32());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_tenant_admin_creates_restores_and_exports_a_restore_point_and_restores_several_cloud_pcs_to_a_time()
    {
        var tenant = await stratus.CreateTenantAsync("Tailspin", seats: 2);
        var designers = await tenant.GroupAsync("Designers", await tenant.UserAsync("ada"), await tenant.UserAsync("bob"));
        await tenant.ProvisionAsync(designers, 2);
        var page = await stratus.SignInAsync(tenant.AdminUserName);

        // From the Cloud PCs page to Ada's restore points.
        await page.GotoAsync("/admin/cloudpcs");
        await page.Locator($"[data-action=restorePoints][data-user='ada@{tenant.Domain}']").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/admin/cloudpcs/[0-9a-f-]+/restore-points$"));
        await Assertions.Expect(page.Locator("[data-testid=cloudpc-status] [data-status=provisioned]")).ToBeVisibleAsync();
        await ShotAsync(page, "80-restore-points");
        var ada = await tenant.CloudPcAsync($"ada@{tenant.Domain}");

        // A manual point, followed until it is ready.
        await page.ClickAsync("[data-testid=create-snapshot]");
        var manual = page.Locator("[data-testid=snapshot][data-type=manual]");
        await Assertions.Expect(manual).ToHaveCountAsync(1);
        await Assertions.Expect(manual).ToHaveAttributeAsync("data-status", "ready", new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("[data-testid=operation-running]")).ToHaveCountAsync(0);
        await ShotAsync(page, "81-restore-point-created");
        var pointId = Guid.Parse((await manual.GetAttributeAsync("data-id"))!);
        var pointRow = page.Locator("[data-testid=snapshots] tr").Filter(new() { Has = page.Locator($"[data-testid=snapshot][data-id='{pointId}']") });

        // Restored after a confirmation that says what is lost; the Cloud PC goes back to provisioned.
        await pointRow.Locator("[data-testid=snapshot-restore]").ClickAsync();
        var confirm = page.Locator("fluent-dialog").Filter(new() { HasText = "Restore this Cloud PC?" });
        await Assertions.Expect(confirm).ToContainTextAsync("after that time is lost");
        await ShotAsync(page, "82-restore-confirm");
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Restore", Exact = true }).ClickAsync();
        var adaName = (await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/cloudPCs/{ada}")).GetProperty("managedDeviceName").GetString();
        await Assertions.Expect(page.GetByText($"Restored {adaName} to")).ToBeVisibleAsync(new() { Timeout = 120_000 });
        await Assertions.Expect(page.Locator("[data-testid=cloudpc-status] [data-status=provisioned]")).ToBeVisibleAsync(new() { Timeout = 120_000 });
        await ShotAsync(page, "83-restored");
        var restored = await tenant.SnapshotAsync(ada, pointId);
        Assert.NotEqual(JsonValueKind.Null, restored.GetProperty("lastRestoredDateTime").ValueKind);

        // Exported: the page shows the file's path, as the API has it.
        await pointRow.Locator("[data-testid=snapshot-export]").ClickAsync();
        var path = page.Locator("[data-testid=export-path]");
        await Assertions.Expect(path).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("/"), new() { Timeout = 120_000 });
        await ShotAsync(page, "84-exported");
        var exported = await tenant.SnapshotAsync(ada, pointId);
        Assert.Equal(exported.GetProperty("exportedTo").GetString(), (await path.TextContentAsync())?.Trim());

        // Both Cloud PCs restored to a time from the bulk bar: one result per Cloud PC.
        await page.GotoAsync("/admin/cloudpcs");
        await Assertions.Expect(page.Locator(".cloudpc-status [data-status=provisioned]")).ToHaveCountAsync(2, new() { Timeout = 60_000 });
        var bulk = page.Locator("[data-testid=bulk-restore-dialog]");
        var items = bulk.Locator("[data-testid=bulk-restore-item]");

        // An hour ago neither had a point: both refused, each with why.
        await page.Locator("fluent-checkbox[aria-label='Select all on this page']").ClickAsync();
        await page.ClickAsync("[data-testid=bulk-restore]");
        var hourAgo = stratus.Now().AddHours(-1).UtcDateTime;
        await bulk.Locator("#restore-time").FillAsync(hourAgo.ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture));
        await Assertions.Expect(bulk.Locator("[data-testid=restore-time-text]")).ToContainTextAsync(hourAgo.ToString("d MMM yyyy HH:mm", System.Globalization.CultureInfo.InvariantCulture) + " UTC");
        await bulk.Locator("[data-testid=bulk-restore-submit]").ClickAsync();
        await Assertions.Expect(items).ToHaveCountAsync(2);
        await Assertions.Expect(items.And(page.Locator("[data-result=refused]"))).ToHaveCountAsync(2);
        await Assertions.Expect(items.First).ToContainTextAsync("no ready restore point before " + hourAgo.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture));
        await ShotAsync(page, "85-bulk-restore-refused");
        await bulk.GetByRole(AriaRole.Button, new() { Name = "Close", Exact = true }).ClickAsync();
        await Assertions.Expect(bulk).ToHaveCountAsync(0);

        // A minute from now: Ada's manual point is before it, Bob has none.
        await page.Locator("fluent-checkbox[aria-label='Select all on this page']").ClickAsync();
        await page.ClickAsync("[data-testid=bulk-restore]");
        var time = stratus.Now().AddMinutes(1).UtcDateTime.ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture);
        await bulk.Locator("#restore-time").FillAsync(time);
        await ShotAsync(page, "86-bulk-restore");
        await bulk.Locator("[data-testid=bulk-restore-submit]").ClickAsync();
        await Assertions.Expect(items).ToHaveCountAsync(2);
        var adaItem = items.Filter(new() { HasText = $"ada@{tenant.Domain}" });
        Assert.True(await adaItem.GetAttributeAsync("data-result") == "accepted", await adaItem.TextContentAsync());
        Assert.Equal("refused", await items.Filter(new() { HasText = $"bob@{tenant.Domain}" }).GetAttributeAsync("data-result"));
        await Assertions.Expect(bulk.Locator("[data-testid=bulk-restore-summary]")).ToContainTextAsync("Restore accepted for 1, refused for 1 of 2 Cloud PCs.");
        await ShotAsync(page, "87-bulk-restore-summary");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_user_whose_setting_allows_it_restores_their_cloud_pc_in_the_user_portal_and_one_whose_setting_does_not_sees_no_restore()
    {
        var tenant = await stratus.CreateTenantAsync("Northwind", seats: 2);
        var ada = await tenant.UserAsync("ada");
        var bob = await tenant.UserAsync("bob");
        var designers = await tenant.GroupAsync("Designers", ada, bob);
        var contractors = await tenant.GroupAsync("Contractors", bob);
        // Bob is in both groups; Contractors' setting has the higher priority, and it does not let users restore.
        await tenant.SettingAsync("Self-service restore", userRestore: true, designers, priority: 2);
        await tenant.SettingAsync("Admins restore", userRestore: false, contractors, priority: 1);
        await tenant.ProvisionAsync(designers, 2);
        var adaPc = await tenant.CloudPcAsync($"ada@{tenant.Domain}");
        var point = await tenant.CreateSnapshotAsync(adaPc);

        var page = await stratus.UserPortalAsync($"ada@{tenant.Domain}");
        var card = page.Locator(".card");
        await Assertions.Expect(card.Locator(".status")).ToHaveTextAsync("Ready");
        var restore = card.Locator("button.restore");
        await Assertions.Expect(restore).ToBeVisibleAsync();
        await ShotAsync(page, "90-user-restore-button");

        await restore.ClickAsync();
        var dialog = page.Locator("#restore-dialog");
        var points = dialog.Locator("#restore-points li");
        await Assertions.Expect(points.First).ToBeVisibleAsync();
        await Assertions.Expect(points.First).ToHaveAttributeAsync("data-id", point.ToString());
        await Assertions.Expect(points.First.Locator(".kind")).ToHaveTextAsync("Manual");
        await ShotAsync(page, "91-user-restore-points");
        await points.First.Locator("button.choose").ClickAsync();
        await Assertions.Expect(dialog.Locator("#restore-confirm")).ToContainTextAsync("is lost");
        await ShotAsync(page, "92-user-restore-confirm");
        await dialog.Locator("#restore-go").ClickAsync();
        await Assertions.Expect(dialog).ToBeHiddenAsync();
        await Assertions.Expect(card.Locator(".status")).ToHaveTextAsync("Restoring…");
        await ShotAsync(page, "93-user-restoring");
        await Assertions.Expect(card.Locator(".status")).ToHaveTextAsync("Ready", new() { Timeout = 120_000 });
        Assert.NotEqual(JsonValueKind.Null, (await tenant.SnapshotAsync(adaPc, point)).GetProperty("lastRestoredDateTime").ValueKind);
        await page.Context.CloseAsync();

        // Bob's setting does not allow it: no Restore button, and the API refuses him too.
        var bobPage = await stratus.UserPortalAsync($"bob@{tenant.Domain}");
        await Assertions.Expect(bobPage.Locator(".card .status")).ToHaveTextAsync("Ready");
        await Assertions.Expect(bobPage.Locator(".card button.restore")).ToBeHiddenAsync();
        await ShotAsync(bobPage, "94-user-no-restore");
        await bobPage.Context.CloseAsync();
        using var bobClient = await stratus.Process.SignedInClientAsync($"bob@{tenant.Domain}", RestoreFixture.UserPassword);
        var bobPc = await tenant.CloudPcAsync($"bob@{tenant.Domain}");
        Assert.Equal(HttpStatusCode.Forbidden, (await bobClient.GetAsync($"/api/v1/me/cloudPCs/{bobPc}/snapshots")).StatusCode);
    }

    private static ILocator Row(IPage page, string name) =>
        page.Locator("[data-testid=settings-grid] tbody tr").Filter(new() { Has = page.Locator($"[data-testid=setting-row][data-name='{name}']") });

    /// <summary>Opens a fluent-select and clicks the option that contains the text.</summary>
    private static async Task PickAsync(IPage page, string select, string option)
    {
        await page.Locator(select).ClickAsync();
        await page.Locator($"{select} fluent-option").Filter(new() { HasText = option }).ClickAsync();
    }

    private static async Task ShotAsync(IPage page, string name)
    {
        // Toasts and animations settle first, so that the picture is of the state, not of a transition.
        await page.WaitForTimeoutAsync(400);
        await Chromium.ScreenshotAsync(page, name, fullPage: true);
    }
}
