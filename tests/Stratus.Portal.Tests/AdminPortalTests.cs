using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Stratus.Testing;

namespace Stratus.Portal.Tests;

/// <summary>
/// The admin portal at /admin in Debian's chromium against a real all-in-one (simulated hosts: these pages are
/// about the control plane, the QEMU console is the user portal's test). A tenant admin creates and assigns a
/// policy, watches Cloud PCs appear and provision without reloading, filters, sorts, acts on one and on all,
/// uploads a custom image with progress; the operator sees hosts and drains one. Screenshots of every page.
/// </summary>
public sealed class AdminPortalTests
{
    private const string SmallPlan = "5c1a0000-0000-4000-8000-000000010108";
    private const string AdminPassword = "tenant-admin-pass-1";

    [Fact]
    public async Task A_tenant_admin_runs_policies_cloud_pcs_and_images_and_the_operator_runs_hosts_all_through_the_portal()
    {
        using var data = new TempFolder();
        await TinyImageFolder.InstallIntoAsync(data.Path);
        // Simulated hosts offer this machine's free disk by default; give each region room for the three Cloud PCs.
        await using var stratus = await StratusProcess.StartAsync(["up", "--hosts", "simulated"], data.Path,
            new Dictionary<string, string?> { ["Stratus__EmbeddedHosts__DiskGiB"] = "100" });
        var tenant = await TenantAsync(stratus, "Contoso", seats: 3, users: ["ada", "bob", "cy"]);
        var other = await TenantAsync(stratus, "Fabrikam", seats: 1, users: []);

        using var playwright = await Chromium.StartPlaywrightAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await Chromium.NewPageAsync(browser, stratus, 1366, 850);

        // Signing in: /admin sends a stranger to the sign-in page; a wrong password is refused in the page.
        await page.GotoAsync("/admin/cloudpcs");
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/admin/signin"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await Shot(page, "10-admin-sign-in");
        await Chromium.SubmitAdminSignInAsync(page, tenant.AdminUserName, "not-the-password-1");
        await Assertions.Expect(page.Locator("[data-testid=signin-error]")).ToContainTextAsync("user name or password");
        await Shot(page, "11-admin-sign-in-refused");
        await Chromium.SubmitAdminSignInAsync(page, tenant.AdminUserName, AdminPassword);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Cloud PCs" })).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-testid=signed-in-as]")).ToContainTextAsync(tenant.AdminUserName);
        await Assertions.Expect(page.GetByText("No Cloud PCs yet")).ToBeVisibleAsync();
        await Shot(page, "12-cloud-pcs-empty");

        // A policy with a bad name template is refused field by field, and nothing is created.
        await page.GotoAsync("/admin/policies");
        await Assertions.Expect(page.GetByText("No provisioning policies yet")).ToBeVisibleAsync();
        await page.ClickAsync("#new-policy");
        await page.FillAsync("#policy-name input", "Design team");
        await page.FillAsync("#policy-naming input", "AB");
        await page.ClickAsync("#create-policy");
        await Assertions.Expect(page.Locator("[data-field=cloudPcNamingTemplate]")).ToContainTextAsync("%RAND");
        await Shot(page, "13-policy-refused");
        Assert.Equal(0, (await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/provisioningPolicies")).GetProperty("totalCount").GetInt32());

        await page.FillAsync("#policy-naming input", "DES-%RAND:5%");
        await page.ClickAsync("#policy-region");
        await page.ClickAsync("#policy-region fluent-option[value='local-1']");
        await page.ClickAsync("#create-policy");
        var policyCard = page.Locator("[data-testid=policy][data-name='Design team']");
        await Assertions.Expect(policyCard).ToBeVisibleAsync();
        await Assertions.Expect(policyCard).ToContainTextAsync("Not assigned");

        // Assigning it to the group with the small plan.
        await policyCard.Locator("[data-testid=assign-group]").ClickAsync();
        await policyCard.Locator($"[data-testid=assign-group] fluent-option[value='{tenant.GroupId}']").ClickAsync();
        await policyCard.Locator("[data-testid=assign-plan]").ClickAsync();
        await policyCard.Locator($"[data-testid=assign-plan] fluent-option[value='{SmallPlan}']").ClickAsync();
        await policyCard.Locator("[data-testid=assign]").ClickAsync();
        await Assertions.Expect(policyCard).ToContainTextAsync("Designers with Cloud PC 1 vCPU/1 GB/8 GB");
        await Shot(page, "14-policy-assigned");
        var policies = await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/provisioningPolicies");
        var policy = policies.GetProperty("value")[0];
        Assert.Equal("local-1", policy.GetProperty("regionNames")[0].GetString());
        Assert.Equal(tenant.GroupId, policy.GetProperty("assignments")[0].GetProperty("target").GetProperty("groupId").GetGuid());

        // With the Cloud PCs page open, licenses arrive: the Cloud PCs appear and provision with no reload.
        await page.GotoAsync("/admin/cloudpcs");
        await Assertions.Expect(page.GetByText("No Cloud PCs yet")).ToBeVisibleAsync();
        foreach (var user in tenant.UserIds)
        {
            Assert.Equal(HttpStatusCode.OK, (await tenant.Admin.PostAsJsonAsync($"/api/v1/users/{user}/assignLicense",
                new { addLicenses = new[] { new { skuId = Guid.Parse(SmallPlan) } }, removeLicenses = Array.Empty<Guid>() })).StatusCode);
        }

        var users = page.Locator("[data-testid=cloudpcs] .cloudpc-user");
        await Assertions.Expect(users).ToHaveCountAsync(3, new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator(".cloudpc-status [data-status=provisioned]")).ToHaveCountAsync(3, new() { Timeout = 120_000 });
        await Assertions.Expect(page.Locator("[data-testid=paging]")).ToHaveTextAsync("1–3 of 3");
        await Shot(page, "15-cloud-pcs");

        // Filter: no failed Cloud PC; sort: by user, descending.
        await page.ClickAsync("#filter-status");
        await page.ClickAsync("#filter-status fluent-option[value='failed']");
        await Assertions.Expect(page.GetByText("No Cloud PC matches")).ToBeVisibleAsync();
        await Shot(page, "16-cloud-pcs-filtered");
        await page.ClickAsync("#filter-status");
        await page.ClickAsync("#filter-status fluent-option[value='']");
        await page.ClickAsync("#sort-by");
        await page.ClickAsync("#sort-by fluent-option[value='userPrincipalName']");
        await page.GetByText("Ascending").ClickAsync();
        await Assertions.Expect(users.First).ToHaveTextAsync($"cy@{tenant.Domain}");
        await Assertions.Expect(users.Last).ToHaveTextAsync($"ada@{tenant.Domain}");

        // One Cloud PC renamed from its row; all three restarted at once.
        await page.Locator($"[data-action=rename][data-user='ada@{tenant.Domain}']").ClickAsync();
        await page.FillAsync("#rename-name input", "Ada's design PC");
        await page.ClickAsync("#rename-confirm");
        await Assertions.Expect(page.GetByText("Renamed")).ToBeVisibleAsync();
        var ada = await CloudPcOfAsync(tenant, $"ada@{tenant.Domain}");
        Assert.Equal("Ada's design PC", ada.GetProperty("displayName").GetString());

        await page.Locator("fluent-checkbox[aria-label='Select all on this page']").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=bulk-bar]")).ToContainTextAsync("3 selected");
        await Shot(page, "17-cloud-pcs-bulk");
        await page.Locator("[data-testid=bulk-bar]").GetByText("Restart").ClickAsync();
        await Assertions.Expect(page.GetByText("Restart: accepted for 3 Cloud PCs.")).ToBeVisibleAsync();
        // Audit records travel to the diagnostics service through the outbox: they arrive shortly after.
        await EventuallyAsync(async () =>
        {
            var audit = await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/auditEvents?$top=100");
            return audit.GetProperty("value").EnumerateArray().Count(e => e.GetProperty("activity").GetString() == "reboot"
                && e.GetProperty("actor").GetProperty("userPrincipalName").GetString() == tenant.AdminUserName) == 3;
        }, "three restarts by the admin in the audit log");

        // The overview counts what the tenant has.
        await page.GotoAsync("/admin");
        await Assertions.Expect(page.Locator(".stratus-tile").First).ToContainTextAsync("3");
        await Assertions.Expect(page.Locator(".stratus-tile", new() { HasText = "Licenses in use" })).ToContainTextAsync("3 / 3");
        await Shot(page, "18-overview");

        // A custom image: uploaded from the browser with progress, then checked by Stratus; a bad disk fails with why.
        await page.GotoAsync("/admin/images");
        await Assertions.Expect(page.GetByText("No custom images")).ToBeVisibleAsync();
        var goodDisk = Path.Combine(data.Path, "good-disk.raw");
        var bytes = new byte[8 * 1024 * 1024];
        bytes[510] = 0x55;
        bytes[511] = 0xAA;
        await File.WriteAllBytesAsync(goodDisk, bytes);
        await page.ClickAsync("#add-image");
        await page.SetInputFilesAsync("#image-file", goodDisk);
        await Assertions.Expect(page.Locator("#image-name")).ToHaveAttributeAsync("current-value", "good-disk");
        await page.FillAsync("#image-version input", "2.1.0");
        await page.ClickAsync("#upload");
        var customImages = page.Locator("[data-testid=custom-images]");
        await Assertions.Expect(customImages).ToContainTextAsync("good-disk");
        await Assertions.Expect(customImages.Locator("[data-status=ready]")).ToHaveCountAsync(1, new() { Timeout = 60_000 });
        await Assertions.Expect(page.GetByText("Uploaded good-disk")).ToBeVisibleAsync();

        var badDisk = Path.Combine(data.Path, "not-a-disk.raw");
        await File.WriteAllBytesAsync(badDisk, new byte[1024 * 1024]);
        await page.ClickAsync("#add-image");
        await page.SetInputFilesAsync("#image-file", badDisk);
        await page.ClickAsync("#upload");
        await Assertions.Expect(customImages.Locator("[data-status=failed]")).ToHaveCountAsync(1, new() { Timeout = 60_000 });
        await Assertions.Expect(customImages.Locator(".image-detail").Last).ToContainTextAsync("partition");
        await Shot(page, "19-images");

        // Tenant isolation: Fabrikam's admin sees none of Contoso's Cloud PCs or images.
        var fabrikam = await Chromium.NewPageAsync(browser, stratus, 1366, 850);
        await Chromium.SignInToAdminAsync(fabrikam, other.AdminUserName, AdminPassword);
        await fabrikam.GotoAsync("/admin/cloudpcs");
        await Assertions.Expect(fabrikam.GetByText("No Cloud PCs yet")).ToBeVisibleAsync();
        await fabrikam.GotoAsync("/admin/images");
        await Assertions.Expect(fabrikam.GetByText("No custom images")).ToBeVisibleAsync();

        // A user who is no administrator is told where to go instead.
        var notAdmin = await Chromium.NewPageAsync(browser, stratus, 1366, 850);
        await Chromium.SignInToAdminAsync(notAdmin, $"ada@{tenant.Domain}", "user-password-123");
        await Assertions.Expect(notAdmin.GetByText("This portal is for administrators")).ToBeVisibleAsync();
        await Shot(notAdmin, "60-not-an-admin");

        // The operator: hosts by state, and a host drained and resumed from the hosts page.
        var operatorPage = await Chromium.NewPageAsync(browser, stratus, 1366, 850);
        await Chromium.SignInToAdminAsync(operatorPage, "operator", TestAccounts.OperatorPassword);
        await Assertions.Expect(operatorPage.Locator(".stratus-tile", new() { HasText = "Hosts ready" })).ToContainTextAsync("2 / 2");
        await Shot(operatorPage, "61-operator-overview");
        await operatorPage.GotoAsync("/admin/hosts");
        var hosts = operatorPage.Locator("[data-testid=hosts]");
        await Assertions.Expect(hosts.Locator("[data-status=ready]")).ToHaveCountAsync(2);
        await hosts.GetByText("Drain").First.ClickAsync();
        await Assertions.Expect(hosts.Locator("[data-status=draining]")).ToHaveCountAsync(1);
        await operatorPage.ClickAsync("#add-host");
        await Assertions.Expect(operatorPage.Locator(".stratus-command")).ToContainTextAsync("stratus host --control-plane");
        await Shot(operatorPage, "62-hosts");
        using var operatorClient = await stratus.OperatorClientAsync();
        var drained = (await operatorClient.GetFromJsonAsync<JsonElement>("/api/v1/hosts")).EnumerateArray().Count(h => h.GetProperty("state").GetString() == "draining");
        Assert.Equal(1, drained);
        await hosts.GetByText("Resume").ClickAsync();
        await Assertions.Expect(hosts.Locator("[data-status=ready]")).ToHaveCountAsync(2);
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(30);
        while (!await condition())
        {
            Assert.True(TimeProvider.System.GetUtcNow() < deadline, $"Waited 30 s for {what}.");
            await Task.Delay(250);
        }
    }

    private static Task Shot(IPage page, string name) =>
        Chromium.ScreenshotAsync(page, name, fullPage: true);

    private static async Task<JsonElement> CloudPcOfAsync(AdminTenant tenant, string userPrincipalName)
    {
        var list = await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/cloudPCs?$filter={Uri.EscapeDataString($"userPrincipalName eq '{userPrincipalName}'")}");
        return list.GetProperty("value")[0];
    }

    /// <summary>A tenant with seats of the small plan, a group Designers and its members (unlicensed), made through the API.</summary>
    private static async Task<AdminTenant> TenantAsync(StratusProcess stratus, string name, int seats, string[] users)
    {
        using var operatorClient = await stratus.OperatorClientAsync();
        var domain = $"{name.ToLowerInvariant()}-{Guid.NewGuid():N}"[..16] + ".test";
        var created = await operatorClient.PostAsJsonAsync("/api/v1/tenants", new { displayName = name, domain, admin = new { userName = $"admin@{domain}", password = AdminPassword } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var tenantId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tenant").GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.OK, (await operatorClient.PutAsJsonAsync($"/api/v1/tenants/{tenantId}/subscribedSkus/{SmallPlan}", new { prepaidUnits = seats })).StatusCode);
        var admin = await stratus.SignedInClientAsync($"admin@{domain}", AdminPassword);
        var group = await IdAsync(await admin.PostAsJsonAsync("/api/v1/groups", new { displayName = "Designers" }));
        var ids = new List<Guid>();
        foreach (var user in users)
        {
            var id = await IdAsync(await admin.PostAsJsonAsync("/api/v1/users", new { userPrincipalName = $"{user}@{domain}", displayName = user, accountEnabled = true, passwordProfile = new { password = "user-password-123" } }));
            Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsJsonAsync($"/api/v1/groups/{group}/members", new { id })).StatusCode);
            ids.Add(id);
        }

        return new AdminTenant(domain, $"admin@{domain}", admin, group, ids);
    }

    private static async Task<Guid> IdAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private sealed record AdminTenant(string Domain, string AdminUserName, HttpClient Admin, Guid GroupId, List<Guid> UserIds);
}
