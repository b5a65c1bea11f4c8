using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.Resilience;

/// <summary>A tenant the load works in: its admin's token, the group a policy gives Cloud PCs to.</summary>
public sealed record ChaosTenant(Guid Id, string Domain, string AdminToken, Guid GroupId, string Region);

/// <summary>What the region accepted: each must be there, done, exactly once, after every fault.</summary>
public sealed class Ledger
{
    public ConcurrentDictionary<Guid, (ChaosTenant Tenant, string UserName)> Users { get; } = new();

    /// <summary>Users whose group membership and license were both accepted: each must have one Cloud PC.</summary>
    public ConcurrentDictionary<Guid, ChaosTenant> Licensed { get; } = new();

    /// <summary>Accepted actions: operation id to (tenant, Cloud PC).</summary>
    public ConcurrentDictionary<Guid, (ChaosTenant Tenant, Guid CloudPcId)> Actions { get; } = new();

    /// <summary>
    /// Accepted actions that provisioning gave up on purpose (their host was declared down, their deadline passed):
    /// completed once, as failed with a detail that says to send them again.
    /// </summary>
    public ConcurrentDictionary<Guid, bool> GivenUp { get; } = new();

    /// <summary>Steps that never got an answer within the give-up time: operations the client had to abandon.</summary>
    public ConcurrentBag<string> Abandoned { get; } = [];
}

/// <summary>
/// The mixed load: directory changes that provision Cloud PCs (a user, their group membership, their license),
/// actions on Cloud PCs (restart), and reads. Every write carries an Idempotency-Key and is retried with the same
/// key until the region answers, as a careful client does; what it accepted goes into the ledger.
/// </summary>
public sealed class Workload(FrontDoor door, Ledger ledger, Action<string> log)
{
    public const string SmallPlan = "5c1a0000-0000-4000-8000-000000010108";
    public const string ImageId = "stratus-tiny-linux";

    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromMinutes(3);
    private int userNumber;

    public static async Task<string> SignInAsync(FrontDoor door, string userName, string password)
    {
        ArgumentNullException.ThrowIfNull(door);
        using var response = await door.SendAsync(HttpMethod.Post, "/api/v1/auth/token", null, new { userName, password })
            ?? throw new InvalidOperationException($"signing in {userName}: no answer");
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
    }

    /// <summary>A tenant with seats, a group and a policy in the region that gives the group's members the small plan.</summary>
    public async Task<ChaosTenant> CreateTenantAsync(string operatorToken, string name, string region, int seats)
    {
        var tenant = await CreateDirectoryTenantAsync(operatorToken, name, region, seats);
        var policy = (await WriteAsync(tenant.AdminToken, HttpMethod.Post, "/api/v1/provisioningPolicies", new
        {
            displayName = $"{name} desktops", imageId = ImageId, imageType = "gallery", regionNames = new[] { region }, gracePeriodInHours = 1,
        }, HttpStatusCode.Created))!.Value.GetProperty("id").GetGuid();
        await WriteAsync(tenant.AdminToken, HttpMethod.Post, $"/api/v1/provisioningPolicies/{policy}/assign",
            new { assignments = new[] { new { target = new { groupId = tenant.GroupId, servicePlanId = Guid.Parse(SmallPlan) } } } }, HttpStatusCode.OK);
        return tenant;
    }

    /// <summary>A tenant with seats and a group, its admin signed in; no policy (its users get no Cloud PC).</summary>
    public async Task<ChaosTenant> CreateDirectoryTenantAsync(string operatorToken, string name, string region, int seats)
    {
        var domain = $"{name}-{Guid.NewGuid():N}"[..16] + ".test";
        const string password = "chaos-admin-password-1";
        var tenant = await WriteAsync(operatorToken, HttpMethod.Post, "/api/v1/tenants",
            new { displayName = name, domain, admin = new { userName = $"admin@{domain}", password } }, HttpStatusCode.Created);
        var tenantId = tenant!.Value.GetProperty("tenant").GetProperty("id").GetGuid();
        await WriteAsync(operatorToken, HttpMethod.Put, $"/api/v1/tenants/{tenantId}/subscribedSkus/{SmallPlan}", new { prepaidUnits = seats }, HttpStatusCode.OK);
        var admin = await SignInAsync(door, $"admin@{domain}", password);
        var group = (await WriteAsync(admin, HttpMethod.Post, "/api/v1/groups", new { displayName = "Cloud PC users" }, HttpStatusCode.Created))!.Value.GetProperty("id").GetGuid();
        return new ChaosTenant(tenantId, domain, admin, group, region);
    }

    /// <summary>Creates a user (retried with one Idempotency-Key until answered) and notes it in the ledger; null when refused or abandoned.</summary>
    public async Task<Guid?> AddUserAsync(ChaosTenant tenant)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        var upn = $"user{Interlocked.Increment(ref userNumber)}@{tenant.Domain}";
        var created = await WriteAsync(tenant.AdminToken, HttpMethod.Post, "/api/v1/users", new
        {
            userPrincipalName = upn, displayName = upn, accountEnabled = true, passwordProfile = new { password = "chaos-user-password-1" },
        }, HttpStatusCode.Created);
        if (created is null)
        {
            return null;
        }

