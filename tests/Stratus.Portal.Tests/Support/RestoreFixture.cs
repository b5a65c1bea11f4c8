using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Stratus.Testing;

namespace Stratus.Portal.Tests;

/// <summary>One `stratus up --hosts simulated` with the tiny gallery image and one chromium for the class.</summary>
public sealed class RestoreFixture : IAsyncLifetime
{
    internal const string SmallPlan = "5c1a0000-0000-4000-8000-000000010108";
    internal const string AdminPassword = "tenant-admin-pass-1";
    internal const string UserPassword = "user-password-123";

    private readonly TempFolder data = new();
    private IPlaywright? playwright;
    private IBrowser? browser;

    public StratusProcess Process { get; private set; } = null!;

    public DateTimeOffset Now() => TimeProvider.System.GetUtcNow();

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Chromium.Screenshots);
        await TinyImageFolder.InstallIntoAsync(data.Path);
        // Simulated hosts offer this machine's free disk by default; give each region room for the tests' Cloud PCs.
        Process = await StratusProcess.StartAsync(["up", "--hosts", "simulated"], data.Path,
            new Dictionary<string, string?> { ["Stratus__EmbeddedHosts__DiskGiB"] = "100" });
        playwright = await Chromium.StartPlaywrightAsync();
        browser = await Chromium.LaunchAsync(playwright);
    }

    /// <summary>A tenant with seats of the small plan and its admin's API client, made through the API.</summary>
    public async Task<RestoreTenant> CreateTenantAsync(string name, int seats = 0)
    {
        using var operatorClient = await Process.OperatorClientAsync();
        var domain = $"{name.ToLowerInvariant()}-{Guid.NewGuid():N}"[..(name.Length + 9)] + ".test";
        var created = await operatorClient.PostAsJsonAsync("/api/v1/tenants", new { displayName = name, domain, admin = new { userName = $"admin@{domain}", password = AdminPassword } });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var tenantId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tenant").GetProperty("id").GetGuid();
        if (seats > 0)
        {
            var set = await operatorClient.PutAsJsonAsync($"/api/v1/tenants/{tenantId}/subscribedSkus/{SmallPlan}", new { prepaidUnits = seats });
            Assert.True(set.StatusCode == HttpStatusCode.OK, await set.Content.ReadAsStringAsync());
        }

        return new RestoreTenant(domain, $"admin@{domain}", await Process.SignedInClientAsync($"admin@{domain}", AdminPassword));
    }

    /// <summary>A new browser context (its own cookies) signed in to the admin portal.</summary>
    public async Task<IPage> SignInAsync(string userName)
    {
        var page = await Chromium.NewPageAsync(browser!, Process, 1366, 850);
        await page.GotoAsync("/admin/signin");
        await Chromium.SubmitAdminSignInAsync(page, userName, AdminPassword);
        await Assertions.Expect(page.Locator("[data-testid=signed-in-as]")).ToContainTextAsync(userName);
        return page;
    }

    /// <summary>A new browser context signed in to the user portal, showing the user's Cloud PCs.</summary>
    public async Task<IPage> UserPortalAsync(string userName)
    {
        var page = await Chromium.NewPageAsync(browser!, Process, 1280, 800);
        await page.GotoAsync("/");
        await page.FillAsync("#username", userName);
        await page.FillAsync("#password", UserPassword);
        await page.ClickAsync("button[type=submit]");
        await Assertions.Expect(page.Locator(".card")).ToHaveCountAsync(1);
        return page;
    }

    public async Task DisposeAsync()
    {
        if (browser is not null)
        {
            await browser.DisposeAsync();
        }

        playwright?.Dispose();
        if (Process is not null)
        {
            await Process.DisposeAsync();
        }

        data.Dispose();
    }
}

/// <summary>A tenant of <see cref="RestoreFixture"/>, with the API calls that set up what a test needs.</summary>
public sealed record RestoreTenant(string Domain, string AdminUserName, HttpClient Admin)
{
    public async Task<Guid> UserAsync(string name) =>
        await IdAsync(await Admin.PostAsJsonAsync("/api/v1/users", new
        {
            userPrincipalName = $"{name}@{Domain}", displayName = char.ToUpperInvariant(name[0]) + name[1..], accountEnabled = true,
            passwordProfile = new { password = RestoreFixture.UserPassword },
        }));

    public async Task<Guid> GroupAsync(string name, params Guid[] members)
    {
        var group = await IdAsync(await Admin.PostAsJsonAsync("/api/v1/groups", new { displayName = name }));
        foreach (var member in members)
        {
            Assert.Equal(HttpStatusCode.NoContent, (await Admin.PostAsJsonAsync($"/api/v1/groups/{group}/members", new { id = member })).StatusCode);
        }

        return group;
    }

