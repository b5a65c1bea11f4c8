using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Stratus.Testing;

namespace Stratus.Portal.Tests;

/// <summary>
/// The operator's Hosts page in chromium against a real all-in-one: a host, enrolled and reporting over the agent
/// protocol as `stratus host` does, keeps two VMs compute does not manage there. The operator, by keyboard alone
/// (Tab and Enter), adopts one and deletes the other after confirming it.
/// </summary>
public sealed class HostsPortalTests
{
    [Fact]
    public async Task The_operator_adopts_one_unmanaged_vm_and_deletes_another_with_the_keyboard_from_the_hosts_page()
    {
        using var data = new TempFolder();
        await using var stratus = await StratusProcess.StartAsync(["up", "--hosts", "none"], data.Path);
        using var operatorClient = await stratus.OperatorClientAsync();
        using var agent = await EnrollAsync(stratus, operatorClient, "kept-disks-host");
        var adopted = Guid.NewGuid();
        var deleted = Guid.NewGuid();
        var report = await agent.PostAsJsonAsync("/api/v1/agent/report", new
        {
            accelerator = "simulated", agentVersion = "test", vms = Array.Empty<object>(), operations = Array.Empty<object>(),
            unmanagedVms = new[] { adopted, deleted }.Select(id => new { id, state = "stopped", imageId = TinyImageFolder.ImageId, vCpuCount = 1, memoryMiB = 1024, diskGiB = 8 }),
        });
        Assert.Equal(HttpStatusCode.NoContent, report.StatusCode);

        using var playwright = await Chromium.StartPlaywrightAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await Chromium.NewPageAsync(browser, stratus, 1366, 850);
        await Chromium.SignInToAdminAsync(page, "operator", TestAccounts.OperatorPassword);
        await page.GotoAsync("/admin/hosts");
        var list = page.Locator("[data-testid=unmanaged-vms]");
        await Assertions.Expect(list.Locator("[data-testid=unmanaged-vm]")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("[data-testid=unmanaged-count]")).ToHaveTextAsync("2 unmanaged");
        await Assertions.Expect(list).ToContainTextAsync("Not known: adopting makes it again from what the host reports");
        await Chromium.ScreenshotAsync(page, "70-hosts-unmanaged-vms", fullPage: true);

        // Adopt: Tab to the VM's button, Enter. The VM is compute's again, on the host that has it.
        await TabToAsync(page, $"document.activeElement?.id === 'adopt-{adopted}'", $"the Adopt button of {adopted}");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(list.Locator($"[data-vm='{adopted}']")).ToHaveCountAsync(0);
        var vm = await operatorClient.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{adopted}");
        Assert.Equal("kept-disks-host", (await operatorClient.GetFromJsonAsync<JsonElement>($"/api/v1/hosts/{vm.GetProperty("hostId").GetGuid()}")).GetProperty("name").GetString());

        // Delete asks first, naming the VM and its disk; Enter on the dialog's Delete confirms.
        await TabToAsync(page, $"document.activeElement?.id === 'delete-{deleted}'", $"the Delete button of {deleted}");
        await page.Keyboard.PressAsync("Enter");
        var dialog = page.Locator("fluent-dialog");
        await Assertions.Expect(dialog).ToContainTextAsync($"Delete VM {deleted} and its 8 GiB disk on kept-disks-host?");
        await Chromium.ScreenshotAsync(page, "71-delete-unmanaged-vm", fullPage: true);
        await TabToAsync(page, "document.activeElement?.closest('fluent-dialog') != null && document.activeElement.textContent.trim() === 'Delete'", "the dialog's Delete button");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("[data-testid=unmanaged-vms]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-testid=unmanaged-count]")).ToHaveCountAsync(0);

        // The host is told to delete it, and only it.
        var desired = await agent.GetFromJsonAsync<JsonElement>("/api/v1/agent/desiredState");
        Assert.Equal([deleted], desired.GetProperty("deletedVmIds").EnumerateArray().Select(e => e.GetGuid()));
        Assert.Equal([adopted], desired.GetProperty("vms").EnumerateArray().Select(e => e.GetProperty("id").GetGuid()));
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

    /// <summary>Enrolls a host as its agent does; the client speaks for it.</summary>
    private static async Task<HttpClient> EnrollAsync(StratusProcess stratus, HttpClient operatorClient, string name)
    {
        var token = await operatorClient.PostAsJsonAsync("/api/v1/hosts/enrollmentTokens", new { region = "local-1" });
        Assert.Equal(HttpStatusCode.Created, token.StatusCode);
        var enroll = await stratus.Http.PostAsJsonAsync("/api/v1/agent/enroll", new
        {
            enrollmentToken = (await token.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString(),
            name, zone = "local-1a", driver = "simulated", vCpus = 4, memoryMiB = 8192, diskGiB = 100, agentVersion = "test",
        });
        Assert.Equal(HttpStatusCode.Created, enroll.StatusCode);
        var client = new HttpClient { BaseAddress = stratus.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("X-Stratus-Agent-Token", (await enroll.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("agentToken").GetString());
        return client;
    }
}
