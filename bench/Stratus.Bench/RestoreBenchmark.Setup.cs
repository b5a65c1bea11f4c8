using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Drivers.Qemu;

using Stratus.Testing;

namespace Stratus.Bench;

/// <summary>The restore benchmark's set-up and waits: the driver's clean-up, the image, the host, the tenant, operations and Cloud PCs.</summary>
internal static partial class RestoreBenchmark
{
    private static async Task CleanUpDriverAsync(QemuDriver driver, string data)
    {
        // Once after A, and again in the benchmark's finally (a failure or a cancellation during A): the driver's
        // lock file says whether its VMs are still to be deleted.
        var driverLock = Path.Combine(data, "driver.lock");
        if (File.Exists(driverLock))
        {
            try
            {
                // Not cancellable: a VM left running would slow B (and outlive the benchmark).
                foreach (var vm in await driver.ListAsync(CancellationToken.None))
                {
                    await driver.DeleteAsync(VmTombstone.Issue(vm.Id), CancellationToken.None);
                }
            }
            catch (Exception exception) when (exception is VmDriverException or TimeoutException or IOException)
            {
                Console.Error.WriteLine($"Deleting the VM failed ({exception.Message}); its QEMU process is killed instead.");
            }

            driver.Dispose();
            Machine.KillQemuProcesses(data + "/");
            File.Delete(driverLock);
        }

        if (Directory.Exists(data))
        {
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>The image's files (not its build cache) into the gallery, as `make up` installs it.</summary>
    internal static void InstallImage(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }
    }

    /// <summary>The VM folder of the Cloud PC's VM, where QEMU's serial socket and the disk are.</summary>
    private static string VmFolder(string data, Guid vmId) =>
        Directory.GetDirectories(Path.Combine(data, "hosts"))
            .SelectMany(host => new[] { vmId.ToString(), vmId.ToString("N") }.Select(id => Path.Combine(host, "vms", id)))
            .FirstOrDefault(folder => File.Exists(Path.Combine(folder, "vm.json")))
        ?? throw new InvalidOperationException($"No folder of VM {vmId} under {data}/hosts.");

    /// <summary>Both embedded hosts ready on QEMU; the accelerator the host of the policy's region reports.</summary>
    private static async Task<string> WaitForHostAsync(StratusApi operatorApi, StratusChild stratus, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromMinutes(3))
        {
            var hosts = await operatorApi.GetAsync<List<HostItem>>("/api/v1/hosts", cancellationToken);
            if (hosts.FirstOrDefault(h => h is { State: "ready", Driver: "qemu", Region: Region }) is { } host)
            {
                Console.Error.WriteLine($"Host ready: {host.Name} ({host.Region}, {host.Accelerator}); load {Machine.LoadAverage()}");
                return host.Accelerator;
            }

            if (stratus.HasExited)
            {
                throw new InvalidOperationException("stratus exited before its hosts were ready.");
            }

            await Task.Delay(500, cancellationToken);
        }

        throw new TimeoutException($"No QEMU host of {Region} was ready within 3 minutes.");
    }

    /// <summary>A tenant with one seat of the small plan, a user in a group, and a policy that gives the group the plan in local-1.</summary>
    internal static async Task<(StratusApi Admin, Guid UserId)> SetUpTenantAsync(StratusApi operatorApi, Uri baseAddress, CancellationToken cancellationToken)
    {
        var tenant = await operatorApi.SendAsync<JsonElement>(HttpMethod.Post, "/api/v1/tenants",
            new { displayName = "Bench", domain = Domain, admin = new { userName = $"admin@{Domain}", password = AdminPassword } }, cancellationToken);
        var tenantId = tenant.GetProperty("tenant").GetProperty("id").GetGuid();
        await operatorApi.SendAsync(HttpMethod.Put, $"/api/v1/tenants/{tenantId}/subscribedSkus/{PlanId}", new { prepaidUnits = 1 }, cancellationToken);
        var admin = await StratusApi.SignInAsync(baseAddress, $"admin@{Domain}", AdminPassword, cancellationToken);
        try
        {
            var userId = await admin.CreateAsync("/api/v1/users", new
            {
                userPrincipalName = $"ada@{Domain}",
                displayName = "Ada",
                accountEnabled = true,
                passwordProfile = new { password = "bench-user-password-1" },
            }, cancellationToken);
            var groupId = await admin.CreateAsync("/api/v1/groups", new { displayName = "Cloud PC users" }, cancellationToken);
            await admin.SendAsync(HttpMethod.Post, $"/api/v1/groups/{groupId}/members", new { id = userId }, cancellationToken);
            var policyId = await admin.CreateAsync("/api/v1/provisioningPolicies",
                new { displayName = "Tiny Linux", imageId = ImageId, imageType = "gallery", regionNames = new[] { Region } }, cancellationToken);
            await admin.SendAsync(HttpMethod.Post, $"/api/v1/provisioningPolicies/{policyId}/assign",
                new { assignments = new[] { new { target = new { groupId, servicePlanId = Guid.Parse(PlanId) } } } }, cancellationToken);
            return (admin, userId);
        }
        catch
        {
            admin.Dispose();
            throw;
        }
    }

    /// <summary>Polls the operation until it is no longer running; anything but succeeded stops the benchmark.</summary>
    private static async Task<OperationItem> WaitForOperationAsync(StratusApi admin, StratusChild stratus, Guid cloudPcId, Guid operationId,
        CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < OperationTimeout)
        {
            var operation = await admin.GetAsync<OperationItem>($"/api/v1/cloudPCs/{cloudPcId}/operations/{operationId}", cancellationToken);
            if (operation.Status != "running")
            {
                return operation.Status == "succeeded"
                    ? operation
                    : throw new InvalidOperationException($"Operation {operation.Action} {operationId} ended {operation.Status}: {operation.Detail}");
            }

            if (stratus.HasExited)
            {
                throw new InvalidOperationException("stratus exited during the run.");
            }

            await Task.Delay(Poll, cancellationToken);
        }

        throw new TimeoutException($"Operation {operationId} did not complete within {OperationTimeout.TotalMinutes:0} minutes.");
    }

    /// <summary>Polls until the Cloud PC (the tenant's only one when <paramref name="id"/> is null) is provisioned.</summary>
    private static async Task<CloudPcItem> WaitForCloudPcAsync(StratusApi admin, StratusChild stratus, Guid? id, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < timeout)
        {
            var pc = id is { } known
                ? await admin.GetAsync<CloudPcItem>($"/api/v1/cloudPCs/{known}", cancellationToken)
                : (await admin.GetAsync<Page<CloudPcItem>>("/api/v1/cloudPCs", cancellationToken)).Value.FirstOrDefault();
            if (pc?.Status == "provisioned")
            {
                return pc;
            }

            if (pc?.Status == "failed")
            {
                throw new InvalidOperationException($"Cloud PC {pc.Id} failed.");
            }

            if (stratus.HasExited)
            {
                throw new InvalidOperationException("stratus exited during the run.");
            }

            await Task.Delay(Poll, cancellationToken);
        }

        throw new TimeoutException($"The Cloud PC was not provisioned within {timeout.TotalMinutes:0} minutes.");
    }

    private sealed record Page<T>(List<T> Value, int TotalCount);

    private sealed record CloudPcItem(Guid Id, string Status, Guid VmId);

    private sealed record OperationItem(Guid Id, string Action, string Status, string? Detail, DateTimeOffset CreatedDateTime, DateTimeOffset? CompletedDateTime);

    private sealed record HostItem(string Name, string Region, string State, string Driver, string Accelerator);
}
