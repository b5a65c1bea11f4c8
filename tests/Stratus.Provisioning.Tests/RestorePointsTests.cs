using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Provisioning.Tests.Support;

namespace Stratus.Provisioning.Tests;

/// <summary>A `stratus up --hosts simulated` whose restore point hour lasts one second: twelveHours is a point every 12 s.</summary>
public sealed class RestorePointsHost : ProvisioningHost
{
    protected override IReadOnlyDictionary<string, string?> ExtraSettings { get; } = new Dictionary<string, string?>
    {
        ["Stratus__Provisioning__RestorePointHour"] = "00:00:01",
        ["Stratus__Provisioning__RestorePointScanInterval"] = "00:00:01",
    };
}

/// <summary>Restore points through the public API: schedule, manual points, restore, export, bulk restore, users, refusals, isolation.</summary>
public sealed class RestorePointsTests(RestorePointsHost host) : IClassFixture<RestorePointsHost>
{
    public sealed record PointBody(
        Guid Id, Guid CloudPcId, string SnapshotType, string Retention, string Status, DateTimeOffset CreatedDateTime,
        DateTimeOffset? ExpirationDateTime, DateTimeOffset? LastRestoredDateTime, string? ExportedTo);

    private sealed record PointList(List<PointBody> Value);

    private sealed record BulkItem(Guid CloudPcId, int Status, Guid? OperationId, string? Error);

    private sealed record BulkResult(string Action, int Succeeded, int Failed, List<BulkItem> Value);

    [Fact]
    public async Task Points_are_taken_on_schedule_and_a_cloud_pc_is_restored_exported_and_bulk_restored_to_one()
    {
        using var tenant = await host.CreateTenantAsync("rp");
        var pc = (await tenant.ProvisionAsync()).CloudPc;

        // Every 12 s here (twelveHours of 1 s); the first automatic point is kept long-term, the next short-term.
        var points = await Eventually.UntilAsync(() => PointsAsync(tenant.Admin, pc.Id), l => l.Count(p => p.Status == "ready" && p.SnapshotType == "automatic") >= 2,
            "two automatic restore points", TimeSpan.FromSeconds(60));
        var ready = points.Where(p => p.Status == "ready").OrderBy(p => p.CreatedDateTime).ToList();
        Assert.Equal(["longTerm", "shortTerm"], ready.Take(2).Select(p => p.Retention));
        // A point's time is when its host finished the snapshot, which lags its slot by a few seconds under load (seen
        // in CI: 10 s apart, not 12). Two points of one slot would be at most a second apart.
        var apart = ready[1].CreatedDateTime - ready[0].CreatedDateTime;
        Assert.True(apart >= TimeSpan.FromSeconds(6), $"points are a period (12 s) apart, not taken twice in one slot: {apart.TotalSeconds:0.0} s");
        Assert.Equal(points.OrderByDescending(p => p.CreatedDateTime).Select(p => p.Id), points.Select(p => p.Id));

        // A manual point lasts 28 days; a second one replaces it.
        var first = await tenant.WaitForSuccessAsync(await tenant.ActAsync(pc.Id, "createSnapshot"));
        var manual = Assert.Single(await PointsAsync(tenant.Admin, pc.Id), p => p.Id == first.Id);
        Assert.Equal(("manual", "manual", "ready"), (manual.SnapshotType, manual.Retention, manual.Status));
        Assert.Equal(manual.CreatedDateTime.AddDays(28), manual.ExpirationDateTime);
        var second = await tenant.WaitForSuccessAsync(await tenant.ActAsync(pc.Id, "createSnapshot"));
        await Eventually.UntilAsync(() => PointsAsync(tenant.Admin, pc.Id), l => l.Count(p => p.SnapshotType == "manual") == 1 && l.Any(p => p.Id == second.Id),
            "the second manual point to replace the first");

        // Restore to the first automatic point: restoring, then provisioned again, and the point says when.
        var restore = await tenant.ActAsync(pc.Id, "restore", new { cloudPcSnapshotId = ready[0].Id });
        await tenant.WaitForSuccessAsync(restore);
        Assert.Equal("provisioned", (await tenant.GetCloudPcAsync(pc.Id)).Status);
        Assert.NotNull(Assert.Single(await PointsAsync(tenant.Admin, pc.Id), p => p.Id == ready[0].Id).LastRestoredDateTime);

        // Export: one folder per Cloud PC under the data folder's exports.
        var export = await tenant.Admin.PostAsync($"/api/v1/cloudPCs/{pc.Id}/snapshots/{ready[1].Id}/export", null);
        Assert.Equal(HttpStatusCode.Accepted, export.StatusCode);
        var exported = await tenant.WaitForSuccessAsync((await export.Content.ReadFromJsonAsync<OperationBody>())!);
        var expectedFolder = Path.Combine(Path.GetFullPath(host.DataPath), "exports", $"{pc.ManagedDeviceName}-{pc.Id:N}");
        Assert.Equal(expectedFolder, Path.GetDirectoryName(exported.Detail));
        Assert.EndsWith(".qcow2", exported.Detail, StringComparison.Ordinal);
        Assert.Equal(exported.Detail, Assert.Single(await PointsAsync(tenant.Admin, pc.Id), p => p.Id == ready[1].Id).ExportedTo);

        // Bulk restore to a time: the point closest before it; a time before any point restores nothing.
        var bulk = await BulkRestoreAsync(tenant, [pc.Id], ready[1].CreatedDateTime);
        var item = Assert.Single(bulk.Value);
        Assert.Equal((202, null), (item.Status, item.Error));
        await tenant.WaitForSuccessAsync(await tenant.GetOperationAsync(pc.Id, item.OperationId!.Value));
        Assert.NotNull(Assert.Single(await PointsAsync(tenant.Admin, pc.Id), p => p.Id == ready[1].Id).LastRestoredDateTime);

        var tooEarly = await BulkRestoreAsync(tenant, [pc.Id, Guid.NewGuid()], ready[0].CreatedDateTime.AddDays(-1));
        Assert.Equal((0, 2), (tooEarly.Succeeded, tooEarly.Failed));
        Assert.Contains("no ready restore point before", tooEarly.Value[0].Error, StringComparison.Ordinal);
        Assert.Equal(404, tooEarly.Value[1].Status);
    }

