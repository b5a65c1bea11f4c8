using Microsoft.Playwright;
using Stratus.Testing;

namespace Stratus.Portal.Tests;

/// <summary>Debian's chromium under Playwright, as every portal test drives it; never a downloaded browser.</summary>
internal static class Chromium
{
    public static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public static Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        Directory.CreateDirectory(Screenshots);
        // Playwright's 5 s default is too short for a Blazor page on two cores shared with QEMU and other tests;
        // the setting is process-wide, so it is made here, before any test's first expectation.
        Assertions.SetDefaultExpectTimeout(30_000);
        return playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    /// <summary>A page in a new context: its own cookies, so each page can be a different account.</summary>
    public static async Task<IPage> NewPageAsync(IBrowser browser, StratusProcess stratus, int width = 1280, int height = 800)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = stratus.BaseAddress.ToString(), ViewportSize = new() { Width = width, Height = height } });
        return await context.NewPageAsync();
    }

    /// <summary>Fills the admin portal's sign-in form and submits it; the caller checks what follows.</summary>
    public static async Task SubmitAdminSignInAsync(IPage page, string userName, string password)
    {
        await page.FillAsync("#userName input", userName);
        await page.FillAsync("#password input", password);
        await page.ClickAsync("button[type=submit]");
    }

    /// <summary>Signs in to the admin portal and waits until the portal shows the account.</summary>
    public static async Task SignInToAdminAsync(IPage page, string userName, string password)
    {
        await page.GotoAsync("/admin/signin");
        await SubmitAdminSignInAsync(page, userName, password);
        await page.WaitForURLAsync(url => !url.Contains("/admin/signin", StringComparison.Ordinal));
    }
}
