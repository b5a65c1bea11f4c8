using Microsoft.Playwright;
using Stratus.Testing;

namespace Stratus.Portal.Tests;

/// <summary>Debian's chromium under Playwright, as every portal test drives it; never a downloaded browser.</summary>
internal static class Chromium
{
    public static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");

    /// <summary>Starts Playwright's driver, which every test then launches chromium with.</summary>
    public static Task<IPlaywright> StartPlaywrightAsync()
    {
        // The portal uses the machine's fonts only, so a screenshot need not wait on document.fonts.ready: that wait
        // is a script run in the page, and it timed out after 30 s on a CI machine busy with QEMU VMs. The driver
        // reads this from its environment, which it inherits from this process.
        Environment.SetEnvironmentVariable("PW_TEST_SCREENSHOT_NO_FONTS_READY", "1");
        return Playwright.CreateAsync();
    }

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
            // No GPU process to feed under TCG load (frames are drawn in software either way), no /dev/shm limit
            // to meet in a container, and nothing that dials out of this machine's closed network.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-quic",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    /// <summary>
    /// A new browser context (its own cookies, so each can be a different account) whose clicks, navigations and
    /// screenshots wait up to 90 s instead of 30: on CI a page load once took over 30 s while QEMU VMs of other
    /// tests booted on the same two cores. Expectations that wait for the service itself say their own timeouts.
    /// </summary>
    public static async Task<IBrowserContext> NewContextAsync(IBrowser browser, StratusProcess stratus, int width = 1280, int height = 800)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = stratus.BaseAddress.ToString(), ViewportSize = new() { Width = width, Height = height } });
        context.SetDefaultTimeout(90_000);
        context.SetDefaultNavigationTimeout(90_000);
        return context;
    }

    /// <summary>What a page reports of a Content-Security-Policy violation, through the listener <see cref="ListenForCspViolationsAsync"/> adds.</summary>
    public const string CspViolationPrefix = "CSP violation:";

    /// <summary>
    /// Collects every Content-Security-Policy violation in the context's pages: a securitypolicyviolation listener
    /// added before any of a page's own scripts run (it reports through the console), and chromium's own console lines.
    /// </summary>
    public static async Task<System.Collections.Concurrent.ConcurrentQueue<string>> ListenForCspViolationsAsync(IBrowserContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var violations = new System.Collections.Concurrent.ConcurrentQueue<string>();
        context.Console += (_, message) =>
        {
            if (message.Text.Contains(CspViolationPrefix, StringComparison.Ordinal) || message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                violations.Enqueue($"{message.Text} (on {message.Page?.Url})");
            }
        };
        await context.AddInitScriptAsync($$"""
            document.addEventListener('securitypolicyviolation', e =>
              console.error('{{CspViolationPrefix}} ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber));
            """);
        return violations;
    }

    /// <summary>A page in a new context (see <see cref="NewContextAsync"/>).</summary>
    public static async Task<IPage> NewPageAsync(IBrowser browser, StratusProcess stratus, int width = 1280, int height = 800)
    {
        var context = await NewContextAsync(browser, stratus, width, height);
        return await context.NewPageAsync();
    }

    /// <summary>
    /// Saves a screenshot of the page as SCREENSHOTS/NAME.png. A capture that stalls is asked again, up to three
    /// times 30 s, after waking the page's compositor: CI twice lost the portal run to one capture that hung (30 s,
    /// then 90 s) while the page itself had just answered; chromium's capture waits for a new frame of a compositor
    /// that, on a starved machine, may have stopped producing them. The page is brought to the front and a short
    /// screencast asks it for frames again; a page that still gives none fails with every try's error.
    /// </summary>
    public static async Task ScreenshotAsync(IPage page, string name, bool fullPage = false)
    {
        const int tries = 3;
        var errors = new List<string>();
        for (var attempt = 1; attempt <= tries; attempt++)
        {
            try
            {
                await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, name + ".png"), FullPage = fullPage, Timeout = 30_000 });
                if (errors.Count > 0)
                {
                    Console.Error.WriteLine($"Screenshot {name} taken at try {attempt} of {tries}, after: {string.Join(" | ", errors)}");
                }

                return;
            }
            catch (TimeoutException e)
            {
                errors.Add($"try {attempt}: {e.Message.Split('\n')[0]}");
                if (attempt < tries)
                {
                    await WakeCompositorAsync(page);
                }
            }
        }

        throw new TimeoutException($"The page {page.Url} gave no screenshot '{name}' in {tries} tries of 30 s: {string.Join(" | ", errors)}");
    }

    private static async Task WakeCompositorAsync(IPage page)
    {
        // Best effort, each step bounded: a renderer that does not answer these is reported by the next try.
        try
        {
            await page.BringToFrontAsync().WaitAsync(TimeSpan.FromSeconds(10));
            var session = await page.Context.NewCDPSessionAsync(page).WaitAsync(TimeSpan.FromSeconds(10));
            await session.SendAsync("Page.startScreencast", new() { ["format"] = "jpeg", ["quality"] = 10, ["everyNthFrame"] = 1 }).WaitAsync(TimeSpan.FromSeconds(10));
            await Task.Delay(500);
            await session.SendAsync("Page.stopScreencast").WaitAsync(TimeSpan.FromSeconds(10));
            await session.DetachAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is TimeoutException or PlaywrightException)
        {
            Console.Error.WriteLine($"Waking the compositor of {page.Url} failed: {e.Message.Split('\n')[0]}");
        }
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