    [Fact]
    public async Task Bad_restores_are_refused_clearly_and_change_nothing()
    {
        using var tenant = await host.CreateTenantAsync("rq");
        var ada = (await tenant.ProvisionAsync("ada")).CloudPc;
        var grace = (await tenant.ProvisionAsync("bob", policyName: "Testers")).CloudPc;
        var adaPoint = await PointOfAsync(tenant, ada.Id);
        var bobPoint = await PointOfAsync(tenant, grace.Id);

        await Problem.AssertValidationAsync(await tenant.PostActionAsync(ada.Id, "restore", new { }), "cloudPcSnapshotId");
        var otherPcs = await Problem.AssertValidationAsync(await tenant.PostActionAsync(ada.Id, "restore", new { cloudPcSnapshotId = bobPoint }), "cloudPcSnapshotId");
        Assert.Contains($"{ada.ManagedDeviceName} has no restore point {bobPoint}", otherPcs, StringComparison.Ordinal);
        await Problem.AssertValidationAsync(await tenant.PostActionAsync(ada.Id, "restore", new { cloudPcSnapshotId = Guid.NewGuid() }), "cloudPcSnapshotId");

        // Another tenant sees none of it.
        using var other = await host.CreateTenantAsync("rr");
        Assert.Equal(HttpStatusCode.NotFound, (await other.Admin.GetAsync($"/api/v1/cloudPCs/{ada.Id}/snapshots")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.PostActionAsync(ada.Id, "restore", new { cloudPcSnapshotId = adaPoint })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.PostActionAsync(ada.Id, "createSnapshot")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.Admin.PostAsync($"/api/v1/cloudPCs/{ada.Id}/snapshots/{adaPoint}/export", null)).StatusCode);
        var otherBulk = await BulkRestoreAsync(other, [ada.Id], TimeProvider.System.GetUtcNow());
        Assert.Equal(404, Assert.Single(otherBulk.Value).Status);

        // Not provisioned: in its grace period, or reprovisioning (whose new disk has none of the old points).
        await tenant.RemoveLicenseAsync(grace.UserId, Plans.Small);
        await tenant.WaitForCloudPcAsync(p => p.Id == grace.Id && p.Status == "inGracePeriod", "bob's grace period");
        var inGrace = await Problem.AssertConflictAsync(await tenant.PostActionAsync(grace.Id, "restore", new { cloudPcSnapshotId = bobPoint }), "action-not-allowed");
        Assert.Contains("while it is inGracePeriod", inGrace, StringComparison.Ordinal);
        await Problem.AssertConflictAsync(await tenant.PostActionAsync(grace.Id, "createSnapshot"), "action-not-allowed");

        await tenant.ActAsync(ada.Id, "reprovision");
        var busy = await tenant.PostActionAsync(ada.Id, "restore", new { cloudPcSnapshotId = adaPoint });
        Assert.True(busy.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.BadRequest, await busy.Content.ReadAsStringAsync());
        await tenant.WaitForCloudPcAsync(p => p.Id == ada.Id && p.Status == "provisioned", "the reprovision");
        Assert.DoesNotContain(await PointsAsync(tenant.Admin, ada.Id), p => p.Id == adaPoint);
        await Problem.AssertValidationAsync(await tenant.PostActionAsync(ada.Id, "restore", new { cloudPcSnapshotId = adaPoint }), "cloudPcSnapshotId");

        // Bulk restore input is checked by field.
        var badBulk = await tenant.Admin.PostAsJsonAsync("/api/v1/cloudPCs/bulkRestore", new { cloudPcIds = Array.Empty<Guid>(), timeRange = "sometime" });
        await Problem.AssertValidationAsync(badBulk, "cloudPcIds", "restorePointDateTime", "timeRange");

        // Nothing of the above left a restore running.
        Assert.Equal("provisioned", (await tenant.GetCloudPcAsync(ada.Id)).Status);
        Assert.Equal("inGracePeriod", (await tenant.GetCloudPcAsync(grace.Id)).Status);
    }

