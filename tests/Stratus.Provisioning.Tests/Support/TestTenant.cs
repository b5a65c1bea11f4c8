using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.Provisioning.Tests.Support;

/// <summary>A user in a group that a policy gives a plan, licensed for it, and the Cloud PC that made.</summary>
public sealed record Provisioned(Guid UserId, string UserPrincipalName, Guid GroupId, PolicyBody Policy, CloudPcBody CloudPc);

/// <summary>A tenant of the test's own, driven through the public API as its administrator.</summary>
public sealed record TestTenant(ProvisioningHost Host, Guid Id, string Domain, HttpClient Admin) : IDisposable
{
    public const string AdminPassword = "admin-password-123";
    public const string UserPassword = "user-password-123";

    public void Dispose() => Admin.Dispose();

    /// <summary>The same tenant with its administrator signed in again, to the host's process of now (after a restart).</summary>
    public async Task<TestTenant> ReconnectAsync()
    {
        Admin.Dispose();
        return this with { Admin = await Host.Stratus.SignedInClientAsync("admin@" + Domain, AdminPassword) };
    }

    public string Upn(string name) => $"{name}@{Domain}";

    public async Task SetSeatsAsync(Guid plan, int seats)
    {
        var response = await Host.Operator.PutAsJsonAsync($"/api/v1/tenants/{Id}/subscribedSkus/{plan}", new { prepaidUnits = seats });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    public async Task<Guid> CreateUserAsync(string name)
    {
        var response = await Admin.PostAsJsonAsync("/api/v1/users", new
        {
            userPrincipalName = Upn(name),
            displayName = name,
            passwordProfile = new { password = UserPassword },
            accountEnabled = true,
        });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    public async Task<Guid> CreateGroupAsync(string name)
    {
        var response = await Admin.PostAsJsonAsync("/api/v1/groups", new { displayName = name });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    public async Task AddMemberAsync(Guid group, Guid user)
    {
        var response = await Admin.PostAsJsonAsync($"/api/v1/groups/{group}/members", new { id = user });
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
    }

    public async Task RemoveMemberAsync(Guid group, Guid user)
    {
        var response = await Admin.DeleteAsync($"/api/v1/groups/{group}/members/{user}");
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
    }

    public async Task AssignLicenseAsync(Guid user, Guid plan)
    {
        var response = await Admin.PostAsJsonAsync($"/api/v1/users/{user}/assignLicense", new { addLicenses = new[] { new { skuId = plan } }, removeLicenses = Array.Empty<Guid>() });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    public async Task RemoveLicenseAsync(Guid user, Guid plan)
    {
        var response = await Admin.PostAsJsonAsync($"/api/v1/users/{user}/assignLicense", new { addLicenses = Array.Empty<object>(), removeLicenses = new[] { plan } });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The plans the user holds a license of, as identity says.</summary>
    public async Task<List<Guid>> LicensesAsync(Guid user) =>
        (await Admin.GetFromJsonAsync<JsonElement>($"/api/v1/users/{user}/licenseDetails")).EnumerateArray()
            .Select(l => l.GetProperty("skuId").GetGuid()).ToList();

    public Task<HttpResponseMessage> PostPolicyAsync(object body) => Admin.PostAsJsonAsync("/api/v1/provisioningPolicies", body);

    public async Task<PolicyBody> CreatePolicyAsync(string name = "Developers", string region = "local-1", int gracePeriodInHours = 100, string? namingTemplate = null)
    {
        var response = await PostPolicyAsync(new
        {
            displayName = name,
            imageId = ProvisioningHost.ImageId,
            imageType = "gallery",
            regionNames = new[] { region },
            gracePeriodInHours,
            cloudPcNamingTemplate = namingTemplate,
        });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<PolicyBody>())!;
    }

    public async Task<PolicyBody> GetPolicyAsync(Guid policy) => (await Admin.GetFromJsonAsync<PolicyBody>($"/api/v1/provisioningPolicies/{policy}"))!;

    public Task<HttpResponseMessage> PostAssignAsync(Guid policy, params (Guid Group, Guid Plan)[] targets) =>
        Admin.PostAsJsonAsync($"/api/v1/provisioningPolicies/{policy}/assign", new
        {
            assignments = targets.Select(t => new { target = new { groupId = t.Group, servicePlanId = t.Plan } }).ToArray(),
        });

    public async Task<PolicyBody> AssignAsync(Guid policy, params (Guid Group, Guid Plan)[] targets)
    {
        var response = await PostAssignAsync(policy, targets);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<PolicyBody>())!;
    }

    public async Task<Page<CloudPcBody>> CloudPcPageAsync(string query = "") => (await Admin.GetFromJsonAsync<Page<CloudPcBody>>("/api/v1/cloudPCs" + query))!;

    public async Task<List<CloudPcBody>> CloudPcsAsync() => (await CloudPcPageAsync()).Value;

    public async Task<CloudPcBody> GetCloudPcAsync(Guid id) => (await Admin.GetFromJsonAsync<CloudPcBody>($"/api/v1/cloudPCs/{id}"))!;

    /// <summary>Waits until one of the tenant's Cloud PCs matches and returns it.</summary>
    public async Task<CloudPcBody> WaitForCloudPcAsync(Func<CloudPcBody, bool> condition, string what, TimeSpan? timeout = null) =>
        (await Eventually.UntilAsync(CloudPcsAsync, list => list.Any(condition), what, timeout)).First(condition);

    /// <summary>Waits until the Cloud PC's record is gone (deprovisioned): its GET answers 404.</summary>
    public async Task WaitUntilGoneAsync(Guid id, TimeSpan? timeout = null) =>
        await Eventually.UntilAsync(async () =>
        {
            using var response = await Admin.GetAsync($"/api/v1/cloudPCs/{id}");
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }, r => r.StatusCode == HttpStatusCode.NotFound, $"Cloud PC {id} to be deprovisioned", timeout);

    public Task<HttpResponseMessage> PostActionAsync(Guid cloudPc, string action, object? body = null, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/cloudPCs/{cloudPc}/{action}") { Content = JsonContent.Create(body ?? new { }) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return Admin.SendAsync(request);
    }

    /// <summary>Runs an action, asserts 202 with a running or finished operation at its Location, and returns the operation.</summary>
    public async Task<OperationBody> ActAsync(Guid cloudPc, string action, object? body = null, string? idempotencyKey = null)
    {
        var response = await PostActionAsync(cloudPc, action, body, idempotencyKey);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{action}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var operation = (await response.Content.ReadFromJsonAsync<OperationBody>())!;
        Assert.Equal($"/api/v1/cloudPCs/{cloudPc}/operations/{operation.Id}", response.Headers.Location?.ToString());
        Assert.Equal(action, operation.Action);
        Assert.Equal(cloudPc, operation.CloudPcId);
        return operation;
    }

    public async Task<OperationBody> GetOperationAsync(Guid cloudPc, Guid operation) =>
        (await Admin.GetFromJsonAsync<OperationBody>($"/api/v1/cloudPCs/{cloudPc}/operations/{operation}"))!;

    /// <summary>Waits until the operation is no longer running and asserts that it succeeded.</summary>
    public async Task<OperationBody> WaitForSuccessAsync(OperationBody operation)
    {
        var done = await Eventually.UntilAsync(() => GetOperationAsync(operation.CloudPcId, operation.Id), o => o.Status != "running",
            $"operation {operation.Action} {operation.Id} to complete");
        Assert.True(done.Status == "succeeded", $"{done.Action} {done.Status}: {done.Detail}");
        Assert.NotNull(done.CompletedDateTime);
        return done;
    }

    /// <summary>Signs in as a user of the tenant (made with <see cref="CreateUserAsync"/>).</summary>
    public Task<HttpClient> SignInAsync(string name) => Host.Stratus.SignedInClientAsync(Upn(name), UserPassword);

    /// <summary>A new user with a role besides the `user` every account has, signed in after the role is given.</summary>
    public async Task<HttpClient> UserWithRoleAsync(string name, string role)
    {
        var id = await CreateUserAsync(name);
        var response = await Admin.PostAsJsonAsync("/api/v1/roleAssignments", new { principalId = id, roleDefinitionId = role });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await SignInAsync(name);
    }

    /// <summary>
    /// The whole path for one user: the user, a group with them in it, a license of the plan, a policy assigned to
    /// the group for the plan, and their Cloud PC, waited for until provisioned.
    /// </summary>
    public async Task<Provisioned> ProvisionAsync(string userName = "ada", Guid? plan = null, string region = "local-1", int gracePeriodInHours = 100, string policyName = "Developers")
    {
        var planId = plan ?? Plans.Small;
        var user = await CreateUserAsync(userName);
        var group = await CreateGroupAsync(policyName + " users");
        await AddMemberAsync(group, user);
        await AssignLicenseAsync(user, planId);
        var policy = await CreatePolicyAsync(policyName, region, gracePeriodInHours);
        policy = await AssignAsync(policy.Id, (group, planId));
        var pc = await WaitForCloudPcAsync(p => p.UserId == user && p.Status == "provisioned", $"{userName}'s Cloud PC to be provisioned");
        return new Provisioned(user, Upn(userName), group, policy, pc);
    }
}
