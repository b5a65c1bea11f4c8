using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Stratus.Testing;

namespace Stratus.Portal.Tests;

/// <summary>
/// The admin portal's directory pages (users, groups, licenses, tenants, audit log) in Debian's chromium against
/// one real all-in-one with simulated hosts. Every page state is saved as a screenshot under the test output's
/// screenshots folder, to be looked at.
/// </summary>
public sealed class AdminDirectoryTests(DirectoryFixture stratus) : IClassFixture<DirectoryFixture>
{
    internal const string SmallPlan = "5c1a0000-0000-4000-8000-000000010108";
    internal const string SmallPlanName = "Cloud PC 1 vCPU/1 GB/8 GB";
    internal const string MediumPlan = "5c1a0000-0000-4000-8000-000000020216";

    [Fact]
    public async Task An_empty_gallery_says_on_the_images_page_where_the_image_is_expected_and_how_to_build_it()
    {
        // This fixture's data folder has no gallery image, as one that `make up` did not prepare.
        var page = await stratus.SignInAsync(stratus.TenantA.AdminUserName, stratus.TenantA.AdminPassword);

        await page.GotoAsync("/admin/images");

        var missing = page.Locator("[data-testid=gallery-missing]");
        var expected = Path.Combine(stratus.Process.DataFolder, "images", "gallery", "stratus-tiny-linux");
        await Assertions.Expect(missing).ToContainTextAsync($"Stratus Tiny Linux is expected in {expected}");
        await Assertions.Expect(missing).ToContainTextAsync($"scripts/build-tiny-image.sh {expected}");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_tenant_admin_creates_a_user_a_group_and_a_license_and_finds_them_in_the_audit_log()
    {
        var tenant = stratus.TenantA;
        var page = await stratus.SignInAsync(tenant.AdminUserName, tenant.AdminPassword);

        // The list, with the admin who is signed in.
        await page.GotoAsync("/admin/users");
        await Assertions.Expect(Row(page, "users-grid", tenant.AdminUserName)).ToBeVisibleAsync();
        await Assertions.Expect(Row(page, "users-grid", tenant.AdminUserName)).ToContainTextAsync("you");
        await ShotAsync(page, "20-users");

        // A too-short password: the API's message under the field, and no user.
        await page.ClickAsync("[data-testid=new-user]");
        var dialog = page.Locator("[data-testid=create-user-dialog]");
        await Assertions.Expect(dialog.Locator("#newUserName")).ToBeVisibleAsync();
        await page.Locator("#newUserName input").FillAsync("ada");
        await page.Locator("#newDisplayName input").FillAsync("Ada Lovelace");
        await page.Locator("#newPassword input").FillAsync("short");
        await page.ClickAsync("[data-testid=create-user-submit]");
        await Assertions.Expect(dialog.Locator("[data-field='passwordProfile.password']")).ToContainTextAsync("12 to 256 characters");
        await ShotAsync(page, "21-user-create-error");
        using (var admin = await stratus.Process.SignedInClientAsync(tenant.AdminUserName, tenant.AdminPassword))
        {
            var found = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/users?$filter=userPrincipalName eq 'ada@{tenant.Domain}'");
            Assert.Equal(0, found.GetProperty("totalCount").GetInt32());
        }

        // Then correctly.
        await page.Locator("#newPassword input").FillAsync("ada-password-123");
        await page.ClickAsync("[data-testid=create-user-submit]");
        await Assertions.Expect(dialog).ToHaveCountAsync(0);
        var ada = Row(page, "users-grid", $"ada@{tenant.Domain}");
        await Assertions.Expect(ada).ToContainTextAsync("Ada Lovelace");
        await Assertions.Expect(ada.Locator("[data-testid=user-status]")).ToHaveTextAsync("Enabled");
        await ShotAsync(page, "22-user-created");

        // A license of the plan with one seat.
        await ada.Locator("[data-testid=user-licenses]").ClickAsync();
        var licenses = page.Locator("[data-testid=licenses-dialog]");
        await Assertions.Expect(licenses.Locator("[data-testid=no-licenses]")).ToBeVisibleAsync();
        await ShotAsync(page, "23-user-licenses-none");
        await PickAsync(page, "#assign-plan", SmallPlanName);
        await licenses.Locator("[data-testid=license-assign]").ClickAsync();
        await Assertions.Expect(licenses.Locator("[data-testid=user-license]")).ToContainTextAsync(SmallPlanName);
        await ShotAsync(page, "24-user-licenses");
        await licenses.GetByRole(AriaRole.Button, new() { Name = "Close", Exact = true }).ClickAsync();
        await Assertions.Expect(licenses).ToHaveCountAsync(0);

        // Its only seat is taken: the API's 409 is shown as it said it.
        await Row(page, "users-grid", tenant.AdminUserName).Locator("[data-testid=user-licenses]").ClickAsync();
        await Assertions.Expect(licenses.Locator("[data-testid=no-licenses]")).ToBeVisibleAsync();
        await PickAsync(page, "#assign-plan", SmallPlanName);
        await licenses.Locator("[data-testid=license-assign]").ClickAsync();
        await Assertions.Expect(licenses.Locator("[data-testid=license-error]")).ToContainTextAsync($"No seat of '{SmallPlanName}' is free");
        await ShotAsync(page, "25-license-no-seats");
        await licenses.GetByRole(AriaRole.Button, new() { Name = "Close", Exact = true }).ClickAsync();

        // Disable and enable.
        await ada.Locator("[data-testid=user-disable]").ClickAsync();
        await Assertions.Expect(ada.Locator("[data-testid=user-status]")).ToHaveTextAsync("Disabled");
        await ShotAsync(page, "26-user-disabled");
        await ada.Locator("[data-testid=user-enable]").ClickAsync();
        await Assertions.Expect(ada.Locator("[data-testid=user-status]")).ToHaveTextAsync("Enabled");

        // The search asks the API ($filter): a display name, or a bare user name completed with the domain.
        await page.Locator("#user-search input").FillAsync("Ada Lovelace");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=search-summary]")).ToContainTextAsync("1 user matches");
        await Assertions.Expect(page.Locator("[data-testid=users-grid] tbody tr")).ToHaveCountAsync(1);
        await ShotAsync(page, "27-user-search");
        await page.Locator("#user-search input").FillAsync("nobody");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByText("No user matches")).ToBeVisibleAsync();
        await ShotAsync(page, "28-user-search-none");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show all" }).ClickAsync();

