using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Provisioning;

/// <summary>
/// The whole path on real QEMU VMs under `stratus up`: directory changes make a Cloud PC with a running VM,
/// actions change it, removing the license ends it with its disks, and a crash mid-provisioning leaves one VM.
/// </summary>
public sealed partial class CloudPcOnQemuTests
{
    private const string SmallPlan = "5c1a0000-0000-4000-8000-000000010108";
    private const string LargePlan = "5c1a0000-0000-4000-8000-000000020216";

    private static readonly Dictionary<string, string?> Settings = new()
    {
        // One policy hour of grace lasts 4 s here, so that the end of a grace period is seen in a test.
        ["Stratus__Provisioning__GracePeriodHour"] = "00:00:04",
        ["Stratus__Compute__LongPollTimeout"] = "00:00:05",
    };

    [Fact]
    public async Task A_licensed_user_gets_a_running_vm_that_resizes_reprovisions_and_goes_with_its_disks_when_the_license_goes()
    {
        using var data = new TempFolder();
        await TinyImageFolder.InstallIntoAsync(data.Path);
        try
        {
            await using var stratus = await StratusProcess.StartAsync(["up"], data.Path, Settings);
            using var operatorClient = await stratus.OperatorClientAsync();
            var tenant = await Directory.CreateAsync(stratus, operatorClient, gracePeriodInHours: 1);

            var pc = await tenant.WaitForCloudPcAsync(p => p.Status == "provisioned", "the Cloud PC to be provisioned");
            Assert.Equal("running", pc.PowerState);
            Assert.Equal(Guid.Parse(SmallPlan), pc.ServicePlanId);
            Assert.Equal("local-1", pc.RegionName);
            Assert.Matches("^CPC-ADA-[A-Z0-9]{5}$", pc.ManagedDeviceName);
            var vm = Assert.Single(await VmsAsync(operatorClient));
            Assert.True(vm.Ready);
            Assert.Equal(1, vm.VCpuCount);
            Assert.Single(QemuProcesses.Running(data.Path));

            // Resize to the larger plan: it takes a free seat of it, and moves the user's license there.
            Assert.Equal(HttpStatusCode.OK, (await operatorClient.PutAsJsonAsync($"/api/v1/tenants/{tenant.TenantId}/subscribedSkus/{LargePlan}", new { prepaidUnits = 0 })).StatusCode);
            var refused = await tenant.Admin.PostAsJsonAsync($"/api/v1/cloudPCs/{pc.Id}/resize", new { targetServicePlanId = LargePlan });
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Contains("seats", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal("provisioned", (await tenant.CloudPcsAsync()).Single().Status);
            Assert.Equal(HttpStatusCode.OK, (await operatorClient.PutAsJsonAsync($"/api/v1/tenants/{tenant.TenantId}/subscribedSkus/{LargePlan}", new { prepaidUnits = 1 })).StatusCode);
            var resize = await tenant.ActAsync(pc.Id, "resize", new { targetServicePlanId = LargePlan });
            await tenant.WaitForOperationAsync(pc.Id, resize, TimeSpan.FromMinutes(3));
            pc = await tenant.WaitForCloudPcAsync(p => p.Id == pc.Id && p.Status == "provisioned" && p.ServicePlanId == Guid.Parse(LargePlan), "the resize");
            var skus = (await tenant.Admin.GetFromJsonAsync<List<SkuBody>>("/api/v1/subscribedSkus"))!;
            Assert.Equal(1, skus.Single(s => s.SkuId == Guid.Parse(LargePlan)).ConsumedUnits);
            Assert.Equal(0, skus.Single(s => s.SkuId == Guid.Parse(SmallPlan)).ConsumedUnits);
            vm = Assert.Single(await VmsAsync(operatorClient));
            Assert.Equal(2, vm.VCpuCount);
            Assert.Equal(2048, vm.MemoryMiB);

            // Reprovision: a new VM from the policy as it is now; the old VM and its disk are gone.
            var oldVm = vm.Id;
            var reprovision = await tenant.ActAsync(pc.Id, "reprovision", null);
            await tenant.WaitForOperationAsync(pc.Id, reprovision, TimeSpan.FromMinutes(3));
            vm = Assert.Single(await Eventually.MatchesAsync(() => VmsAsync(operatorClient), v => v.Count == 1 && v[0].Id != oldVm && v[0].Ready, "one new ready VM"));
            Assert.DoesNotContain(QemuProcesses.VmFolders(data.Path), f => f.EndsWith(oldVm.ToString("N"), StringComparison.Ordinal) || f.EndsWith(oldVm.ToString(), StringComparison.Ordinal));
            Assert.Single(QemuProcesses.VmFolders(data.Path));

            // The license goes: a grace period (one policy hour, 4 s here), then the Cloud PC, its VM and its disk go.
            await tenant.RemoveLicenseAsync(LargePlan);
            var inGrace = await tenant.WaitForCloudPcAsync(p => p.Status == "inGracePeriod", "the grace period");
            Assert.NotNull(inGrace.GracePeriodEndDateTime);
            await Eventually.MatchesAsync(() => tenant.CloudPcsAsync(), l => l.Count(p => p.ServicePlanId == Guid.Parse(LargePlan)) == 0, "the Cloud PC to be deprovisioned", TimeSpan.FromMinutes(2));
            await Eventually.MatchesAsync(() => VmsAsync(operatorClient), v => v.Count == 0 || v.All(x => x.Id != vm.Id), "the VM to be deleted");
            await Eventually.MatchesAsync(() => Task.FromResult(QemuProcesses.VmFolders(data.Path).Count), c => c == 0 || !QemuProcesses.VmFolders(data.Path).Any(f => f.Contains(vm.Id.ToString(), StringComparison.Ordinal)), "the disk to be deleted");
        }
        finally
        {
            QemuProcesses.KillAll(data.Path);
        }
    }

    [Fact]
    public async Task A_crash_in_the_middle_of_provisioning_resumes_after_restart_with_exactly_one_vm()
    {
        using var data = new TempFolder();
        await TinyImageFolder.InstallIntoAsync(data.Path);
        try
        {
            Tenant tenant;
            await using (var first = await StratusProcess.StartAsync(["up"], data.Path, Settings))
            {
                using var operatorClient = await first.OperatorClientAsync();
                tenant = await Directory.CreateAsync(first, operatorClient, gracePeriodInHours: 168);

                // Kill -9 once provisioning has started and before the VM is ready.
                await tenant.WaitForCloudPcAsync(p => p.Status == "provisioning", "provisioning to start", TimeSpan.FromSeconds(60));
                first.Kill();
            }

            await using var second = await StratusProcess.StartAsync(["up"], data.Path, Settings);
            using var again = await second.OperatorClientAsync();
            var admin = await second.SignedInClientAsync(tenant.AdminUserName, Directory.Password);
            var resumed = tenant with { Stratus = second, Admin = admin };
            var pc = await resumed.WaitForCloudPcAsync(p => p.Status == "provisioned", "the provisioning to resume and finish", TimeSpan.FromMinutes(4));
            Assert.Single(await resumed.CloudPcsAsync());

            // Exactly one VM and one QEMU process for the one Cloud PC, however many steps ran twice.
            var vms = await Eventually.MatchesAsync(() => VmsAsync(again), v => v.Count == 1 && v[0].Ready, "one ready VM");
            Assert.Single(vms);
            await Eventually.MatchesAsync(() => Task.FromResult(QemuProcesses.Running(data.Path).Count), c => c == 1, "one QEMU process");
            await Eventually.MatchesAsync(() => Task.FromResult(QemuProcesses.VmFolders(data.Path).Count), c => c == 1, "one VM folder (no orphan disk)");
            Assert.Equal("running", pc.PowerState);
        }
        finally
        {
            QemuProcesses.KillAll(data.Path);
        }
    }

    [Fact]
    public async Task A_restore_returns_the_disk_to_its_restore_point_and_resumes_after_a_crash_in_the_middle()
    {
        // The control plane stays away longer than a heartbeat timeout: its host's silence meanwhile is its own.
        var heartbeatTimeout = TimeSpan.FromSeconds(15);
        var settings = new Dictionary<string, string?>(Settings) { ["Stratus__Compute__HeartbeatTimeout"] = heartbeatTimeout.ToString() };
        using var data = new TempFolder();
        await TinyImageFolder.InstallIntoAsync(data.Path);
        try
        {
            Tenant tenant;
            Guid cloudPcId;
            Guid pointId;
            Guid restoreId;
            await using (var first = await StratusProcess.StartAsync(["up"], data.Path, settings))
            {
                using var operatorClient = await first.OperatorClientAsync();
                tenant = await Directory.CreateAsync(first, operatorClient, gracePeriodInHours: 168);
                cloudPcId = (await tenant.WaitForCloudPcAsync(p => p.Status == "provisioned", "the Cloud PC to be provisioned")).Id;

                // A file on the persistent disk (/home), a restore point, then the file changed.
                await using (var console = await ConsoleOfTheOnlyVmAsync(data.Path))
                {
                    Assert.Equal("as-at-the-point", await console.RunAsync("echo as-at-the-point > /home/note.txt && sync && cat /home/note.txt"));
                }

                pointId = await tenant.ActAsync(cloudPcId, "createSnapshot", null);
                await tenant.WaitForOperationAsync(cloudPcId, pointId, TimeSpan.FromMinutes(2));
                await using (var console = await ConsoleOfTheOnlyVmAsync(data.Path))
                {
                    Assert.Equal("changed-later", await console.RunAsync("echo changed-later > /home/note.txt && sync && cat /home/note.txt"));
                }

                // Restore, and kill -9 the whole control plane (and its embedded host agent) as soon as it is accepted.
                restoreId = await tenant.ActAsync(cloudPcId, "restore", new { cloudPcSnapshotId = pointId });
                Assert.Equal("restoring", (await tenant.CloudPcsAsync()).Single().Status);
                first.Kill();
            }

            await Task.Delay(heartbeatTimeout + TimeSpan.FromSeconds(2));
            await using var second = await StratusProcess.StartAsync(["up"], data.Path, settings);
            var admin = await second.SignedInClientAsync(tenant.AdminUserName, Directory.Password);
            var resumed = tenant with { Stratus = second, Admin = admin };
            await resumed.WaitForOperationAsync(cloudPcId, restoreId, TimeSpan.FromMinutes(4));
            var pc = await resumed.WaitForCloudPcAsync(p => p.Status == "provisioned", "the Cloud PC to be provisioned again after the restore");
            Assert.Equal(cloudPcId, pc.Id);
            var points = (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/cloudPCs/{cloudPcId}/snapshots")).GetProperty("value").EnumerateArray().ToList();
            Assert.NotEqual(JsonValueKind.Null, points.Single(p => p.GetProperty("id").GetGuid() == pointId).GetProperty("lastRestoredDateTime").ValueKind);

            // The guest booted from the disk as it was at the point.
            var note = await Eventually.MatchesAsync(async () =>
            {
                try
                {
                    await using var console = await ConsoleOfTheOnlyVmAsync(data.Path);
                    return await console.RunAsync("cat /home/note.txt", TimeSpan.FromSeconds(10));
                }
                catch (Exception e) when (e is TimeoutException or System.Net.Sockets.SocketException)
                {
                    return e.Message;
                }
            }, text => text is "as-at-the-point" or "changed-later", "the guest to answer on its serial console", TimeSpan.FromMinutes(3));
            Assert.Equal("as-at-the-point", note);
            Assert.Single(QemuProcesses.Running(data.Path));

            // The point exported as a standalone qcow2 file, in the Cloud PC's own folder.
            var export = await admin.PostAsync($"/api/v1/cloudPCs/{cloudPcId}/snapshots/{pointId}/export", null);
            Assert.Equal(HttpStatusCode.Accepted, export.StatusCode);
            var exportId = (await export.Content.ReadFromJsonAsync<OperationBody>())!.Id;
            await resumed.WaitForOperationAsync(cloudPcId, exportId, TimeSpan.FromMinutes(2));
            var file = (await admin.GetFromJsonAsync<OperationBody>($"/api/v1/cloudPCs/{cloudPcId}/operations/{exportId}"))!.Detail!;
            Assert.StartsWith(Path.Combine(data.Path, "exports", pc.ManagedDeviceName + "-"), file, StringComparison.Ordinal);
            var info = await ProcessRunner.RunAsync("qemu-img", ["info", "--output=json", file], TimeSpan.FromSeconds(30));
            Assert.True(info.ExitCode == 0, info.StandardError);
            var image = JsonDocument.Parse(info.StandardOutput).RootElement;
            Assert.Equal("qcow2", image.GetProperty("format").GetString());
            Assert.False(image.TryGetProperty("backing-filename", out _), "the export stands alone");
        }
        finally
        {
            QemuProcesses.KillAll(data.Path);
        }
    }

    /// <summary>
    /// The serial console of the one VM under the data folder, reached through a short link: a unix socket's path
    /// must be under 108 characters, and the test's data folder is deep.
    /// </summary>
    private static Task<SerialConsole> ConsoleOfTheOnlyVmAsync(string dataFolder) => ConsoleOfVmAsync(Assert.Single(QemuProcesses.VmFolders(dataFolder)));

    /// <summary>The serial console of the VM whose folder is given, through a short link (see <see cref="ConsoleOfTheOnlyVmAsync"/>).</summary>
    private static async Task<SerialConsole> ConsoleOfVmAsync(string vmFolder)
    {
        var link = Path.Combine(Path.GetTempPath(), $"vm-{Guid.NewGuid():N}"[..11]);
        File.CreateSymbolicLink(link, vmFolder);
        try
        {
            return await SerialConsole.ConnectAsync(Path.Combine(link, "serial.sock"));
        }
        finally
        {
            // The socket stays connected once opened; the link is only needed to open it.
            File.Delete(link);
        }
    }

    private static async Task<List<VmBody>> VmsAsync(HttpClient operatorClient) =>
        (await operatorClient.GetFromJsonAsync<List<VmBody>>("/api/v1/vms"))!.Where(v => !v.DeleteRequested).ToList();

    private sealed record VmBody(Guid Id, bool Ready, int VCpuCount, int MemoryMiB, bool DeleteRequested);

    internal sealed record CloudPcBody(Guid Id, string Status, string PowerState, Guid ServicePlanId, string RegionName, string ManagedDeviceName, DateTimeOffset? GracePeriodEndDateTime);

    private sealed record SkuBody(Guid SkuId, int ConsumedUnits);

    private sealed record Page<T>(List<T> Value, int TotalCount);

    private sealed record OperationBody(Guid Id, string Status, string? Detail);

    private static class Directory
    {
        public const string Password = "tenant-admin-pass-1";

        /// <summary>
        /// A tenant with a user in a group that a policy gives the small plan, and the user's license. The policy's
        /// network connections (in order) are those <paramref name="networkConnections"/> makes with the admin's client;
        /// none: the hosted network.
        /// </summary>
        public static async Task<Tenant> CreateAsync(StratusProcess stratus, HttpClient operatorClient, int gracePeriodInHours,
            Func<HttpClient, Task<IReadOnlyList<string>>>? networkConnections = null)
        {
            var domain = $"t{Guid.NewGuid():N}"[..12] + ".test";
            var created = await operatorClient.PostAsJsonAsync("/api/v1/tenants", new { displayName = "Contoso", domain, admin = new { userName = $"admin@{domain}", password = Password } });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var tenantId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tenant").GetProperty("id").GetGuid();
            foreach (var plan in new[] { SmallPlan, LargePlan })
            {
                Assert.Equal(HttpStatusCode.OK, (await operatorClient.PutAsJsonAsync($"/api/v1/tenants/{tenantId}/subscribedSkus/{plan}", new { prepaidUnits = 2 })).StatusCode);
            }

            var admin = await stratus.SignedInClientAsync($"admin@{domain}", Password);
            var user = await Created(await admin.PostAsJsonAsync("/api/v1/users", new
            {
                userPrincipalName = $"ada@{domain}", displayName = "Ada", accountEnabled = true, passwordProfile = new { password = "ada-password-123" },
            }));
            var group = await Created(await admin.PostAsJsonAsync("/api/v1/groups", new { displayName = "Cloud PC users" }));
            Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsJsonAsync($"/api/v1/groups/{group}/members", new { id = user })).StatusCode);
            IReadOnlyList<string>? networkConnectionIds = networkConnections is null ? null : await networkConnections(admin);
            var policy = await Created(await admin.PostAsJsonAsync("/api/v1/provisioningPolicies", new
            {
                displayName = "Tiny Linux", imageId = TinyImageFolder.ImageId, imageType = "gallery", regionNames = new[] { "local-1" }, gracePeriodInHours,
                networkConnectionIds,
            }));
            var assignments = new[] { new { target = new { groupId = group, servicePlanId = Guid.Parse(SmallPlan) } } };
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync($"/api/v1/provisioningPolicies/{policy}/assign", new { assignments })).StatusCode);
            var tenant = new Tenant(stratus, admin, $"admin@{domain}", user, tenantId, group, domain);
            await tenant.AssignLicenseAsync(SmallPlan);
            return tenant;
        }

        public static async Task<Guid> Created(HttpResponseMessage response)
        {
            Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        }
    }

    private sealed record Tenant(StratusProcess Stratus, HttpClient Admin, string AdminUserName, Guid UserId, Guid TenantId, Guid GroupId, string Domain)
    {
        public async Task AssignLicenseAsync(string plan) => Assert.Equal(HttpStatusCode.OK, (await Admin.PostAsJsonAsync($"/api/v1/users/{UserId}/assignLicense",
            new { addLicenses = new[] { new { skuId = Guid.Parse(plan) } }, removeLicenses = Array.Empty<Guid>() })).StatusCode);

        public async Task RemoveLicenseAsync(string plan) => Assert.Equal(HttpStatusCode.OK, (await Admin.PostAsJsonAsync($"/api/v1/users/{UserId}/assignLicense",
            new { addLicenses = Array.Empty<object>(), removeLicenses = new[] { Guid.Parse(plan) } })).StatusCode);

        public async Task<List<CloudPcBody>> CloudPcsAsync() => (await Admin.GetFromJsonAsync<Page<CloudPcBody>>("/api/v1/cloudPCs"))!.Value;

        public async Task<CloudPcBody> WaitForCloudPcAsync(Func<CloudPcBody, bool> condition, string what, TimeSpan? timeout = null)
        {
            var list = await Eventually.MatchesAsync(CloudPcsAsync, l => l.Any(condition), what, timeout ?? TimeSpan.FromMinutes(3));
            return list.First(condition);
        }

        public async Task<Guid> ActAsync(Guid cloudPc, string action, object? body)
        {
            var response = await Admin.PostAsJsonAsync($"/api/v1/cloudPCs/{cloudPc}/{action}", body ?? new { });
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{action}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            return (await response.Content.ReadFromJsonAsync<OperationBody>())!.Id;
        }

        public async Task WaitForOperationAsync(Guid cloudPc, Guid operation, TimeSpan timeout)
        {
            var done = await Eventually.MatchesAsync(() => Admin.GetFromJsonAsync<OperationBody>($"/api/v1/cloudPCs/{cloudPc}/operations/{operation}")!,
                o => o!.Status != "running", "the operation to complete", timeout);
            Assert.True(done!.Status == "succeeded", $"operation {operation}: {done.Status} {done.Detail}");
        }
    }
}
