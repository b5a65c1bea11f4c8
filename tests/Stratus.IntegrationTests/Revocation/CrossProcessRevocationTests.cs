using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Revocation;

/// <summary>
/// Revocation across processes: identity in one `stratus run`, provisioning in another on the same PostgreSQL
/// database. The provisioning process learns of a disabled user only from identity's revocations, over HTTP.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CrossProcessRevocationTests(PostgresServer postgres)
{
    [Fact]
    public async Task Another_process_refuses_a_disabled_users_token_within_a_minute()
    {
        var database = await postgres.CreateDatabaseAsync();
        using var identityData = new TempFolder();
        using var provisioningData = new TempFolder();
        await using var identity = await StratusProcess.StartAsync(["run", "--targets", "identity", "--database", database], identityData.Path, DeploymentSecrets.With());
        await using var provisioning = await StratusProcess.StartAsync(["run", "--targets", "provisioning", "--database", database], provisioningData.Path,
            DeploymentSecrets.With(new Dictionary<string, string?> { ["Stratus__Services__identity__Url"] = identity.BaseAddress.ToString() }));

        using var tenant = await RevocationTenant.CreateAsync(identity);
        var userId = await tenant.CreateUserAsync("paul");
        using var signedIn = await identity.Http.RequestTokenAsync($"paul@{tenant.Domain}", RevocationTenant.Password);
        var token = (await signedIn.Content.ReadFromJsonAsync<TokenBody>())!.AccessToken;
        using var atProvisioning = new HttpClient { BaseAddress = provisioning.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        atProvisioning.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        await RevocationTenant.AnswersAsync(atProvisioning, "/api/v1/me/cloudPCs");

        var since = Stopwatch.StartNew();
        using (var disabled = await tenant.Admin.PatchAsJsonAsync($"/api/v1/users/{userId}", new { accountEnabled = false }))
        {
            Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        }

        await RevocationTenant.RefusedWithinLimitAsync(atProvisioning, "/api/v1/me/cloudPCs", since, "the disabled user's token at the provisioning process");
    }
}
