using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Stratus.Testing;

namespace Stratus.Portal.Tests;

/// <summary>
/// Both portals confine themselves in the browser: a Content-Security-Policy without inline script or eval, no
/// framing, no sniffing, no referrer; cookies out of scripts' reach and not sent cross-site. And the pages still work
/// under that policy, used with the keyboard, the console page (noVNC) included, with no violation reported.
/// </summary>
public sealed class BrowserHardeningTests
{
    [Fact]
    public async Task Both_portals_and_the_console_page_send_the_security_headers_and_work_under_their_policy_without_a_violation()
    {
        using var data = new TempFolder();
        await TinyImageFolder.InstallIntoAsync(data.Path);
        await using var stratus = await StratusProcess.StartAsync(["up", "--hosts", "simulated"], data.Path);
        var (domain, pcId) = await ProvisionAsync(stratus);

        // Pages, scripts, an API answer and an error: each carries the headers.
        using var anonymous = new HttpClient { BaseAddress = stratus.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        foreach (var path in new[] { "/", "/console.html", "/portal.js", "/novnc/core/rfb.js", "/admin/signin", "/admin", "/_framework/blazor.web.js", "/api/v1/me", "/no-such-page" })
        {
            using var response = await anonymous.GetAsync(path);
            AssertHardened(response, path);
        }

        using var playwright = await Chromium.StartPlaywrightAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var context = await Chromium.NewContextAsync(browser, stratus);
        var violations = await Chromium.ListenForCspViolationsAsync(context);

        // The admin portal, by keyboard: sign in, then move between pages through its navigation.
        var admin = await context.NewPageAsync();
        await admin.GotoAsync("/admin/signin");
        await Assertions.Expect(admin.Locator("#userName input")).ToBeEditableAsync();
        await admin.Locator("#userName input").FocusAsync();
        await admin.Keyboard.TypeAsync($"admin@{domain}");
        await Assertions.Expect(admin.Locator("#userName input")).ToHaveValueAsync($"admin@{domain}");
        await admin.Locator("#password input").FocusAsync();
        await admin.Keyboard.TypeAsync(UserPortalTests.AdminPassword);
        await admin.Keyboard.PressAsync("Enter");
        await admin.WaitForURLAsync(url => !url.Contains("/admin/signin", StringComparison.Ordinal));
        await admin.ClickAsync("fluent-nav-link[href='/admin/cloudpcs'] a, a[href='/admin/cloudpcs']");
        await Assertions.Expect(admin.GetByRole(AriaRole.Heading, new() { Name = "Cloud PCs" })).ToBeVisibleAsync();
        await Assertions.Expect(admin.Locator(".cloudpc-status [data-status=provisioned]")).ToHaveCountAsync(1);
        await Chromium.ScreenshotAsync(admin, "csp-01-admin-cloud-pcs");
        await admin.ClickAsync("fluent-nav-link[href='/admin/users'] a, a[href='/admin/users']");
        await Assertions.Expect(admin.GetByRole(AriaRole.Heading, new() { Name = "Users" })).ToBeVisibleAsync();
        await Assertions.Expect(admin.GetByText($"ada@{domain}").First).ToBeVisibleAsync();
        await Chromium.ScreenshotAsync(admin, "csp-02-admin-users");
        await admin.CloseAsync();

        // The user portal, by keyboard: sign in, see the Cloud PC, open its console page (noVNC).
        await context.ClearCookiesAsync();
        var user = await context.NewPageAsync();
        await user.GotoAsync("/");
        // The form shows once the page has asked who is signed in: keys typed before that go nowhere.
        await Assertions.Expect(user.Locator("#signin")).ToBeVisibleAsync();
        await user.Locator("#username").FocusAsync();
        await user.Keyboard.TypeAsync($"ada@{domain}");
        await Assertions.Expect(user.Locator("#username")).ToHaveValueAsync($"ada@{domain}");
        await user.Keyboard.PressAsync("Tab");
        await user.Keyboard.TypeAsync("ada-password-123");
        await user.Keyboard.PressAsync("Enter");
        var card = user.Locator(".card");
        await Assertions.Expect(card.Locator(".connect")).ToBeEnabledAsync(new() { Timeout = 120_000 });
        await Chromium.ScreenshotAsync(user, "csp-03-my-cloud-pcs");

        // Cookies: none readable by a page's script, none sent on another site's requests.
        var cookies = await context.CookiesAsync();
        Assert.Contains(cookies, c => c.Name == "stratus.session");
        Assert.All(cookies, c =>
        {
            Assert.True(c.HttpOnly, $"cookie {c.Name} is HttpOnly");
            Assert.True(c.SameSite is SameSiteAttribute.Strict or SameSiteAttribute.Lax, $"cookie {c.Name} is SameSite=Lax or Strict, not {c.SameSite}");
        });
        Assert.Equal("", await user.EvaluateAsync<string>("() => document.cookie"));

        var console = await user.RunAndWaitForPopupAsync(() => card.Locator(".connect").ClickAsync());
        Assert.Contains($"/console.html?id={pcId}", console.Url, StringComparison.Ordinal);
        // The page's module ran (it read the Cloud PC and named it) and noVNC opened the gateway's WebSocket: a simulated
        // host has no display, so the gateway refuses the handshake and the page says so, as it would for a real restart.
        await Assertions.Expect(console.Locator("#title")).ToContainTextAsync($"ada@{domain}", new() { Timeout = 60_000 });
        await Assertions.Expect(console.Locator("#message")).ToContainTextAsync("display did not answer", new() { Timeout = 120_000 });
        await Chromium.ScreenshotAsync(console, "csp-04-console-page");

        Assert.True(violations.IsEmpty, "the browser reported Content-Security-Policy violations:\n" + string.Join("\n", violations));

        // The listener hears a violation when there is one, and the policy refuses an inline script that one would inject.
        var ran = await console.EvaluateAsync<bool>("""
            async () => {
              window.injected = false;
              const script = document.createElement('script');
              script.textContent = 'window.injected = true';
              document.body.appendChild(script);
              await new Promise(resolve => setTimeout(resolve, 500));
              return window.injected;
            }
            """);
        Assert.False(ran, "an injected inline script ran");
        await UserPortalTests.WaitForAsync(() => violations.Any(v => v.Contains("script-src", StringComparison.Ordinal)), "the injected script's violation to be reported");
    }

    /// <summary>The headers of a hardened answer, whatever its status.</summary>
    private static void AssertHardened(HttpResponseMessage response, string path)
    {
        var policy = string.Join(";", response.Headers.TryGetValues("Content-Security-Policy", out var values) ? values : []);
        var directives = policy.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .ToDictionary(d => d.Split(' ')[0], d => d.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..]);
        Assert.True(directives.TryGetValue("frame-ancestors", out var ancestors) && ancestors.SequenceEqual(["'none'"]), $"{path}: frame-ancestors 'none' in '{policy}'");
        Assert.True(directives.TryGetValue("script-src", out var scripts) && scripts.SequenceEqual(["'self'"]), $"{path}: script-src 'self' only in '{policy}'");
        Assert.True(directives.TryGetValue("object-src", out var objects) && objects.SequenceEqual(["'none'"]), $"{path}: object-src 'none' in '{policy}'");
        Assert.DoesNotContain("unsafe-eval", policy, StringComparison.Ordinal);
        Assert.Equal("nosniff", string.Join(",", response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("no-referrer", string.Join(",", response.Headers.GetValues("Referrer-Policy")));
        Assert.Equal("DENY", string.Join(",", response.Headers.GetValues("X-Frame-Options")));
    }

    /// <summary>A tenant whose user Ada has a running Cloud PC on the simulated hosts, made through the API.</summary>
    private static async Task<(string Domain, Guid PcId)> ProvisionAsync(StratusProcess stratus)
    {
        var (domain, group) = await UserPortalTests.CreateTenantAsync(stratus);
        using var admin = await stratus.SignedInClientAsync($"admin@{domain}", UserPortalTests.AdminPassword);
        var policy = await UserPortalTests.IdAsync(await admin.PostAsJsonAsync("/api/v1/provisioningPolicies",
            new { displayName = "Desk", imageId = TinyImageFolder.ImageId, regionNames = new[] { "local-1" } }));
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync($"/api/v1/provisioningPolicies/{policy}/assign",
            new { assignments = new[] { new { target = new { groupId = group, servicePlanId = Guid.Parse(UserPortalTests.SmallPlan) } } } })).StatusCode);
        var users = await admin.GetFromJsonAsync<JsonElement>("/api/v1/users");
        var ada = users.GetProperty("value").EnumerateArray().Single(u => u.GetProperty("userPrincipalName").GetString() == $"ada@{domain}").GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync($"/api/v1/users/{ada}/assignLicense",
            new { addLicenses = new[] { new { skuId = Guid.Parse(UserPortalTests.SmallPlan) } }, removeLicenses = Array.Empty<Guid>() })).StatusCode);
        using var adaClient = await stratus.SignedInClientAsync($"ada@{domain}", "ada-password-123");
        var deadline = TimeProvider.System.GetUtcNow() + TimeSpan.FromMinutes(3);
        while (true)
        {
            var pcs = (await adaClient.GetFromJsonAsync<JsonElement>("/api/v1/me/cloudPCs")).GetProperty("value");
            if (pcs.GetArrayLength() == 1 && pcs[0].GetProperty("status").GetString() == "provisioned" && pcs[0].GetProperty("powerState").GetString() == "running")
            {
                return (domain, pcs[0].GetProperty("id").GetGuid());
            }

            Assert.True(TimeProvider.System.GetUtcNow() < deadline, $"Ada's Cloud PC was not provisioned and running within 3 minutes: {pcs}");
            await Task.Delay(500);
        }
    }
}
