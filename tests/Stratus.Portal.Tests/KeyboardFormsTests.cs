using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Stratus.Testing;

namespace Stratus.Portal.Tests;

/// <summary>
/// Every form of both portals as most people use them: typed with the keyboard (or pasted) and sent with Enter, not
/// filled by script and clicked. A refused form names the field in the portal's words, never the API's
/// "fields named in 'errors'".
/// </summary>
public sealed class KeyboardFormsTests
{
    private const string AdminPassword = "tenant-admin-pass-1";

    [Fact]
    public async Task Every_form_of_both_portals_is_sent_with_the_Enter_key_and_names_a_wrong_field_in_the_portals_words()
    {
        using var data = new TempFolder();
        await TinyImageFolder.InstallIntoAsync(data.Path);
        await using var stratus = await StratusProcess.StartAsync(["up", "--hosts", "simulated"], data.Path);
        using var playwright = await Chromium.StartPlaywrightAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await Chromium.NewPageAsync(browser, stratus);

        // Admin sign-in: the user name pasted, the password typed, Enter in the password field signs in.
        await page.GotoAsync("/admin/signin");
        await page.Locator("#userName input").FocusAsync();
        await page.Keyboard.InsertTextAsync("operator");
        await TypeAsync(page, "#password", TestAccounts.OperatorPassword);
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync(url => !url.Contains("/admin/signin", StringComparison.Ordinal));
        await page.Context.ClearCookiesAsync();

        // Enter in the user name field, with both typed, signs in too.
        await page.GotoAsync("/admin/signin");
        await TypeAsync(page, "#password", TestAccounts.OperatorPassword);
        await TypeAsync(page, "#userName", "operator");
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync(url => !url.Contains("/admin/signin", StringComparison.Ordinal));

        // The operator's new-tenant dialog: Enter in its last field creates the tenant.
        var domain = $"keys{Guid.NewGuid():N}"[..12] + ".test";
        await page.GotoAsync("/admin/tenants");
        await page.ClickAsync("[data-testid=new-tenant]");
        await TypeAsync(page, "#newTenantName", "Keyboard Inc");
        await TypeAsync(page, "#newTenantDomain", domain);
        await TypeAsync(page, "#newAdminUserName", $"admin@{domain}");
        await TypeAsync(page, "#newAdminPassword", AdminPassword);
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByText(domain).First).ToBeVisibleAsync();
        using var operatorClient = await stratus.OperatorClientAsync();
        var tenants = await operatorClient.GetFromJsonAsync<JsonElement>("/api/v1/tenants");
        Assert.Contains(tenants.GetProperty("value").EnumerateArray(), t => t.GetProperty("domain").GetString() == domain);

        // The tenant's administrator: new group, new user, new policy and the user search, each sent with Enter.
        await page.Context.ClearCookiesAsync();
        await page.GotoAsync("/admin/signin");
        await TypeAsync(page, "#userName", $"admin@{domain}");
        await TypeAsync(page, "#password", AdminPassword);
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync(url => !url.Contains("/admin/signin", StringComparison.Ordinal));
        using var admin = await stratus.SignedInClientAsync($"admin@{domain}", AdminPassword);

        await page.GotoAsync("/admin/groups");
        await page.ClickAsync("[data-testid=new-group]");
        await TypeAsync(page, "#newGroupName", "Typists");
        await page.Keyboard.PressAsync("Enter");
        await Eventually(async () => (await admin.GetFromJsonAsync<JsonElement>("/api/v1/groups")).GetProperty("value").EnumerateArray()
            .Any(g => g.GetProperty("displayName").GetString() == "Typists"), "the group typed and sent with Enter");

        await page.GotoAsync("/admin/users");
        await page.ClickAsync("[data-testid=new-user]");
        await TypeAsync(page, "#newUserName", $"kim@{domain}");
        await TypeAsync(page, "#newDisplayName", "Kim");
        await TypeAsync(page, "#newPassword", "short");
        await page.Keyboard.PressAsync("Enter");
        // Refused by the API: the field is named as the form labels it, not as the API's JSON names it.
        var refused = page.Locator("[data-field='passwordProfile.password']");
        await Assertions.Expect(refused).ToContainTextAsync("Password");
        await Assertions.Expect(refused).Not.ToContainTextAsync("passwordProfile");
        await Assertions.Expect(page.GetByText("fields named in 'errors'")).ToHaveCountAsync(0);
        await page.Locator("#newPassword input").FillAsync("");
        await TypeAsync(page, "#newPassword", "kim-password-123");
        await page.Keyboard.PressAsync("Enter");
        await Eventually(async () => (await admin.GetFromJsonAsync<JsonElement>("/api/v1/users")).GetProperty("value").EnumerateArray()
            .Any(u => u.GetProperty("userPrincipalName").GetString() == $"kim@{domain}"), "the user typed and sent with Enter");

        await page.Keyboard.PressAsync("Escape");
        await TypeAsync(page, "#user-search", "Kim");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByText($"kim@{domain}").First).ToBeVisibleAsync();

        await page.GotoAsync("/admin/policies");
        await page.ClickAsync("#new-policy");
        await TypeAsync(page, "#policy-name", "Typed policy");
        // The template field holds the default template: select it and type over it.
        await page.Locator("#policy-naming input").FocusAsync();
        await page.Keyboard.PressAsync("Control+A");
        await TypeAsync(page, "#policy-naming", "TYP-%RAND:5%");
        await page.Keyboard.PressAsync("Enter");
        await Eventually(async () => (await admin.GetFromJsonAsync<JsonElement>("/api/v1/provisioningPolicies")).GetProperty("value").EnumerateArray()
            .Any(p => p.GetProperty("displayName").GetString() == "Typed policy"), "the policy typed and sent with Enter", page);

        // The user portal's sign-in: typed, Enter.
        var user = await browser.NewPageAsync(new() { BaseURL = stratus.BaseAddress.ToString() });
        await user.GotoAsync("/");
        await Assertions.Expect(user.Locator("#signin")).ToBeVisibleAsync();
        await user.Locator("#username").PressSequentiallyAsync($"kim@{domain}");
        await user.Locator("#password").PressSequentiallyAsync("kim-password-123");
        await user.Keyboard.PressAsync("Enter");
        await Assertions.Expect(user.Locator("#signin-error")).ToBeHiddenAsync();
        await Assertions.Expect(user.Locator("#home")).ToBeVisibleAsync();
    }

    /// <summary>Focuses a field (a Fluent field's own input) and types into it key by key.</summary>
    private static async Task TypeAsync(IPage page, string selector, string text)
    {
        await page.Locator($"{selector} input").First.FocusAsync();
        await page.Keyboard.TypeAsync(text);
    }

    private static async Task Eventually(Func<Task<bool>> probe, string what, IPage? page = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!await probe())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"Timed out waiting for {what}. The page shows: {(page is null ? "" : await page.Locator("main").InnerTextAsync())}");
            await Task.Delay(250);
        }
    }
}