    public async Task SettingAsync(string name, bool userRestore, Guid group, int priority)
    {
        var setting = await IdAsync(await Admin.PostAsJsonAsync("/api/v1/userSettings", new
        {
            displayName = name, restorePointSetting = new { frequencyType = "twelveHours", userRestoreEnabled = userRestore },
        }));
        var assigned = await Admin.PostAsJsonAsync($"/api/v1/userSettings/{setting}/assign", new { assignments = new[] { new { target = new { groupId = group }, priority } } });
        Assert.True(assigned.IsSuccessStatusCode, await assigned.Content.ReadAsStringAsync());
    }

    /// <summary>A policy for the group with the small plan, a license for each member, and their Cloud PCs provisioned.</summary>
    public async Task ProvisionAsync(Guid group, int count)
    {
        var policy = await IdAsync(await Admin.PostAsJsonAsync("/api/v1/provisioningPolicies", new { displayName = "Desk", imageId = TinyImageFolder.ImageId, regionNames = new[] { "local-1" } }));
        var assigned = await Admin.PostAsJsonAsync($"/api/v1/provisioningPolicies/{policy}/assign",
            new { assignments = new[] { new { target = new { groupId = group, servicePlanId = Guid.Parse(RestoreFixture.SmallPlan) } } } });
        Assert.True(assigned.IsSuccessStatusCode, await assigned.Content.ReadAsStringAsync());
        var members = await Admin.GetFromJsonAsync<JsonElement>($"/api/v1/groups/{group}/members");
        foreach (var member in members.GetProperty("value").EnumerateArray())
        {
            var licensed = await Admin.PostAsJsonAsync($"/api/v1/users/{member.GetProperty("id").GetGuid()}/assignLicense",
                new { addLicenses = new[] { new { skuId = Guid.Parse(RestoreFixture.SmallPlan) } }, removeLicenses = Array.Empty<Guid>() });
            Assert.True(licensed.IsSuccessStatusCode, await licensed.Content.ReadAsStringAsync());
        }

        await EventuallyAsync(async () =>
        {
            var list = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/cloudPCs?$filter=" + Uri.EscapeDataString("status eq 'provisioned'"));
            return list.GetProperty("totalCount").GetInt32() == count;
        }, $"{count} Cloud PCs provisioned", TimeSpan.FromSeconds(120));
    }

    public async Task<Guid> CloudPcAsync(string userPrincipalName)
    {
        var list = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/cloudPCs?$filter=" + Uri.EscapeDataString($"userPrincipalName eq '{userPrincipalName}'"));
        return list.GetProperty("value")[0].GetProperty("id").GetGuid();
    }

    /// <summary>A manual restore point, taken through the API and waited for.</summary>
    public async Task<Guid> CreateSnapshotAsync(Guid cloudPc)
    {
        var accepted = await Admin.PostAsync($"/api/v1/cloudPCs/{cloudPc}/createSnapshot", null);
        Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, await accepted.Content.ReadAsStringAsync());
        var operation = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        await EventuallyAsync(async () =>
        {
            var op = await Admin.GetFromJsonAsync<JsonElement>($"/api/v1/cloudPCs/{cloudPc}/operations/{operation}");
            Assert.NotEqual("failed", op.GetProperty("status").GetString());
            return op.GetProperty("status").GetString() == "succeeded";
        }, "the restore point", TimeSpan.FromSeconds(60));
        var points = await Admin.GetFromJsonAsync<JsonElement>($"/api/v1/cloudPCs/{cloudPc}/snapshots");
        return points.GetProperty("value").EnumerateArray().First(p => p.GetProperty("snapshotType").GetString() == "manual").GetProperty("id").GetGuid();
    }

    public async Task<JsonElement> SnapshotAsync(Guid cloudPc, Guid snapshot)
    {
        var points = await Admin.GetFromJsonAsync<JsonElement>($"/api/v1/cloudPCs/{cloudPc}/snapshots");
        return points.GetProperty("value").EnumerateArray().Single(p => p.GetProperty("id").GetGuid() == snapshot);
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan within)
    {
        var deadline = TimeProvider.System.GetUtcNow() + within;
        while (!await condition())
        {
            Assert.True(TimeProvider.System.GetUtcNow() < deadline, $"Waited {within.TotalSeconds:0} s for {what}.");
            await Task.Delay(250);
        }
    }

    private static async Task<Guid> IdAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }
}
