using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Stratus.Testing;

namespace Stratus.Portal.Tests;

/// <summary>
/// The Network connections page in chromium against a real all-in-one with the real network service (issue 20), by
/// keyboard alone (Tab, typing, Enter). The region has no host, so every run ends with the network service's own
/// verdict (hostsReporting failed: no host reported) within the short run timeout given here. The all-in-one hosts
/// provisioning too: a real provisioning policy naming the connection is what keeps it from a delete, and the move of
/// its Cloud PCs is provisioning's own answer (none here: no host, so no Cloud PC).
/// </summary>
public sealed class NetworkConnectionsPortalTests
{
    private const string AdminPassword = "tenant-admin-pass-1";

    [Fact]
    public async Task A_tenant_admin_creates_checks_and_deletes_a_network_connection_with_the_keyboard()
    {
        using var data = new TempFolder();
        // The gallery image a provisioning policy names must exist.
        await TinyImageFolder.InstallIntoAsync(data.Path);
        var environment = new Dictionary<string, string?>
        {
            // A run waits for every host of the region until this deadline; the region has none, so each run ends at it.
            ["Stratus__Network__HealthCheckRunTimeout"] = "00:00:03",
            ["Stratus__Network__SchedulerInterval"] = "00:00:01",
        };
        await using var stratus = await StratusProcess.StartAsync(["up", "--hosts", "none"], data.Path, environment);
        var (domain, admin) = await TenantAsync(stratus);

        using var playwright = await Chromium.StartPlaywrightAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await Chromium.NewPageAsync(browser, stratus, 1366, 900);
        await Chromium.SignInToAdminAsync(page, $"admin@{domain}", AdminPassword);

        // From the navigation to the empty page.
        await TabToAsync(page, "document.activeElement?.getAttribute('href') === '/admin/networks'", "the Network connections link");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByText("No network connections yet")).ToBeVisibleAsync();
        await Chromium.ScreenshotAsync(page, "80-networks-empty", fullPage: true);

