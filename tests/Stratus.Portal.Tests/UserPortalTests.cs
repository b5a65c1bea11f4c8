using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Stratus.Testing;

namespace Stratus.Portal.Tests;

/// <summary>
/// The end-user portal in Debian's chromium against a real all-in-one with a real QEMU Cloud PC: sign in, the
/// Cloud PC's card, its console in the browser, a command typed there, and the refusals. Every page is saved as a
/// screenshot under the test output's screenshots folder, to be looked at.
/// </summary>
public sealed class UserPortalTests
{
    internal const string SmallPlan = "5c1a0000-0000-4000-8000-000000010108";
    internal const string AdminPassword = "tenant-admin-pass-1";

    [Fact]
    public async Task An_admin_gives_a_user_a_cloud_pc_in_the_admin_portal_and_the_user_connects_and_types_a_command_that_runs_in_the_vm()
    {
        using var data = new TempFolder();
        await TinyImageFolder.InstallIntoAsync(data.Path);
        try
        {
            await using var stratus = await StratusProcess.StartAsync(["up"], data.Path);
            var (domain, groupId) = await CreateTenantAsync(stratus);

            using var playwright = await Chromium.StartPlaywrightAsync();
            await using var browser = await Chromium.LaunchAsync(playwright);

            // The tenant's admin, in the admin portal: a policy for the group with the small plan, and Ada's license.
            var admin = await Chromium.NewPageAsync(browser, stratus, 1366, 850);
            await Chromium.SignInToAdminAsync(admin, $"admin@{domain}", AdminPassword);
            await admin.GotoAsync("/admin/policies");
            await admin.ClickAsync("#new-policy");
            await admin.FillAsync("#policy-name input", "Design");
            await admin.ClickAsync("#policy-region");
            await admin.ClickAsync("#policy-region fluent-option[value='local-1']");
            await admin.ClickAsync("#create-policy");
            var policyCard = admin.Locator("[data-testid=policy][data-name='Design']");
            await policyCard.Locator("[data-testid=assign-group]").ClickAsync();
            await policyCard.Locator($"[data-testid=assign-group] fluent-option[value='{groupId}']").ClickAsync();
            await policyCard.Locator("[data-testid=assign-plan]").ClickAsync();
            await policyCard.Locator($"[data-testid=assign-plan] fluent-option[value='{SmallPlan}']").ClickAsync();
            await policyCard.Locator("[data-testid=assign]").ClickAsync();
            await Assertions.Expect(policyCard).ToContainTextAsync("Designers with Cloud PC 1 vCPU/1 GB/8 GB");
            await GiveLicenseInAdminPortalAsync(admin, $"ada@{domain}");
            await admin.GotoAsync("/admin/cloudpcs");
            await Assertions.Expect(admin.Locator(".cloudpc-status [data-status=provisioned]")).ToHaveCountAsync(1, new() { Timeout = 240_000 });
            await Chromium.ScreenshotAsync(admin, "09-admin-cloud-pc-provisioned", fullPage: true);
            // Pages done with are closed: each open page is a renderer on the same two cores as the VM under TCG.
            await admin.CloseAsync();

            var context = await Chromium.NewContextAsync(browser, stratus);
            var violations = await Chromium.ListenForCspViolationsAsync(context);
            var page = await context.NewPageAsync();

            await page.GotoAsync("/");
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
            await Chromium.ScreenshotAsync(page, "01-sign-in");

            await page.FillAsync("#username", $"ada@{domain}");
            await page.FillAsync("#password", "wrong-password-1");
            await page.ClickAsync("button[type=submit]");
            await Assertions.Expect(page.Locator("#signin-error")).ToContainTextAsync("user name or password");
            await Chromium.ScreenshotAsync(page, "02-sign-in-refused");

            await page.FillAsync("#password", "ada-password-123");
            await page.ClickAsync("button[type=submit]");
            var card = page.Locator(".card");
            await Assertions.Expect(card.Locator(".status")).ToHaveTextAsync("Ready", new() { Timeout = 180_000 });
            await Assertions.Expect(card.Locator(".power")).ToHaveTextAsync("Running");
            await Assertions.Expect(card.Locator(".connect")).ToBeEnabledAsync();
            await Chromium.ScreenshotAsync(page, "03-my-cloud-pcs");

            await page.SetViewportSizeAsync(390, 844);
            await Chromium.ScreenshotAsync(page, "04-my-cloud-pcs-phone", fullPage: true);
            await page.SetViewportSizeAsync(1280, 800);

            // The first Connect meets a gateway that is away for a moment (503): the console page tries again by itself.
            var connectCalls = 0;
            await context.RouteAsync("**/api/v1/me/cloudPCs/*/connect", async route =>
            {
                if (Interlocked.Increment(ref connectCalls) == 1)
                {
                    await route.FulfillAsync(new()
                    {
                        Status = 503, ContentType = "application/problem+json",
                        Body = """{"type":"https://stratus.dev/problems/dependency-unavailable","status":503,"detail":"Cannot look up the Cloud PC right now; try again in a moment."}""",
                    });
                    return;
                }

                await route.ContinueAsync();
            });
            var console = await page.RunAndWaitForPopupAsync(() => card.Locator(".connect").ClickAsync());
            await ExpectConnectedAsync(console);
            Assert.Equal(2, connectCalls);
            await context.UnrouteAllAsync();
            var canvas = console.Locator("#screen canvas");
            await Assertions.Expect(canvas).ToBeVisibleAsync();

            // The VGA console has a shell: what is typed in the browser runs in the VM, whose serial log shows it.
            await canvas.ClickAsync();
            await console.WaitForTimeoutAsync(500);
            await TypeAsync(console.Keyboard, "echo typed-in-$((6*7)) > /dev/ttyS0");
            await console.Keyboard.PressAsync("Enter");
            await console.WaitForTimeoutAsync(2000);
            await Chromium.ScreenshotAsync(console, "05-console");
            // One VM: a VM that a retried step replaced (a slow placement or boot under load) is deleted soon after.
            await WaitForAsync(() => Directory.GetFiles(Path.Combine(data.Path, "hosts"), "serial.log", SearchOption.AllDirectories).Length == 1, "one VM folder");
            var serialLog = Directory.GetFiles(Path.Combine(data.Path, "hosts"), "serial.log", SearchOption.AllDirectories).Single();
            await WaitForAsync(() => ReadShared(serialLog).Contains("typed-in-42", StringComparison.Ordinal), "the typed command's output in the VM's serial log");
            // The portal and noVNC showed a real display under the portals' Content-Security-Policy, which it never had to bend.
            Assert.True(violations.IsEmpty, "the browser reported Content-Security-Policy violations:\n" + string.Join("\n", violations));
            await console.CloseAsync();

            // Another user's or an unknown Cloud PC: a clear message in the page, no display.
            var stranger = await context.NewPageAsync();
            await stranger.GotoAsync($"/console.html?id={Guid.NewGuid()}");
            await Assertions.Expect(stranger.Locator("#message")).ToContainTextAsync("does not exist or is not yours");
            await Assertions.Expect(stranger.Locator("#screen canvas")).ToHaveCountAsync(0);
            await Chromium.ScreenshotAsync(stranger, "06-console-refused");
            await stranger.CloseAsync();

            // A user without a Cloud PC sees an empty state that says what to expect.
            var bobContext = await Chromium.NewContextAsync(browser, stratus);
            var bob = await bobContext.NewPageAsync();
            await bob.GotoAsync("/");
            await bob.FillAsync("#username", $"bob@{domain}");
            await bob.FillAsync("#password", "bob-password-123");
            await bob.ClickAsync("button[type=submit]");
            await Assertions.Expect(bob.Locator("#empty")).ToContainTextAsync("You have no Cloud PC yet");
            await Chromium.ScreenshotAsync(bob, "07-no-cloud-pc");
        }
        finally
        {
            KillVms(data.Path);
        }
    }