    [Fact]
    public async Task Users_list_and_restore_their_own_cloud_pc_only_when_their_setting_allows_it()
    {
        using var tenant = await host.CreateTenantAsync("ru");
        var provisioned = await tenant.ProvisionAsync("ada");
        var pc = provisioned.CloudPc;
        var point = await PointOfAsync(tenant, pc.Id);
        var bob = await tenant.CreateUserAsync("bob");
        await tenant.AddMemberAsync(provisioned.GroupId, bob);
        using var ada = await tenant.SignInAsync("ada");
        using var bobClient = await tenant.SignInAsync("bob");

        var refused = await Problem.AssertAsync(await ada.GetAsync($"/api/v1/me/cloudPCs/{pc.Id}/snapshots"), HttpStatusCode.Forbidden);
        Assert.Contains("userRestoreEnabled", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await Problem.AssertAsync(await ada.PostAsJsonAsync($"/api/v1/me/cloudPCs/{pc.Id}/restore", new { cloudPcSnapshotId = point }), HttpStatusCode.Forbidden);
        Assert.Equal("provisioned", (await tenant.GetCloudPcAsync(pc.Id)).Status);

        var setting = await tenant.Admin.PostAsJsonAsync("/api/v1/userSettings", new { displayName = "Self-service", restorePointSetting = new { frequencyType = "twentyFourHours", userRestoreEnabled = true } });
        Assert.Equal(HttpStatusCode.Created, setting.StatusCode);
        var settingId = (await setting.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var assign = await tenant.Admin.PostAsJsonAsync($"/api/v1/userSettings/{settingId}/assign", new { assignments = new[] { new { target = new { groupId = provisioned.GroupId }, priority = 1 } } });
        Assert.Equal(HttpStatusCode.OK, assign.StatusCode);

        var mine = await Eventually.UntilAsync(async () => (await ada.GetAsync($"/api/v1/me/cloudPCs/{pc.Id}/snapshots")).StatusCode, s => s == HttpStatusCode.OK, "the setting to let ada restore");
        Assert.Contains(await PointsAsync(ada, pc.Id, "/api/v1/me/cloudPCs"), p => p.Id == point);

        // Bob has the same setting, but ada's Cloud PC is not his.
        Assert.Equal(HttpStatusCode.NotFound, (await bobClient.GetAsync($"/api/v1/me/cloudPCs/{pc.Id}/snapshots")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bobClient.PostAsJsonAsync($"/api/v1/me/cloudPCs/{pc.Id}/restore", new { cloudPcSnapshotId = point })).StatusCode);

        var restore = await ada.PostAsJsonAsync($"/api/v1/me/cloudPCs/{pc.Id}/restore", new { cloudPcSnapshotId = point });
        Assert.Equal(HttpStatusCode.Accepted, restore.StatusCode);
        await tenant.WaitForSuccessAsync((await restore.Content.ReadFromJsonAsync<OperationBody>())!);
        Assert.Equal("provisioned", (await tenant.GetCloudPcAsync(pc.Id)).Status);
    }

    private static async Task<List<PointBody>> PointsAsync(HttpClient client, Guid cloudPc, string root = "/api/v1/cloudPCs") =>
        (await client.GetFromJsonAsync<PointList>($"{root}/{cloudPc}/snapshots"))!.Value;

    private static async Task<Guid> PointOfAsync(TestTenant tenant, Guid cloudPc) =>
        (await tenant.WaitForSuccessAsync(await tenant.ActAsync(cloudPc, "createSnapshot"))).Id;

    private static async Task<BulkResult> BulkRestoreAsync(TestTenant tenant, Guid[] ids, DateTimeOffset time)
    {
        var response = await tenant.Admin.PostAsJsonAsync("/api/v1/cloudPCs/bulkRestore", new { cloudPcIds = ids, restorePointDateTime = time, timeRange = "before" });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<BulkResult>())!;
    }
}