        // Delete, after a confirmation.
        using (var admin = await stratus.Process.SignedInClientAsync(tenant.AdminUserName, tenant.AdminPassword))
        {
            await CreateUserAsync(admin, $"temp@{tenant.Domain}", "Temporary Person");
        }

        await page.ReloadAsync();
        var temp = Row(page, "users-grid", $"temp@{tenant.Domain}");
        await temp.Locator("[data-testid=user-delete]").ClickAsync();
        var confirm = page.Locator("fluent-dialog").Filter(new() { HasText = "Delete user" });
        await Assertions.Expect(confirm).ToContainTextAsync("Temporary Person");
        await ShotAsync(page, "29-user-delete-confirm");
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Delete", Exact = true }).ClickAsync();
        await Assertions.Expect(temp).ToHaveCountAsync(0);

        // Seats used went up on the licenses page.
        await page.GotoAsync("/admin/licenses");
        var small = page.Locator($"[data-testid=skus-grid] tr:has([data-sku='{SmallPlan}'])");
        await Assertions.Expect(small.Locator("[data-testid=sku-used]")).ToHaveTextAsync("1");
        await Assertions.Expect(small.Locator("[data-testid=sku-free]")).ToHaveTextAsync("0");
        var medium = page.Locator($"[data-testid=skus-grid] tr:has([data-sku='{MediumPlan}'])");
        await Assertions.Expect(medium.Locator("[data-testid=sku-bought]")).ToHaveTextAsync("3");
        await ShotAsync(page, "30-licenses");

