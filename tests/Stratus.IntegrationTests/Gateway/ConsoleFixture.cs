using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Gateway;

/// <summary>
/// One `stratus up` with real QEMU and one running Cloud PC (Ada's), shared by the console tests: a VM boot is
/// the slow part. Tickets live <see cref="TicketLifetime"/>, so that a test can wait one out. Tenant A has Ada,
/// Bob and its administrator; tenant B has an administrator who holds cloudPcConsoleOperator.
/// </summary>
public class ConsoleFixture : IAsyncLifetime
{
    public const string SmallPlan = "5c1a0000-0000-4000-8000-000000010108";
    public const string AdminPassword = "tenant-admin-pass-1";
    public static readonly TimeSpan TicketLifetime = TimeSpan.FromSeconds(2);

    private readonly TempFolder data = new();
    private StratusProcess? process;

    /// <summary>The region of Ada's Cloud PC.</summary>
    protected virtual string Region => "local-2";

    public StratusProcess Stratus => process ?? throw new InvalidOperationException("The fixture has not started.");

    public string Domain { get; } = $"g{Guid.NewGuid():N}"[..12] + ".test";

    public string OtherDomain { get; } = $"h{Guid.NewGuid():N}"[..12] + ".test";

    public HttpClient Admin { get; private set; } = null!;

    public Guid AdminId { get; private set; }

    public HttpClient Ada { get; private set; } = null!;

    public Guid AdaId { get; private set; }

    public HttpClient Bob { get; private set; } = null!;

    /// <summary>Tenant B's administrator, with the console operator role: any Cloud PC of tenant B, none of A.</summary>
    public HttpClient OtherOperator { get; private set; } = null!;

    public Guid PcId { get; private set; }

    public string PcName { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await TinyImageFolder.InstallIntoAsync(data.Path);
        try
        {
            process = await StartStratusAsync(data.Path, new Dictionary<string, string?> { ["Stratus__Gateway__TicketLifetime"] = TicketLifetime.ToString() });
            await ProvisionAsync();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>A WebSocket handshake sent as plain HTTP, to read the refusal's problem details (a browser cannot).</summary>
    public async Task<(HttpStatusCode Status, JsonElement Problem)> RefusalAsync(ConsoleTicket ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        using var request = new HttpRequestMessage(HttpMethod.Get, ticket.Url.PathAndQuery);
        request.Headers.Add("Sec-WebSocket-Protocol", string.Join(", ", ticket.Protocols));
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new ProductHeaderValue("websocket"));
        request.Headers.Add("Sec-WebSocket-Version", "13");
        request.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)));
        using var response = await Stratus.Http.SendAsync(request);
        var problem = await ProblemAssert.IsProblemAsync(response, response.StatusCode);
        return (response.StatusCode, problem);
    }

    /// <summary>All of Stratus with its embedded QEMU hosts.</summary>
    protected virtual Task<StratusProcess> StartStratusAsync(string dataFolder, Dictionary<string, string?> settings) =>
        StratusProcess.StartAsync(["up"], dataFolder, settings);

    public virtual async Task DisposeAsync()
    {
        foreach (var client in new[] { Admin, Ada, Bob, OtherOperator })
        {
            client?.Dispose();
        }

        if (process is not null)
        {
            await process.DisposeAsync();
        }

        QemuProcesses.KillAll(data.Path);
        data.Dispose();
    }

    private async Task ProvisionAsync()
    {
        using var operatorClient = await Stratus.OperatorClientAsync();
        var tenantId = await CreateTenantAsync(operatorClient, "Tailspin", Domain);
        Assert.Equal(HttpStatusCode.OK, (await operatorClient.PutAsJsonAsync($"/api/v1/tenants/{tenantId}/subscribedSkus/{SmallPlan}", new { prepaidUnits = 2 })).StatusCode);
        Admin = await Stratus.SignedInClientAsync($"admin@{Domain}", AdminPassword);
        AdminId = (await Admin.GetFromJsonAsync<JsonElement>("/api/v1/me")).GetProperty("id").GetGuid();
        AdaId = await IdAsync(await Admin.PostAsJsonAsync("/api/v1/users", new { userPrincipalName = $"ada@{Domain}", displayName = "Ada", accountEnabled = true, passwordProfile = new { password = "ada-password-123" } }));
        await IdAsync(await Admin.PostAsJsonAsync("/api/v1/users", new { userPrincipalName = $"bob@{Domain}", displayName = "Bob", accountEnabled = true, passwordProfile = new { password = "bob-password-123" } }));
        var group = await IdAsync(await Admin.PostAsJsonAsync("/api/v1/groups", new { displayName = "Desk" }));
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.PostAsJsonAsync($"/api/v1/groups/{group}/members", new { id = AdaId })).StatusCode);
        var policy = await IdAsync(await Admin.PostAsJsonAsync("/api/v1/provisioningPolicies", new { displayName = "Desk", imageId = TinyImageFolder.ImageId, regionNames = new[] { Region } }));
        Assert.Equal(HttpStatusCode.OK, (await Admin.PostAsJsonAsync($"/api/v1/provisioningPolicies/{policy}/assign",
            new { assignments = new[] { new { target = new { groupId = group, servicePlanId = Guid.Parse(SmallPlan) } } } })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Admin.PostAsJsonAsync($"/api/v1/users/{AdaId}/assignLicense",
            new { addLicenses = new[] { new { skuId = Guid.Parse(SmallPlan) } }, removeLicenses = Array.Empty<Guid>() })).StatusCode);
        Ada = await Stratus.SignedInClientAsync($"ada@{Domain}", "ada-password-123");
        Bob = await Stratus.SignedInClientAsync($"bob@{Domain}", "bob-password-123");

        // Tenant B: its administrator takes the console operator role, then signs in again to carry it.
        await CreateTenantAsync(operatorClient, "Fabrikam", OtherDomain);
        using (var otherAdmin = await Stratus.SignedInClientAsync($"admin@{OtherDomain}", AdminPassword))
        {
            var otherAdminId = (await otherAdmin.GetFromJsonAsync<JsonElement>("/api/v1/me")).GetProperty("id").GetGuid();
            Assert.Equal(HttpStatusCode.Created, (await otherAdmin.PostAsJsonAsync("/api/v1/roleAssignments", new { principalId = otherAdminId, roleDefinitionId = "cloudPcConsoleOperator" })).StatusCode);
        }

        OtherOperator = await Stratus.SignedInClientAsync($"admin@{OtherDomain}", AdminPassword);

        var pcs = await Eventually.MatchesAsync(async () => (await Ada.GetFromJsonAsync<JsonElement>("/api/v1/me/cloudPCs")).GetProperty("value"),
            v => v.GetArrayLength() == 1 && v[0].GetProperty("status").GetString() == "provisioned" && v[0].GetProperty("powerState").GetString() == "running",
            "Ada's Cloud PC", TimeSpan.FromMinutes(3));
        PcId = pcs[0].GetProperty("id").GetGuid();
        PcName = pcs[0].GetProperty("managedDeviceName").GetString()!;
    }

    private static async Task<Guid> CreateTenantAsync(HttpClient operatorClient, string name, string domain)
    {
        var created = await operatorClient.PostAsJsonAsync("/api/v1/tenants", new { displayName = name, domain, admin = new { userName = $"admin@{domain}", password = AdminPassword } });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tenant").GetProperty("id").GetGuid();
    }

    private static async Task<Guid> IdAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }
}
