using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Provisioning;

/// <summary>
/// Issue 23 item 5: a custom image of another Linux (here a small SYSLINUX disk, as a Debian cloud image would be),
/// uploaded through the API, gives a Cloud PC that boots from its disk on real QEMU, is reported ready by the rule for
/// images without the STRATUS-READY marker (a login prompt on the serial console), and shows its display over the
/// gateway's console WebSocket.
/// </summary>
public sealed class CustomImageOnQemuTests
{
    private const string SmallPlan = "5c1a0000-0000-4000-8000-000000010108";
    private const string Password = "tenant-admin-pass-1";

    [Fact]
    public async Task An_uploaded_disk_image_boots_from_its_disk_is_ready_at_its_login_prompt_and_its_display_opens_over_the_gateway()
    {
        using var data = new TempFolder();
        var disk = await BootableDiskFolder.GetAsync();
        try
        {
            // No gallery image in this data folder: the custom image is all there is.
            await using var stratus = await StratusProcess.StartAsync(["up"], data.Path);
            using var operatorClient = await stratus.OperatorClientAsync();
            var domain = $"c{Guid.NewGuid():N}"[..12] + ".test";
            var tenant = await CreatedAsync(await operatorClient.PostAsJsonAsync("/api/v1/tenants",
                new { displayName = "Contoso", domain, admin = new { userName = $"admin@{domain}", password = Password } }), "tenant");
            Assert.Equal(HttpStatusCode.OK, (await operatorClient.PutAsJsonAsync($"/api/v1/tenants/{tenant}/subscribedSkus/{SmallPlan}", new { prepaidUnits = 1 })).StatusCode);
            using var admin = await stratus.SignedInClientAsync($"admin@{domain}", Password);

            // The upload, as the README shows it: create the image, PUT the disk, wait until it is ready.
            var image = await CreatedAsync(await admin.PostAsJsonAsync("/api/v1/deviceImages", new { displayName = "Custom Linux", version = "1.0.0" }));
            await using (var file = File.OpenRead(disk))
            {
                using var content = new StreamContent(file);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                var upload = await admin.PutAsync($"/api/v1/deviceImages/{image}/content", content);
                Assert.True(upload.StatusCode == HttpStatusCode.Accepted, await upload.Content.ReadAsStringAsync());
            }

            var imported = await Eventually.MatchesAsync(() => admin.GetFromJsonAsync<JsonElement>($"/api/v1/deviceImages/{image}"),
                i => i.GetProperty("status").GetString() != "pending", "the import to decide", TimeSpan.FromMinutes(3));
            Assert.True(imported.GetProperty("status").GetString() == "ready", imported.ToString());

            // A user whose group a policy on the custom image gives the plan, and the user's license.
            var ada = await CreatedAsync(await admin.PostAsJsonAsync("/api/v1/users",
                new { userPrincipalName = $"ada@{domain}", displayName = "Ada", accountEnabled = true, passwordProfile = new { password = "ada-password-123" } }));
            var group = await CreatedAsync(await admin.PostAsJsonAsync("/api/v1/groups", new { displayName = "Custom desk" }));
            Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsJsonAsync($"/api/v1/groups/{group}/members", new { id = ada })).StatusCode);
            var policy = await CreatedAsync(await admin.PostAsJsonAsync("/api/v1/provisioningPolicies",
                new { displayName = "Custom Linux", imageId = image.ToString(), imageType = "custom", regionNames = new[] { "local-1" } }));
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync($"/api/v1/provisioningPolicies/{policy}/assign",
                new { assignments = new[] { new { target = new { groupId = group, servicePlanId = Guid.Parse(SmallPlan) } } } })).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync($"/api/v1/users/{ada}/assignLicense",
                new { addLicenses = new[] { new { skuId = Guid.Parse(SmallPlan) } }, removeLicenses = Array.Empty<Guid>() })).StatusCode);
            using var user = await stratus.SignedInClientAsync($"ada@{domain}", "ada-password-123");
            var pcs = await Eventually.MatchesAsync(async () => (await user.GetFromJsonAsync<JsonElement>("/api/v1/me/cloudPCs")).GetProperty("value"),
                v => v.GetArrayLength() == 1 && v[0].GetProperty("status").GetString() is "provisioned" or "failed",
                "Ada's Cloud PC to be provisioned", TimeSpan.FromMinutes(5));
            Assert.True(pcs[0].GetProperty("status").GetString() == "provisioned", pcs[0].ToString());
            Assert.Equal(("running", image.ToString()), (pcs[0].GetProperty("powerState").GetString(), pcs[0].GetProperty("imageId").GetString()));

            // Ready by the rule for images without the marker: its login prompt was on the serial console, and
            // nothing else could have made it ready (it never prints STRATUS-READY; QEMU was not given a kernel).
            var vm = Assert.Single((await operatorClient.GetFromJsonAsync<JsonElement>("/api/v1/vms")).EnumerateArray());
            Assert.True(vm.GetProperty("ready").GetBoolean());
            var serialLog = await File.ReadAllTextAsync(Path.Combine(Assert.Single(QemuProcesses.VmFolders(data.Path)), "serial.log"));
            Assert.Contains(BootableDiskFolder.LoginPrompt, serialLog, StringComparison.Ordinal);
            Assert.DoesNotContain("STRATUS-READY", serialLog, StringComparison.Ordinal);
            var qemu = Assert.Single(QemuProcesses.Running(data.Path));
            Assert.DoesNotContain("-kernel", await File.ReadAllTextAsync($"/proc/{qemu}/cmdline"), StringComparison.Ordinal);

            // Ada opens its display as the browser does (a ticket, then RFB over the gateway's WebSocket): the screen
            // shows the guest's text console, not a blank frame.
            var connect = await user.PostAsync($"/api/v1/me/cloudPCs/{pcs[0].GetProperty("id").GetGuid()}/connect", null);
            Assert.True(connect.StatusCode == HttpStatusCode.OK, await connect.Content.ReadAsStringAsync());
            var ticket = await connect.Content.ReadFromJsonAsync<JsonElement>();
            await using var display = await VncDisplay.OpenAsync(Gateway.ConsoleTicket.From(stratus, ticket));
            Assert.True(display.Width >= 640 && display.Height >= 400, $"a {display.Width}x{display.Height} screen");
            var frame = await display.ReadFrameAsync();
            var background = frame.GroupBy(p => p).MaxBy(g => g.Count())!.Key;
            Assert.True(frame.Count(p => p != background) > 1000, "the display shows text (its login prompt), not an empty screen");
        }
        finally
        {
            QemuProcesses.KillAll(data.Path);
        }
    }

    private static async Task<Guid> CreatedAsync(HttpResponseMessage response, string? property = null)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (property is null ? body : body.GetProperty(property)).GetProperty("id").GetGuid();
    }
}
