using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.Compute.Tests;

/// <summary>
/// Recover is compute's own record of a recovery from a lost host: a user or service asking for an operation is told
/// only the kinds they can ask for, and asking for Recover is refused as any unknown kind is.
/// </summary>
public sealed class VmOperationKindTests(ComputeHost compute) : IClassFixture<ComputeHost>
{
    private const string Requestable = "Restart, CreateSnapshot, RevertSnapshot, DeleteSnapshot, ExportSnapshot, CopyDisk";

    [Theory]
    [InlineData("Reboot")]
    [InlineData("Recover")]
    [InlineData("recover")]
    public async Task An_operation_of_a_kind_one_cannot_ask_for_is_refused_naming_only_the_kinds_one_can(string kind)
    {
        using var agent = await compute.EnrollAsync("test-1", "test-1a");
        var placed = await compute.PlaceAsync("test-1");
        Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
        var vmId = (await placed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        var refused = await compute.Operator.PostAsJsonAsync($"/api/v1/vms/{vmId}/operations", new { kind });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var message = (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").GetProperty("kind")[0].GetString()!;
        Assert.Equal($"'kind' must be one of {Requestable}, not '{kind}'.", message);
    }
}