        var id = created.Value.GetProperty("id").GetGuid();
        ledger.Users[id] = (tenant, upn);
        return id;
    }

    /// <summary>One user who gets a Cloud PC: created, put in the policy's group, licensed.</summary>
    public async Task<bool> AddLicensedUserAsync(ChaosTenant tenant)
    {
        if (await AddUserAsync(tenant) is not { } id)
        {
            return false;
        }

        var licensed = await WriteAsync(tenant.AdminToken, HttpMethod.Post, $"/api/v1/groups/{tenant.GroupId}/members", new { id }, HttpStatusCode.NoContent) is not null
            && await WriteAsync(tenant.AdminToken, HttpMethod.Post, $"/api/v1/users/{id}/assignLicense",
                new { addLicenses = new[] { new { skuId = Guid.Parse(SmallPlan) } }, removeLicenses = Array.Empty<Guid>() }, HttpStatusCode.OK) is not null;
        if (licensed)
        {
            ledger.Licensed[id] = tenant;
        }

        return licensed;
    }

    /// <summary>Restarts one of the tenant's provisioned, running Cloud PCs that nothing else is being done to.</summary>
    public async Task RestartOneAsync(ChaosTenant tenant, Random random)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(random);
        var pcs = await ReadAsync(tenant.AdminToken, "/api/v1/cloudPCs?$top=1000");
        if (pcs is null)
        {
            return;
        }

        var idle = pcs.Value.GetProperty("value").EnumerateArray()
            .Where(p => p.GetProperty("status").GetString() == "provisioned" && p.GetProperty("powerState").GetString() == "running"
                && p.GetProperty("activeOperationId").ValueKind == JsonValueKind.Null)
            .Select(p => p.GetProperty("id").GetGuid()).ToList();
        if (idle.Count == 0)
        {
            return;
        }

        var pc = idle[random.Next(idle.Count)];
        var operation = await WriteAsync(tenant.AdminToken, HttpMethod.Post, $"/api/v1/cloudPCs/{pc}/reboot", new { }, HttpStatusCode.Accepted, refusalIsAnswer: true);
        if (operation is { } accepted && accepted.TryGetProperty("id", out var opId))
        {
            ledger.Actions[opId.GetGuid()] = (tenant, pc);
        }
    }

    public async Task ReadSomeAsync(ChaosTenant tenant)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        await ReadAsync(tenant.AdminToken, "/api/v1/cloudPCs?$top=20");
        await ReadAsync(tenant.AdminToken, "/api/v1/users?$top=20");
        await ReadAsync(tenant.AdminToken, "/api/v1/auditEvents?$top=5");
    }

    public async Task<JsonElement?> ReadAsync(string token, string path)
    {
        using var response = await door.SendAsync(HttpMethod.Get, path, token);
        return response is { IsSuccessStatusCode: true } ? await response.Content.ReadFromJsonAsync<JsonElement>() : null;
    }

    /// <summary>
    /// Sends a write with one Idempotency-Key until the region answers it; null when it refused it (a 4xx) or
    /// never answered within the give-up time (then it is recorded as abandoned).
    /// </summary>
    private async Task<JsonElement?> WriteAsync(string token, HttpMethod method, string path, object body, HttpStatusCode expected, bool refusalIsAnswer = false)
    {
        var key = Guid.NewGuid().ToString("N");
        var deadline = door.Now + GiveUpAfter;
        while (true)
        {
            using var response = await door.SendAsync(method, path, token, body, key);
            if (response is not null && (int)response.StatusCode < 500)
            {
                if (response.StatusCode == expected || (expected == HttpStatusCode.Accepted && response.StatusCode == HttpStatusCode.OK))
                {
                    return response.Content.Headers.ContentLength == 0 || expected == HttpStatusCode.NoContent
                        ? JsonDocument.Parse("{}").RootElement
                        : await response.Content.ReadFromJsonAsync<JsonElement>();
                }

                var problem = await response.Content.ReadAsStringAsync();
                // Key in use: the first attempt still runs (a front door gave up on it and sent it to the other
                // zone); ask again in a moment for its response, within the same give-up time as a failure.
                if (response.StatusCode != HttpStatusCode.Conflict || !problem.Contains("idempotency-key-in-use", StringComparison.Ordinal))
                {
                    if (!refusalIsAnswer)
                    {
                        log($"{method} {path} refused: {(int)response.StatusCode} {problem}");
                    }

                    return null;
                }
            }

            if (door.Now > deadline)
            {
                ledger.Abandoned.Add($"{method} {path} (key {key})");
                return null;
            }

            // The region is failing over: the same request again shortly, with the same key.
            await Task.Delay(TimeSpan.FromMilliseconds(500 + Random.Shared.Next(500)));
        }
    }
}
