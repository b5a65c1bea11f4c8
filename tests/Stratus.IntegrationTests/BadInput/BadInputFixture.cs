using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Testing;

namespace Stratus.IntegrationTests.BadInput;

/// <summary>
/// One `stratus up` on SQLite with a tenant whose resources the bad requests aim at: a user, a group, a
/// provisioning policy, a user setting, and a SCIM token with a SCIM user and group; clients for the
/// operator, the tenant's administrator, SCIM and no one.
/// </summary>
public sealed class BadInputFixture : IAsyncLifetime
{
    public const string Domain = "badinput.test";
    private const string AdminPassword = "Bad-Input-Admin-Passw0rd";

    private readonly TempFolder data = new();
    private StratusProcess? process;

    public StratusProcess Stratus => process ?? throw new InvalidOperationException("The fixture has not started.");

    internal HttpClient Operator { get; private set; } = null!;

    internal HttpClient TenantAdmin { get; private set; } = null!;

    internal HttpClient Scim { get; private set; } = null!;

    internal HttpClient Anonymous { get; private set; } = null!;

    /// <summary>The seeded resources, by the collection their id goes in (the path segment before it).</summary>
    internal Dictionary<string, Guid> Existing { get; } = new(StringComparer.OrdinalIgnoreCase);

    public async Task InitializeAsync()
    {
        await TinyImageFolder.InstallIntoAsync(data.Path);
        process = await StratusProcess.StartAsync(["up"], data.Path);
        Anonymous = Client(null);
        Operator = await Stratus.OperatorClientAsync();
        var tenant = await PostAsync(Operator, "/api/v1/tenants", new
        {
            displayName = "Bad Input", domain = Domain, admin = new { userName = "admin", password = AdminPassword, displayName = "Admin" },
        });
        Existing["tenants"] = tenant.GetProperty("tenant").GetProperty("id").GetGuid();
        TenantAdmin = await Stratus.SignedInClientAsync($"admin@{Domain}", AdminPassword);
        Existing["users"] = (await PostAsync(TenantAdmin, "/api/v1/users", new
        {
            userPrincipalName = $"alice@{Domain}", displayName = "Alice", accountEnabled = true,
            passwordProfile = new { password = "Alice-Passw0rd-123", forceChangePasswordNextSignIn = false },
        })).GetProperty("id").GetGuid();
        Existing["groups"] = (await PostAsync(TenantAdmin, "/api/v1/groups", new { displayName = "Engineering", description = "The engineers" })).GetProperty("id").GetGuid();
        Existing["provisioningPolicies"] = (await PostAsync(TenantAdmin, "/api/v1/provisioningPolicies", new { displayName = "Standard", imageId = TinyImageFolder.ImageId }))
            .GetProperty("id").GetGuid();
        Existing["userSettings"] = (await PostAsync(TenantAdmin, "/api/v1/userSettings", new { displayName = "Defaults" })).GetProperty("id").GetGuid();
        Scim = Client((await PostAsync(TenantAdmin, "/api/v1/scim/token", null)).GetProperty("token").GetString());
        Existing["scim/v2/Users"] = (await PostAsync(Scim, "/scim/v2/Users", new
        {
            schemas = new[] { "urn:ietf:params:scim:schemas:core:2.0:User" }, userName = $"bob@{Domain}", displayName = "Bob",
        })).GetProperty("id").GetGuid();
        Existing["scim/v2/Groups"] = (await PostAsync(Scim, "/scim/v2/Groups", new
        {
            schemas = new[] { "urn:ietf:params:scim:schemas:core:2.0:Group" }, displayName = "Provisioned",
        })).GetProperty("id").GetGuid();
    }

    /// <summary>The id for a path parameter: a seeded resource's where the operation reads it or sends it a body (so the body decides), else a new one.</summary>
    internal string IdFor(Operation operation, Parameter parameter)
    {
        var template = operation.PathTemplate.TrimStart('/');
        var at = template.IndexOf("{" + parameter.Name + "}", StringComparison.Ordinal);
        var collection = template[..Math.Max(0, at - 1)];
        collection = collection.StartsWith("api/v1/", StringComparison.Ordinal) ? collection["api/v1/".Length..] : collection;
        var useExisting = operation.Method == "GET" || operation.TakesBody;
        return useExisting && Existing.TryGetValue(collection, out var id) ? id.ToString() : Guid.NewGuid().ToString();
    }

    internal HttpClient Client(string? token)
    {
        var client = new HttpClient { BaseAddress = Stratus.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    private static async Task<JsonElement> PostAsync(HttpClient client, string path, object? body)
    {
        using var response = body is null ? await client.PostAsync(path, null) : await client.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"Seeding: POST {path} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task DisposeAsync()
    {
        foreach (var client in new[] { Operator, TenantAdmin, Scim, Anonymous })
        {
            client?.Dispose();
        }

        if (process is not null)
        {
            await process.DisposeAsync();
        }

        data.Dispose();
    }
}
