using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace Stratus.Portal.Tests;

/// <summary>
/// Cross-region disaster recovery in both portals, in Debian's chromium against one real all-in-one with simulated
/// hosts (the copies and the failover are real control-plane work; the disk bytes are the host agent's tests). The
/// failover is asked for with the keyboard only. Screenshots go to the test output's screenshots folder.
/// </summary>
public sealed class DisasterRecoveryPortalTests(RestoreFixture stratus) : IClassFixture<RestoreFixture>
{
    [Fact]
    public async Task A_tenant_admin_sees_a_cloud_pcs_disaster_recovery_fails_it_over_with_the_keyboard_and_its_user_sees_it_in_the_backup_region()
    {
        var tenant = await stratus.CreateTenantAsync("Litware", seats: 1);
        var designers = await tenant.GroupAsync("Designers", await tenant.UserAsync("ada"));
        await ProtectAsync(tenant, designers);
        await tenant.ProvisionAsync(designers, 1);
        var ada = await tenant.CloudPcAsync($"ada@{tenant.Domain}");
        var copied = await LatestCopyAsync(tenant, ada, "local-2");

        // The Cloud PCs page: primary in local-1 with its backup region, the copy's time, and a Failover action.
        var page = await stratus.SignInAsync(tenant.AdminUserName);
        await page.GotoAsync("/admin/cloudpcs");
        var dr = page.Locator("[data-testid=cloudpc-dr]");
        await Assertions.Expect(dr).ToHaveAttributeAsync("data-capability", "failover", new() { Timeout = 60_000 });
        await Assertions.Expect(dr.Locator("[data-testid=dr-status]")).ToHaveTextAsync("Primary");
        await Assertions.Expect(dr.Locator("[data-testid=dr-region]")).ToHaveTextAsync("In local-1 · backup local-2");
        await Assertions.Expect(dr.Locator("[data-testid=dr-latest-copy]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^Latest copy in local-2 \d+ \w+ \d{4} \d\d:\d\d UTC$"));
        await Assertions.Expect(dr.Locator("[data-testid=dr-latest-copy]")).ToContainTextAsync(copied.UtcDateTime.ToString("d MMM yyyy", System.Globalization.CultureInfo.InvariantCulture));
        await ShotAsync(page, "a0-dr-primary");

        // Escape leaves the confirmation without failing over.
        var failover = page.Locator($"[data-action=disasterRecoveryFailover][data-user='ada@{tenant.Domain}']");
        var confirm = page.Locator("fluent-dialog").Filter(new() { HasText = "Fail over this Cloud PC?" });
        await failover.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(confirm).ToContainTextAsync("moves to local-2");
        await ShotAsync(page, "a1-dr-failover-confirm");
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(confirm).ToHaveCountAsync(0);
        Assert.Equal("notFailedOver", (await DisasterRecoveryStatusAsync(tenant, ada)).GetProperty("status").GetString());

        // Enter on Failover, then on the dialog's "Fail over": the Cloud PC runs in local-2 and offers Failback.
        await failover.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Fail over", Exact = true }).FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(dr.Locator("[data-testid=dr-status]")).ToHaveTextAsync("Failed over", new() { Timeout = 120_000 });
        await Assertions.Expect(dr.Locator("[data-testid=dr-region]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^Active in local-2 since \d+ \w+ \d{4} \d\d:\d\d UTC$"));
        await Assertions.Expect(page.Locator($"[data-action=disasterRecoveryFailback][data-user='ada@{tenant.Domain}']")).ToBeVisibleAsync();
        await Assertions.Expect(failover).ToHaveCountAsync(0);
        await ShotAsync(page, "a2-dr-failed-over");
        var status = await DisasterRecoveryStatusAsync(tenant, ada);
        Assert.Equal(("failedOver", "local-2"), (status.GetProperty("status").GetString(), status.GetProperty("activeRegion").GetString()));

        // The report, from the navigation: cross-region, failed over, with the copy and the RPO the API gives.
        await page.Locator("nav").GetByText("Disaster recovery").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/admin/reports/disasterrecovery$"));
        var row = page.Locator("[data-testid=dr-report] tr").Filter(new() { Has = page.Locator($"[data-testid=dr-row][data-id='{ada}']") });
        await Assertions.Expect(row.Locator("[data-testid=dr-type]")).ToHaveTextAsync("Cross-region");
        await Assertions.Expect(row.Locator("[data-testid=dr-report-status]")).ToHaveTextAsync("Failed over");
        await Assertions.Expect(row).ToContainTextAsync("local-1 → local-2");
        var reported = (await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/reports/crossRegionDisasterRecovery")).GetProperty("value")[0];
        Assert.Equal("failedOver", reported.GetProperty("disasterRecoveryStatus").GetString());
        await Assertions.Expect(row.Locator("[data-testid=dr-health]")).ToHaveAttributeAsync("data-value", new System.Text.RegularExpressions.Regex("^(healthy|stale|failed|none|unknown)$"));
        await ShotAsync(page, "a3-dr-report");
        await page.Context.CloseAsync();

        // Ada's card says her Cloud PC runs in its backup region.
        var user = await stratus.UserPortalAsync($"ada@{tenant.Domain}");
        var card = user.Locator(".card");
        await Assertions.Expect(card.Locator(".region")).ToHaveTextAsync("local-2 (backup region)");
        await Assertions.Expect(card.Locator(".dr")).ToContainTextAsync("Disaster recovery is active: your Cloud PC runs in its backup region, local-2");
        await ShotAsync(user, "a4-dr-user-card");
        await user.Context.CloseAsync();
    }

    /// <summary>A user setting with cross-region disaster recovery to local-2, copies every minute, assigned to the group.</summary>
    private static async Task ProtectAsync(RestoreTenant tenant, Guid group)
    {
        var created = await tenant.Admin.PostAsJsonAsync("/api/v1/userSettings", new
        {
            displayName = "Protected",
            diskCopyFrequencyInMinutes = 1,
            crossRegionDisasterRecoverySetting = new { disasterRecoveryType = "crossRegion", disasterRecoveryNetworkSetting = new { regionName = "local-2" } },
        });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var setting = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var assigned = await tenant.Admin.PostAsJsonAsync($"/api/v1/userSettings/{setting}/assign", new { assignments = new[] { new { target = new { groupId = group }, priority = 1 } } });
        Assert.True(assigned.IsSuccessStatusCode, await assigned.Content.ReadAsStringAsync());
    }

    /// <summary>Waits for the disk's first copy in the region (a failover starts from it) and returns its time.</summary>
    private static async Task<DateTimeOffset> LatestCopyAsync(RestoreTenant tenant, Guid cloudPc, string region)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var dr = await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/cloudPCs/{cloudPc}/disasterRecovery");
            if (dr.GetProperty("diskCopies") is { ValueKind: JsonValueKind.Array } copies
                && copies.EnumerateArray().FirstOrDefault(c => c.GetProperty("region").GetString() == region) is { ValueKind: JsonValueKind.Object } copy
                && copy.GetProperty("latestCopyAt") is { ValueKind: JsonValueKind.String } at)
            {
                return at.GetDateTimeOffset();
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(150), $"Waited 150 s for a copy in {region}: {dr}");
            await Task.Delay(500);
        }
    }

    private static async Task<JsonElement> DisasterRecoveryStatusAsync(RestoreTenant tenant, Guid cloudPc) =>
        (await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/cloudPCs/{cloudPc}")).GetProperty("disasterRecoveryStatus");

    private static async Task ShotAsync(IPage page, string name)
    {
        // Toasts and animations settle first, so that the picture is of the state, not of a transition.
        await page.WaitForTimeoutAsync(400);
        await Chromium.ScreenshotAsync(page, name, fullPage: true);
    }
}