        // A group: the API's field error first, then created, then Ada added with the picker.
        await page.GotoAsync("/admin/groups");
        await Assertions.Expect(page.GetByText("No groups yet")).ToBeVisibleAsync();
        await ShotAsync(page, "31-groups-empty");
        await page.ClickAsync("[data-testid=new-group]");
        var groupDialog = page.Locator("[data-testid=create-group-dialog]");
        await Assertions.Expect(groupDialog.Locator("#newGroupName")).ToBeVisibleAsync();
        await page.ClickAsync("[data-testid=create-group-submit]");
        await Assertions.Expect(groupDialog.Locator("[data-field=displayName]")).ToContainTextAsync("Name is required.");
        await ShotAsync(page, "32-group-create-error");
        await page.Locator("#newGroupName input").FillAsync("Designers");
        await page.Locator("#newGroupDescription textarea").FillAsync("The design team's Cloud PCs");
        await page.ClickAsync("[data-testid=create-group-submit]");
        await Assertions.Expect(groupDialog).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-testid=members-title]")).ToHaveTextAsync("Designers");
        await Assertions.Expect(page.Locator("[data-testid=no-members]")).ToBeVisibleAsync();
        await page.Locator("#member-picker input").FillAsync("Ada");
        await page.Locator("fluent-option").Filter(new() { HasText = $"ada@{tenant.Domain}" }).ClickAsync();
        await page.ClickAsync("[data-testid=member-add]");
        await Assertions.Expect(page.Locator("[data-testid=member]")).ToContainTextAsync($"ada@{tenant.Domain}");
        await ShotAsync(page, "33-group-members");
        using (var admin = await stratus.Process.SignedInClientAsync(tenant.AdminUserName, tenant.AdminPassword))
        {
            var groups = await admin.GetFromJsonAsync<JsonElement>("/api/v1/groups?$filter=displayName eq 'Designers'");
            var groupId = groups.GetProperty("value")[0].GetProperty("id").GetGuid();
            var members = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/groups/{groupId}/members");
            Assert.Equal($"ada@{tenant.Domain}", members.GetProperty("value")[0].GetProperty("userPrincipalName").GetString());
        }

        // The audit log shows what was done, newest first.
        await page.GotoAsync("/admin/audit");
        foreach (var activity in new[] { "CreateUser", "AssignLicense", "DisableUser", "DeleteUser", "CreateGroup", "AddGroupMember" })
        {
            await ExpectEventuallyAsync(page, page.Locator($"[data-testid=audit-row][data-activity={activity}]").First);
        }

        var order = await page.Locator("[data-testid=audit-row]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.activity)");
        Assert.True(Array.IndexOf(order, "AddGroupMember") < Array.IndexOf(order, "CreateGroup"), "newest first: " + string.Join(", ", order));
        Assert.True(Array.IndexOf(order, "CreateGroup") < Array.IndexOf(order, "DeleteUser"), "newest first: " + string.Join(", ", order));
        await ShotAsync(page, "34-audit");

        // The tenants page is the operator's.
        await page.GotoAsync("/admin/tenants");
        await Assertions.Expect(page.Locator("[data-testid=operator-only]")).ToContainTextAsync("Only the platform operator");
        await ShotAsync(page, "35-tenants-not-operator");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_operator_creates_a_tenant_sets_its_seats_suspends_and_deletes_it()
    {
        var page = await stratus.SignInAsync("operator", TestAccounts.OperatorPassword);
        await page.GotoAsync("/admin/tenants");
        await Assertions.Expect(Row(page, "tenants-grid", stratus.TenantA.Domain)).ToBeVisibleAsync();
        await ShotAsync(page, "40-tenants");

        // Field errors from the API, and nothing created.
        var domain = $"f{Guid.NewGuid():N}"[..10] + ".test";
        await page.ClickAsync("[data-testid=new-tenant]");
        var dialog = page.Locator("[data-testid=create-tenant-dialog]");
        await Assertions.Expect(dialog.Locator("#newTenantName")).ToBeVisibleAsync();
        await page.Locator("#newTenantName input").FillAsync("Fabrikam");
        await page.Locator("#newTenantDomain input").FillAsync("not a domain");
        await page.Locator("#newAdminUserName input").FillAsync("admin");
        await page.Locator("#newAdminPassword input").FillAsync("short");
        await page.ClickAsync("[data-testid=create-tenant-submit]");
        await Assertions.Expect(dialog.Locator("[data-field=domain]")).ToContainTextAsync("DNS domain");
        await Assertions.Expect(dialog.Locator("[data-field='admin.password']")).ToContainTextAsync("12 to 256 characters");
        await ShotAsync(page, "41-tenant-create-error");

        await page.Locator("#newTenantDomain input").FillAsync(domain);
        await page.Locator("#newAdminPassword input").FillAsync("fabrikam-admin-pass-1");
        await page.ClickAsync("[data-testid=create-tenant-submit]");
        await Assertions.Expect(dialog).ToHaveCountAsync(0);
        var row = Row(page, "tenants-grid", domain);
        await Assertions.Expect(row).ToContainTextAsync("Active");
        await ShotAsync(page, "42-tenant-created");

        // Seats of a plan, read back through the API.
        await row.Locator("[data-testid=tenant-seats]").ClickAsync();
        var seats = page.Locator("[data-testid=seats-dialog]");
        var smallRow = seats.Locator($"[data-testid=seat-row][data-plan='{SmallPlanName}']");
        await smallRow.Locator("[data-testid=seat-input] input").FillAsync("3");
        await smallRow.Locator("[data-testid=seat-save]").ClickAsync();
        await Assertions.Expect(page.GetByText($"{domain} has 3 seats of {SmallPlanName}.")).ToBeVisibleAsync();
        await ShotAsync(page, "43-tenant-seats");
        using var operatorClient = await stratus.Process.OperatorClientAsync();
        var tenants = await operatorClient.GetFromJsonAsync<JsonElement>("/api/v1/tenants?$top=1000");
        var tenantId = tenants.GetProperty("value").EnumerateArray().Single(t => t.GetProperty("domain").GetString() == domain).GetProperty("id").GetGuid();
        var skus = await operatorClient.GetFromJsonAsync<JsonElement>($"/api/v1/tenants/{tenantId}/subscribedSkus");
        Assert.Equal(3, skus.EnumerateArray().Single(s => s.GetProperty("skuId").GetString() == SmallPlan).GetProperty("prepaidUnits").GetProperty("enabled").GetInt32());
        await seats.GetByRole(AriaRole.Button, new() { Name = "Close", Exact = true }).ClickAsync();
        await Assertions.Expect(seats).ToHaveCountAsync(0);

        // Suspended after a confirmation; then deleted after another.
        await row.Locator("[data-testid=tenant-suspend]").ClickAsync();
        var confirm = page.Locator("fluent-dialog").Filter(new() { HasText = "Suspend tenant" });
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Suspend", Exact = true }).ClickAsync();
        await Assertions.Expect(row).ToContainTextAsync("Suspended");
        await ShotAsync(page, "44-tenant-suspended");
        var suspended = await operatorClient.GetFromJsonAsync<JsonElement>($"/api/v1/tenants/{tenantId}");
        Assert.Equal("suspended", suspended.GetProperty("state").GetString());

        await row.Locator("[data-testid=tenant-delete]").ClickAsync();
        var confirmDelete = page.Locator("fluent-dialog").Filter(new() { HasText = "Delete tenant" });
        await Assertions.Expect(confirmDelete).ToContainTextAsync(domain);
        await ShotAsync(page, "45-tenant-delete-confirm");
        await confirmDelete.GetByRole(AriaRole.Button, new() { Name = "Delete", Exact = true }).ClickAsync();
        await Assertions.Expect(row).ToHaveCountAsync(0);

        // The platform's audit log.
        await page.GotoAsync("/admin/audit");
        foreach (var activity in new[] { "CreateTenant", "SetSeats", "SuspendTenant", "DeleteTenant" })
        {
            await ExpectEventuallyAsync(page, page.Locator($"[data-testid=audit-row][data-activity={activity}]").Filter(new() { HasText = domain }).First);
        }

        await ShotAsync(page, "46-audit-operator");

        // The directory pages say where the operator's work is.
        await page.GotoAsync("/admin/licenses");
        await Assertions.Expect(page.GetByText("Licenses belong to a tenant")).ToBeVisibleAsync();
        await ShotAsync(page, "47-licenses-operator");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_second_tenants_admin_sees_none_of_the_first_tenants_users()
    {
        var first = stratus.TenantA;
        using (var admin = await stratus.Process.SignedInClientAsync(first.AdminUserName, first.AdminPassword))
        {
            await CreateUserAsync(admin, $"carol@{first.Domain}", "Carol First-Tenant");
        }

        var second = await stratus.CreateTenantAsync("Northwind", seats: []);
        var page = await stratus.SignInAsync(second.AdminUserName, second.AdminPassword);
        await page.GotoAsync("/admin/users");
        await Assertions.Expect(Row(page, "users-grid", second.AdminUserName)).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-testid=users-grid] tbody tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("[data-testid=pager-range]")).ToHaveTextAsync("1–1 of 1");
        await Assertions.Expect(page.GetByText(first.Domain)).ToHaveCountAsync(0);
        await ShotAsync(page, "50-isolation-users");

        // Searching for the first tenant's user by full name and user name finds nobody.
        await page.Locator("#user-search input").FillAsync($"carol@{first.Domain}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByText("No user matches")).ToBeVisibleAsync();
        await page.Locator("#user-search input").FillAsync("Carol First-Tenant");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByText("No user matches")).ToBeVisibleAsync();
        await ShotAsync(page, "51-isolation-search");

        // A tenant without seats: the licenses page says who sets them.
        await page.GotoAsync("/admin/licenses");
        await Assertions.Expect(page.Locator("[data-testid=licenses-empty]")).ToContainTextAsync("platform operator sets");
        await ShotAsync(page, "52-licenses-empty");

        await page.GotoAsync("/admin/audit");
        await ExpectEventuallyAsync(page, page.Locator("[data-testid=audit-row][data-activity=CreateUser]").First);
        await Assertions.Expect(page.GetByText(first.Domain)).ToHaveCountAsync(0);
        await ShotAsync(page, "53-isolation-audit");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_cloud_pc_reader_sees_users_groups_and_licenses_but_cannot_change_them()
    {
        var tenant = await stratus.CreateTenantAsync("Tailspin", new() { [SmallPlan] = 2 });
        Guid readerId;
        using (var admin = await stratus.Process.SignedInClientAsync(tenant.AdminUserName, tenant.AdminPassword))
        {
            readerId = await CreateUserAsync(admin, $"rita@{tenant.Domain}", "Rita Reader");
            var role = await admin.PostAsJsonAsync("/api/v1/roleAssignments", new { principalId = readerId, roleDefinitionId = "cloudPcReader" });
            Assert.True(role.IsSuccessStatusCode, await role.Content.ReadAsStringAsync());
            var group = await admin.PostAsJsonAsync("/api/v1/groups", new { displayName = "Engineering", description = "Builds and test machines" });
            var groupId = (await group.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
            Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsJsonAsync($"/api/v1/groups/{groupId}/members", new { id = readerId })).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync($"/api/v1/users/{readerId}/assignLicense",
                new { addLicenses = new[] { new { skuId = Guid.Parse(SmallPlan) } }, removeLicenses = Array.Empty<Guid>() })).StatusCode);
        }

        var page = await stratus.SignInAsync($"rita@{tenant.Domain}", "user-password-123");
        await page.GotoAsync("/admin/users");
        await Assertions.Expect(page.Locator("[data-testid=read-only]")).ToContainTextAsync("tenant administrator role");
        await Assertions.Expect(Row(page, "users-grid", tenant.AdminUserName)).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-testid=new-user]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-testid=user-disable], [data-testid=user-delete]")).ToHaveCountAsync(0);
        await Row(page, "users-grid", $"rita@{tenant.Domain}").Locator("[data-testid=user-licenses]").ClickAsync();
        var licenses = page.Locator("[data-testid=licenses-dialog]");
        await Assertions.Expect(licenses.Locator("[data-testid=user-license]")).ToContainTextAsync(SmallPlanName);
        await Assertions.Expect(licenses.Locator("[data-testid=license-remove], [data-testid=license-assign]")).ToHaveCountAsync(0);
        await ShotAsync(page, "55-reader-licenses");
        await licenses.GetByRole(AriaRole.Button, new() { Name = "Close", Exact = true }).ClickAsync();
        await ShotAsync(page, "54-reader-users");

        await page.GotoAsync("/admin/groups");
        await page.Locator("[data-testid=group-row]").Filter(new() { HasText = "Engineering" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=member]")).ToContainTextAsync($"rita@{tenant.Domain}");
        await Assertions.Expect(page.Locator("[data-testid=new-group], [data-testid=group-delete], [data-testid=member-remove], #member-picker")).ToHaveCountAsync(0);
        await ShotAsync(page, "56-reader-groups");

        await page.GotoAsync("/admin/licenses");
        var small = page.Locator($"[data-testid=skus-grid] tr:has([data-sku='{SmallPlan}'])");
        await Assertions.Expect(small.Locator("[data-testid=sku-used]")).ToHaveTextAsync("1");
        await ShotAsync(page, "57-reader-licenses-page");
        await page.Context.CloseAsync();
    }

    private static ILocator Row(IPage page, string grid, string text) =>
        page.Locator($"[data-testid={grid}] tbody tr").Filter(new() { HasText = text });

    /// <summary>Opens a fluent-select and clicks the option that contains the text.</summary>
    private static async Task PickAsync(IPage page, string select, string option)
    {
        await page.Locator(select).ClickAsync();
        await page.Locator($"{select} fluent-option").Filter(new() { HasText = option }).ClickAsync();
    }

    /// <summary>Audit events arrive a moment after the change: refreshes until the row is there.</summary>
    private static async Task ExpectEventuallyAsync(IPage page, ILocator locator)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(60);
        while (await locator.CountAsync() == 0)
        {
            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                throw new TimeoutException($"Waited 60 s for {locator}.");
            }

            await page.ClickAsync("[data-testid=audit-refresh]");
            await page.WaitForTimeoutAsync(500);
        }
    }

    private static async Task ShotAsync(IPage page, string name)
    {
        // Toasts and animations settle first, so that the picture is of the state, not of a transition.
        await page.WaitForTimeoutAsync(400);
        await Chromium.ScreenshotAsync(page, name, fullPage: true);
    }

    private static async Task<Guid> CreateUserAsync(HttpClient admin, string userPrincipalName, string displayName)
    {
        var response = await admin.PostAsJsonAsync("/api/v1/users", new { userPrincipalName, displayName, accountEnabled = true, passwordProfile = new { password = "user-password-123" } });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }
}