    /// <summary>Waits for the console page to say Connected; if it does not, the failure says what the page says instead.</summary>
    private static async Task ExpectConnectedAsync(IPage console)
    {
        try
        {
            await Assertions.Expect(console.Locator("#state")).ToHaveTextAsync("Connected", new() { Timeout = 90_000 });
        }
        catch (PlaywrightException e)
        {
            var state = await console.Locator("#state").TextContentAsync();
            var message = await console.Locator("#message").TextContentAsync();
            await Chromium.ScreenshotAsync(console, "05-console-not-connected");
            throw new InvalidOperationException($"The console page did not connect within 90 s: it shows '{state}' and '{message}'.", e);
        }
    }

    /// <summary>On the admin portal's Users page: the user's Licenses, then the small plan assigned.</summary>
    private static async Task GiveLicenseInAdminPortalAsync(IPage admin, string userPrincipalName)
    {
        await admin.GotoAsync("/admin/users");
        var row = admin.Locator("[data-testid=users-grid] tr", new() { Has = admin.Locator("[data-testid=user-upn]", new() { HasTextString = userPrincipalName }) });
        await row.Locator("[data-testid=user-licenses]").ClickAsync();
        await admin.ClickAsync("#assign-plan");
        await admin.ClickAsync($"#assign-plan fluent-option[value='{SmallPlan}']");
        await admin.ClickAsync("[data-testid=license-assign]");
        await Assertions.Expect(admin.Locator("[data-testid=user-license]")).ToContainTextAsync("Cloud PC 1 vCPU/1 GB/8 GB");
        await Chromium.ScreenshotAsync(admin, "08-admin-license-given", fullPage: true);
    }

