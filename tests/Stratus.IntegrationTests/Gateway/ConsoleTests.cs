using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Gateway;

/// <summary>The gateway carries a real QEMU VM's display to its own user, once per ticket, and to nobody else.</summary>
public sealed class ConsoleTests
{
    private const string SmallPlan = "5c1a0000-0000-4000-8000-000000010108";

    [Fact]
    public async Task The_user_opens_the_vnc_display_of_their_cloud_pc_with_a_single_use_ticket_and_nobody_else_can()
    {
        using var data = new TempFolder();
        await TinyImageFolder.InstallIntoAsync(data.Path);
        try
        {
            await using var stratus = await StratusProcess.StartAsync(["up"], data.Path);
            using var operatorClient = await stratus.OperatorClientAsync();
            var domain = $"g{Guid.NewGuid():N}"[..12] + ".test";
            const string password = "tenant-admin-pass-1";
            var created = await operatorClient.PostAsJsonAsync("/api/v1/tenants", new { displayName = "Tailspin", domain, admin = new { userName = $"admin@{domain}", password } });
            var tenantId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tenant").GetProperty("id").GetGuid();
            Assert.Equal(HttpStatusCode.OK, (await operatorClient.PutAsJsonAsync($"/api/v1/tenants/{tenantId}/subscribedSkus/{SmallPlan}", new { prepaidUnits = 2 })).StatusCode);
            using var admin = await stratus.SignedInClientAsync($"admin@{domain}", password);
            var ada = await IdAsync(await admin.PostAsJsonAsync("/api/v1/users", new { userPrincipalName = $"ada@{domain}", displayName = "Ada", accountEnabled = true, passwordProfile = new { password = "ada-password-123" } }));
            await IdAsync(await admin.PostAsJsonAsync("/api/v1/users", new { userPrincipalName = $"bob@{domain}", displayName = "Bob", accountEnabled = true, passwordProfile = new { password = "bob-password-123" } }));
            var group = await IdAsync(await admin.PostAsJsonAsync("/api/v1/groups", new { displayName = "Desk" }));
            Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsJsonAsync($"/api/v1/groups/{group}/members", new { id = ada })).StatusCode);
            var policy = await IdAsync(await admin.PostAsJsonAsync("/api/v1/provisioningPolicies", new { displayName = "Desk", imageId = TinyImageFolder.ImageId, regionNames = new[] { "local-2" } }));
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync($"/api/v1/provisioningPolicies/{policy}/assign",
                new { assignments = new[] { new { target = new { groupId = group, servicePlanId = Guid.Parse(SmallPlan) } } } })).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync($"/api/v1/users/{ada}/assignLicense",
                new { addLicenses = new[] { new { skuId = Guid.Parse(SmallPlan) } }, removeLicenses = Array.Empty<Guid>() })).StatusCode);

            using var adaClient = await stratus.SignedInClientAsync($"ada@{domain}", "ada-password-123");
            var pcs = await Eventually.MatchesAsync(async () => (await adaClient.GetFromJsonAsync<JsonElement>("/api/v1/me/cloudPCs")).GetProperty("value"),
                v => v.GetArrayLength() == 1 && v[0].GetProperty("status").GetString() == "provisioned", "Ada's Cloud PC", TimeSpan.FromMinutes(3));
            var pcId = pcs[0].GetProperty("id").GetGuid();

            // Bob, and even the tenant's admin, cannot open Ada's display.
            using var bob = await stratus.SignedInClientAsync($"bob@{domain}", "bob-password-123");
            Assert.Equal(HttpStatusCode.NotFound, (await bob.PostAsync($"/api/v1/me/cloudPCs/{pcId}/connect", null)).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync($"/api/v1/me/cloudPCs/{pcId}/connect", null)).StatusCode);

            var connect = await adaClient.PostAsync($"/api/v1/me/cloudPCs/{pcId}/connect", null);
            Assert.Equal(HttpStatusCode.OK, connect.StatusCode);
            var ticket = await connect.Content.ReadFromJsonAsync<JsonElement>();
            var path = ticket.GetProperty("webSocketPath").GetString()!;
            Assert.True(ticket.GetProperty("expiresDateTime").GetDateTimeOffset() <= TimeProvider.System.GetUtcNow().AddSeconds(61));
            var url = new Uri(stratus.BaseAddress.ToString().Replace("http://", "ws://", StringComparison.Ordinal).TrimEnd('/') + path);

            using (var console = new ClientWebSocket())
            {
                await console.ConnectAsync(url, CancellationToken.None);
                var buffer = new byte[64];
                var received = await console.ReceiveAsync(buffer, CancellationToken.None);

                // QEMU's VNC server speaks first: the RFB protocol version.
                Assert.Equal("RFB 003.008\n", Encoding.ASCII.GetString(buffer, 0, received.Count));
                await console.SendAsync(Encoding.ASCII.GetBytes("RFB 003.008\n"), WebSocketMessageType.Binary, true, CancellationToken.None);
                received = await console.ReceiveAsync(buffer, CancellationToken.None);
                Assert.True(received.Count >= 2, "the VNC server offers its security types");
                await console.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
            }

            // The ticket opened one connection; a second try with it is refused.
            using (var replay = new ClientWebSocket())
            {
                var refused = await Assert.ThrowsAsync<WebSocketException>(() => replay.ConnectAsync(url, CancellationToken.None));
                Assert.Contains("403", refused.Message, StringComparison.Ordinal);
            }

            using (var forged = new ClientWebSocket())
            {
                var forgedUrl = new Uri(url.GetLeftPart(UriPartial.Path) + "?token=forged-ticket");
                await Assert.ThrowsAsync<WebSocketException>(() => forged.ConnectAsync(forgedUrl, CancellationToken.None));
            }

            var sessions = await Eventually.MatchesAsync(() => adaClient.GetFromJsonAsync<JsonElement>("/api/v1/me/sessions"),
                s => s.GetArrayLength() == 1 && s[0].TryGetProperty("endedAt", out var ended) && ended.ValueKind != JsonValueKind.Null, "the session record");
            Assert.True(sessions[0].GetProperty("bytesToClient").GetInt64() >= 12);
            Assert.Equal(12, sessions[0].GetProperty("bytesFromClient").GetInt64());

            // A powered-off Cloud PC cannot be connected to, and says why.
            var off = await admin.PostAsync($"/api/v1/cloudPCs/{pcId}/powerOff", JsonContent.Create(new { }));
            Assert.Equal(HttpStatusCode.Accepted, off.StatusCode);
            await Eventually.MatchesAsync(async () => (await adaClient.GetFromJsonAsync<JsonElement>($"/api/v1/me/cloudPCs/{pcId}")).GetProperty("powerState").GetString(),
                p => p == "poweredOff", "the Cloud PC to power off", TimeSpan.FromMinutes(2));
            var notRunning = await adaClient.PostAsync($"/api/v1/me/cloudPCs/{pcId}/connect", null);
            Assert.Equal(HttpStatusCode.Conflict, notRunning.StatusCode);
            Assert.Contains("start it first", await notRunning.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            QemuProcesses.KillAll(data.Path);
        }
    }

    private static async Task<Guid> IdAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }
}
