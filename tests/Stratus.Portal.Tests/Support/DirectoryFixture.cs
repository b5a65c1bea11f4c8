using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Stratus.Testing;

namespace Stratus.Portal.Tests;

/// <summary>One `stratus up --hosts simulated` and one chromium for the class, with a first tenant that has seats.</summary>
public sealed class DirectoryFixture : IAsyncLifetime
{
    private readonly TempFolder data = new();
    private IPlaywright? playwright;
    private IBrowser? browser;

    public StratusProcess Process { get; private set; } = null!;

    public DirectoryTenant TenantA { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Chromium.Screenshots);
        Process = await StratusProcess.StartAsync(["up", "--hosts", "simulated"], data.Path);
        TenantA = await CreateTenantAsync("Contoso", new() { [AdminDirectoryTests.SmallPlan] = 1, [AdminDirectoryTests.MediumPlan] = 3 });
        playwright = await Chromium.StartPlaywrightAsync();
        browser = await Chromium.LaunchAsync(playwright);
    }

    public async Task<DirectoryTenant> CreateTenantAsync(string name, Dictionary<string, int> seats)
    {
        using var operatorClient = await Process.OperatorClientAsync();
        var domain = $"{name.ToLowerInvariant()}-{Guid.NewGuid():N}"[..(name.Length + 9)] + ".test";
        var adminUserName = $"admin@{domain}";
        const string password = "tenant-admin-pass-1";
        var created = await operatorClient.PostAsJsonAsync("/api/v1/tenants", new { displayName = name, domain, admin = new { userName = adminUserName, password, displayName = $"{name} Admin" } });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var tenantId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tenant").GetProperty("id").GetGuid();
        foreach (var (plan, units) in seats)
        {
            var set = await operatorClient.PutAsJsonAsync($"/api/v1/tenants/{tenantId}/subscribedSkus/{plan}", new { prepaidUnits = units });
            Assert.True(set.StatusCode == HttpStatusCode.OK, await set.Content.ReadAsStringAsync());
        }

        return new DirectoryTenant(tenantId, domain, adminUserName, password);
    }

    /// <summary>A new browser context (its own cookies) signed in to the admin portal.</summary>
    public async Task<IPage> SignInAsync(string userName, string password)
    {
        var page = await Chromium.NewPageAsync(browser!, Process);
        await page.GotoAsync("/admin/signin");
        await Chromium.SubmitAdminSignInAsync(page, userName, password);
        await Assertions.Expect(page.Locator("[data-testid=signed-in-as]")).ToContainTextAsync(userName);
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

public sealed record DirectoryTenant(Guid Id, string Domain, string AdminUserName, string AdminPassword);