    /// <summary>A tenant with two seats of the small plan, Ada in the group Designers and Bob outside it, made through the API.</summary>
    internal static async Task<(string Domain, Guid GroupId)> CreateTenantAsync(StratusProcess stratus)
    {
        using var operatorClient = await stratus.OperatorClientAsync();
        var domain = $"p{Guid.NewGuid():N}"[..12] + ".test";
        var created = await operatorClient.PostAsJsonAsync("/api/v1/tenants", new { displayName = "Contoso", domain, admin = new { userName = $"admin@{domain}", password = AdminPassword } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var tenantId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tenant").GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.OK, (await operatorClient.PutAsJsonAsync($"/api/v1/tenants/{tenantId}/subscribedSkus/{SmallPlan}", new { prepaidUnits = 2 })).StatusCode);
        using var admin = await stratus.SignedInClientAsync($"admin@{domain}", AdminPassword);
        var ada = await IdAsync(await admin.PostAsJsonAsync("/api/v1/users", new { userPrincipalName = $"ada@{domain}", displayName = "Ada Lovelace", accountEnabled = true, passwordProfile = new { password = "ada-password-123" } }));
        await IdAsync(await admin.PostAsJsonAsync("/api/v1/users", new { userPrincipalName = $"bob@{domain}", displayName = "Bob", accountEnabled = true, passwordProfile = new { password = "bob-password-123" } }));
        var group = await IdAsync(await admin.PostAsJsonAsync("/api/v1/groups", new { displayName = "Designers" }));
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsJsonAsync($"/api/v1/groups/{group}/members", new { id = ada })).StatusCode);
        return (domain, group);
    }

    internal static async Task<Guid> IdAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    /// <summary>
    /// Types as a person does, Shift included: the console sends the keys' positions to the VM (QEMU's extended key
    /// events), so a "(" needs Shift held with the 9 key, which Playwright's TypeAsync does not do.
    /// </summary>
    private static async Task TypeAsync(IKeyboard keyboard, string text)
    {
        var shifted = new Dictionary<char, string> { ['$'] = "Digit4", ['('] = "Digit9", [')'] = "Digit0", ['*'] = "Digit8", ['>'] = "Period" };
        foreach (var ch in text)
        {
            if (shifted.TryGetValue(ch, out var key))
            {
                await keyboard.PressAsync($"Shift+{key}");
            }
            else if (char.IsAsciiLetterUpper(ch))
            {
                await keyboard.PressAsync($"Shift+Key{ch}");
            }
            else
            {
                await keyboard.TypeAsync(ch.ToString());
            }

            await Task.Delay(30);
        }
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    internal static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(60);
        while (!condition())
        {
            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                throw new TimeoutException($"Waited 60 s for {what}.");
            }

            await Task.Delay(250);
        }
    }

    private static void KillVms(string dataFolder)
    {
        var hosts = Path.Combine(dataFolder, "hosts");
        if (!Directory.Exists(hosts))
        {
            return;
        }

        foreach (var pidFile in Directory.GetFiles(hosts, "qemu.pid", SearchOption.AllDirectories))
        {
            if (int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
            {
                try
                {
                    using var process = System.Diagnostics.Process.GetProcessById(pid);
                    process.Kill();
                }
                catch (ArgumentException)
                {
                    // Already gone.
                }
            }
        }
    }
}