        // A form with a malformed subnet, a gateway, an interface name and a DNS server that are not what they must be:
        // each refusal beside its field, in the portal's words, and nothing created.
        await TabToAsync(page, "document.activeElement?.id === 'new-connection'", "the New connection button");
        await page.Keyboard.PressAsync("Enter");
        await TypeAsync(page, "#connection-name", "Corp A");
        await TypeAsync(page, "#connection-subnet", "10.20.0.0/33");
        await TypeAsync(page, "#connection-gateway", "10.30.0.1");
        await TypeAsync(page, "#connection-interface", "eth 1");
        await TypeAsync(page, "#connection-dns", "10.20.0.53, resolver");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("[data-field=subnet]")).ToContainTextAsync("10.20.0.0/33");
        await Assertions.Expect(page.Locator("[data-field='uplink.interface']")).ToContainTextAsync("not a Linux interface name");
        await Assertions.Expect(page.Locator("[data-field=dnsServers]")).ToContainTextAsync("'resolver' is not an IPv4 address");
        await Assertions.Expect(page.GetByText("fields named in 'errors'")).ToHaveCountAsync(0);
        await Chromium.ScreenshotAsync(page, "81-network-refused", fullPage: true);
        Assert.Equal(0, (await admin.GetFromJsonAsync<JsonElement>("/api/v1/onPremisesConnections")).GetProperty("totalCount").GetInt32());

        // Corrected and sent with Enter: the details page, where the checks start at once and end within the run timeout.
        await RetypeAsync(page, "#connection-subnet", "10.20.0.0/24");
        await RetypeAsync(page, "#connection-gateway", "10.20.0.1");
        await RetypeAsync(page, "#connection-interface", "eth1");
        await RetypeAsync(page, "#connection-dns", "10.20.0.53");
        await TypeAsync(page, "#connection-search", "corp.example");
        await TypeAsync(page, "#connection-names", "intranet.corp.example");
        await TypeAsync(page, "#connection-endpoints", "intranet.corp.example:443");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Corp A" })).ToBeVisibleAsync();
        var created = (await admin.GetFromJsonAsync<JsonElement>("/api/v1/onPremisesConnections")).GetProperty("value")[0];
        var id = created.GetProperty("id").GetGuid();
        Assert.Equal(["intranet.corp.example:443"], created.GetProperty("requiredEndpoints").EnumerateArray().Select(e => e.GetString()));

        var hostsReporting = page.Locator("[data-testid=latest-checks] [data-testid=check][data-name=hostsReporting]");
        await Assertions.Expect(hostsReporting).ToHaveAttributeAsync("data-status", "failed", new() { Timeout = 60_000 });
        // No agent here runs the checks: the network service's own verdict, with what to do.
        var latest = page.Locator("[data-testid=latest-checks]");
        await Assertions.Expect(hostsReporting.Locator("xpath=ancestor::tr//*[@data-testid='check-error-type']"))
            .ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^(noHostInRegion|hostDidNotReport)$"));
        await Assertions.Expect(hostsReporting.Locator("xpath=ancestor::tr//*[@data-testid='check-action']")).Not.ToBeEmptyAsync();
        await Assertions.Expect(latest.Locator("[data-testid=check][data-name=addressSpace]")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("[data-testid=connection-summary] [data-testid=connection-status]")).ToContainTextAsync("Failed");
        await Assertions.Expect(page.Locator("[data-testid=run]")).ToHaveCountAsync(1);
        await Chromium.ScreenshotAsync(page, "82-network-details-checks", fullPage: true);

        // Run checks now: a second run in the history, newest first; Enter on a run opens its checks.
        await TabToAsync(page, "document.activeElement?.id === 'run-checks'", "Run checks now");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("[data-testid=run]")).ToHaveCountAsync(2, new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("[data-testid=run]").First).ToHaveAttributeAsync("data-status", "failed", new() { Timeout = 60_000 });
        await TabToAsync(page, "document.activeElement?.tagName === 'SUMMARY'", "the newest run");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("[data-testid=run]").First.Locator("[data-testid=check][data-name=hostsReporting]")).ToBeVisibleAsync();
        await Chromium.ScreenshotAsync(page, "83-network-run-history", fullPage: true);

        // Named by a provisioning policy (made through the API): the delete is refused with the API's own words, naming it.
        var policy = await UserPortalTests.IdAsync(await admin.PostAsJsonAsync("/api/v1/provisioningPolicies",
            new { displayName = "Branch PCs", imageId = TinyImageFolder.ImageId, networkConnectionIds = new[] { id } }));
        await Assertions.Expect(page.Locator("[data-testid=connection-summary] [data-testid=connection-in-use]")).ToContainTextAsync("Yes");
        await TabToAsync(page, "document.activeElement?.id === 'delete-connection'", "Delete");
        await page.Keyboard.PressAsync("Enter");
        await ConfirmAsync(page, "Delete");
        var refusal = page.Locator("[data-testid=action-error]");
        await Assertions.Expect(refusal).ToContainTextAsync("provisioning policy 'Branch PCs' and 0 Cloud PCs");
        await ScreenshotSettledAsync(page, "84-network-delete-refused");
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/v1/onPremisesConnections/{id}")).StatusCode);

        // The move of its Cloud PCs to the next healthy connection, after a confirmation.
        await TabToAsync(page, "document.activeElement?.id === 'move-cloud-pcs'", "Move Cloud PCs");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("fluent-dialog")).ToContainTextAsync("one at a time, to the next healthy connection");
        await Chromium.ScreenshotAsync(page, "85-network-move-confirm", fullPage: true);
        await ConfirmAsync(page, "Move Cloud PCs");
        // Provisioning accepted the move of the Cloud PCs on it, which here are none: the page says so.
        await Assertions.Expect(page.Locator("[data-testid=move-result]")).ToContainTextAsync("No Cloud PC is on Corp A: nothing to move.");
        await Assertions.Expect(page.Locator("[data-testid=action-error]")).ToHaveCountAsync(0);
        await ScreenshotSettledAsync(page, "85-network-move-result");
        // The same request through the API: 202 with the count of Cloud PCs to move.
        using (var moved = await admin.PostAsJsonAsync($"/api/v1/onPremisesConnections/{id}/moveCloudPcs", new { }))
        {
            Assert.True(moved.StatusCode == HttpStatusCode.Accepted, await moved.Content.ReadAsStringAsync());
            var move = await moved.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(id, move.GetProperty("connectionId").GetGuid());
            Assert.Equal(0, move.GetProperty("cloudPcCount").GetInt32());
        }

        // The list: name, region, subnet, uplink, status, in use and the last check.
        await TabToAsync(page, "document.activeElement?.classList.contains('stratus-back') === true", "the way back to the list");
        await page.Keyboard.PressAsync("Enter");
        var row = page.Locator("[data-testid=connection][data-name='Corp A']");
        await Assertions.Expect(row).ToHaveAttributeAsync("data-status", "failed");
        var grid = page.Locator("[data-testid=connections]");
        await Assertions.Expect(grid).ToContainTextAsync("local-1");
        await Assertions.Expect(grid).ToContainTextAsync("10.20.0.0/24");
        await Assertions.Expect(grid).ToContainTextAsync("eth1");
        await Assertions.Expect(grid.Locator("[data-testid=connection-in-use]")).ToHaveTextAsync("Yes");
        await Assertions.Expect(grid.Locator("[data-testid=connection-last-check]")).ToContainTextAsync("UTC");
        await Chromium.ScreenshotAsync(page, "86-networks-list", fullPage: true);

        // Once the policy is deleted nothing uses it: the delete goes through and the list is empty again.
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/provisioningPolicies/{policy}")).StatusCode);
        await TabToAsync(page, "document.activeElement?.getAttribute('data-testid') === 'connection-link'", "the connection's link");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("[data-testid=connection-summary] [data-testid=connection-in-use]")).ToContainTextAsync("No");
        await TabToAsync(page, "document.activeElement?.id === 'delete-connection'", "Delete");
        await page.Keyboard.PressAsync("Enter");
        await ConfirmAsync(page, "Delete");
        await Assertions.Expect(page.GetByText("No network connections yet")).ToBeVisibleAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/v1/onPremisesConnections/{id}")).StatusCode);
    }

    private static async Task<(string Domain, HttpClient Admin)> TenantAsync(StratusProcess stratus)
    {
        using var operatorClient = await stratus.OperatorClientAsync();
        var domain = $"net{Guid.NewGuid():N}"[..12] + ".test";
        var created = await operatorClient.PostAsJsonAsync("/api/v1/tenants", new { displayName = "Corp", domain, admin = new { userName = $"admin@{domain}", password = AdminPassword } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (domain, await stratus.SignedInClientAsync($"admin@{domain}", AdminPassword));
    }

    /// <summary>
    /// A full-page screenshot once the page's finite animations have ended (at most 10 s): a message bar fades in, and
    /// one taken at once shows it half transparent.
    /// </summary>
    private static async Task ScreenshotSettledAsync(IPage page, string name)
    {
        await page.EvaluateAsync("""
            () => Promise.race([
              Promise.all(document.getAnimations().filter(a => a.effect?.getComputedTiming().iterations !== Infinity).map(a => a.finished.catch(() => null))),
              new Promise(resolve => setTimeout(resolve, 10000))])
            """);
        await Chromium.ScreenshotAsync(page, name, fullPage: true);
    }

    /// <summary>Tabs to the open dialog's button with this text and presses Enter on it.</summary>
    private static async Task ConfirmAsync(IPage page, string button)
    {
        await Assertions.Expect(page.Locator("fluent-dialog")).ToContainTextAsync(button);
        await TabToAsync(page, $"document.activeElement?.closest('fluent-dialog') != null && document.activeElement.textContent.trim() === '{button}'", $"the dialog's {button} button");
        await page.Keyboard.PressAsync("Enter");
    }

    /// <summary>Focuses a Fluent field's own input and types into it key by key.</summary>
    private static async Task TypeAsync(IPage page, string selector, string text)
    {
        await page.Locator($"{selector} input").First.FocusAsync();
        await page.Keyboard.TypeAsync(text);
    }

    /// <summary>Selects what a field holds and types over it.</summary>
    private static async Task RetypeAsync(IPage page, string selector, string text)
    {
        await page.Locator($"{selector} input").First.FocusAsync();
        await page.Keyboard.PressAsync("Control+A");
        await page.Keyboard.TypeAsync(text);
    }

    /// <summary>Presses Tab, as a person does, until the focused element is the one <paramref name="focused"/> (a script) describes.</summary>
    private static async Task TabToAsync(IPage page, string focused, string what)
    {
        for (var presses = 0; presses < 80; presses++)
        {
            if (await page.EvaluateAsync<bool>($"() => {focused}"))
            {
                return;
            }

            await page.Keyboard.PressAsync("Tab");
        }

        Assert.Fail($"80 presses of Tab never reached {what}; focus is on {await page.EvaluateAsync<string>("() => document.activeElement?.outerHTML.slice(0, 200) ?? 'nothing'")}");
    }
}
