using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Stratus.IntegrationTests.Gateway;
using Stratus.IntegrationTests.Support;

namespace Stratus.IntegrationTests.Revocation;

/// <summary>
/// Issue 17, item 3, for open consoles: the gateway closes a console of a real QEMU VM within 60 s when its user is
/// disabled, when the console operator loses the role it was opened by, and when the tenant is suspended. Each test
/// signs in afresh (a revocation ends the fixture's own credentials too) and puts the tenant back as it found it.
/// </summary>
public sealed class ConsoleRevocationTests(ConsoleFixture fixture) : IClassFixture<ConsoleFixture>
{
    private const string AdaPassword = "ada-password-123";

    private string Ada => $"ada@{fixture.Domain}";

    private string Admin => $"admin@{fixture.Domain}";

    [Fact]
    public async Task Disabling_the_user_closes_their_open_console_within_a_minute()
    {
        using var ada = await fixture.Stratus.SignedInClientAsync(Ada, AdaPassword);
        using var console = await OpenAsync(ada, $"/api/v1/me/cloudPCs/{fixture.PcId}/connect");
        using var admin = await fixture.Stratus.SignedInClientAsync(Admin, ConsoleFixture.AdminPassword);
        var since = Stopwatch.StartNew();
        try
        {
            using (var disabled = await admin.PatchAsJsonAsync($"/api/v1/users/{fixture.AdaId}", new { accountEnabled = false }))
            {
                Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
            }

            await ClosedWithinLimitAsync(console.Socket, since, "the disabled user's console");
        }
        finally
        {
            using var enabled = await admin.PatchAsJsonAsync($"/api/v1/users/{fixture.AdaId}", new { accountEnabled = true });
            Assert.Equal(HttpStatusCode.OK, enabled.StatusCode);
        }

        // The session's record says why it ended.
        using var again = await fixture.Stratus.SignedInClientAsync(Ada, AdaPassword);
        var session = (await again.GetFromJsonAsync<JsonElement>("/api/v1/me/sessions")).EnumerateArray().Single(s => s.GetProperty("id").GetGuid() == console.SessionId);
        Assert.Contains("revoked", session.GetProperty("endReason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Removing_the_console_operator_role_closes_the_console_it_opened_within_a_minute()
    {
        using (var admin = await fixture.Stratus.SignedInClientAsync(Admin, ConsoleFixture.AdminPassword))
        {
            using var granted = await admin.PostAsJsonAsync("/api/v1/roleAssignments", new { principalId = fixture.AdminId, roleDefinitionId = "cloudPcConsoleOperator" });
            Assert.Equal(HttpStatusCode.Created, granted.StatusCode);
        }

        using var consoleOperator = await fixture.Stratus.SignedInClientAsync(Admin, ConsoleFixture.AdminPassword);
        using var console = await OpenAsync(consoleOperator, $"/api/v1/cloudPCs/{fixture.PcId}/connect");
        var since = Stopwatch.StartNew();
        using (var removed = await consoleOperator.DeleteAsync($"/api/v1/roleAssignments/{fixture.AdminId}_cloudPcConsoleOperator"))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }

        await ClosedWithinLimitAsync(console.Socket, since, "the console opened by the removed role");

        // Signed in again, the administrator cannot open another user's console any more.
        using var again = await fixture.Stratus.SignedInClientAsync(Admin, ConsoleFixture.AdminPassword);
        using var refused = await again.PostAsync($"/api/v1/cloudPCs/{fixture.PcId}/connect", null);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }

    [Fact]
    public async Task Suspending_the_tenant_closes_its_open_consoles_within_a_minute()
    {
        using var ada = await fixture.Stratus.SignedInClientAsync(Ada, AdaPassword);
        using var console = await OpenAsync(ada, $"/api/v1/me/cloudPCs/{fixture.PcId}/connect");
        using var operatorClient = await fixture.Stratus.OperatorClientAsync();
        var tenantId = (await ada.GetFromJsonAsync<MeBody>("/api/v1/me"))!.TenantId;
        var since = Stopwatch.StartNew();
        try
        {
            using (var suspended = await operatorClient.PostAsync($"/api/v1/tenants/{tenantId}/suspend", null))
            {
                Assert.Equal(HttpStatusCode.OK, suspended.StatusCode);
            }

            await ClosedWithinLimitAsync(console.Socket, since, "the suspended tenant's console");
        }
        finally
        {
            using var activated = await operatorClient.PostAsync($"/api/v1/tenants/{tenantId}/activate", null);
            Assert.Equal(HttpStatusCode.OK, activated.StatusCode);
        }
    }

    private sealed record OpenConsole(ClientWebSocket Socket, Guid SessionId) : IDisposable
    {
        public void Dispose() => Socket.Dispose();
    }

    /// <summary>Takes a ticket and opens the console; QEMU's greeting (the RFB version) shows the display flows.</summary>
    private async Task<OpenConsole> OpenAsync(HttpClient client, string connectPath)
    {
        using var response = await client.PostAsync(connectPath, null);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var ticket = await response.Content.ReadFromJsonAsync<JsonElement>();
        var socket = await ConsoleTicket.From(fixture.Stratus, ticket).ConnectAsync();
        using var opening = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var greeting = new byte[64];
        var received = await socket.ReceiveAsync(greeting, opening.Token);
        Assert.Equal("RFB 003.008\n", Encoding.ASCII.GetString(greeting, 0, received.Count));
        return new OpenConsole(socket, ticket.GetProperty("sessionId").GetGuid());
    }

    /// <summary>Reads the console until the gateway closes it (a close frame, or the connection dropped), within the limit.</summary>
    private static async Task ClosedWithinLimitAsync(ClientWebSocket socket, Stopwatch since, string what)
    {
        using var limit = new CancellationTokenSource(RevocationTenant.Limit - since.Elapsed);
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, limit.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
            }
        }
        catch (WebSocketException)
        {
            // The connection dropped: closed too.
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"{what} was still open after {RevocationTenant.Limit.TotalSeconds:0} s");
        }

        Assert.True(since.Elapsed < RevocationTenant.Limit, $"{what} took {since.Elapsed.TotalSeconds:0.0} s to close");
    }
}
