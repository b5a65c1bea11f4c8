using System.Net;
using System.Net.Http.Json;
using Stratus.Provisioning.Tests.Support;

namespace Stratus.Provisioning.Tests;

/// <summary>The directory and the policies, in any order, make exactly one Cloud PC per user and plan.</summary>
public sealed class LifecycleTests(ProvisioningHost host) : IClassFixture<ProvisioningHost>
{
    [Fact]
    public async Task LicensedGroupMember_PolicyAssignedLast_GetsOneProvisionedCloudPc_WithGraphProperties_VisibleToThemOnly()
    {
        using var tenant = await host.CreateTenantAsync();
        var ada = await tenant.CreateUserAsync("ada");
        await tenant.CreateUserAsync("bob");
        var group = await tenant.CreateGroupAsync("Developers");
        await tenant.AddMemberAsync(group, ada);
        await tenant.AssignLicenseAsync(ada, Plans.Small);
        var policy = await tenant.CreatePolicyAsync("Developers", region: "local-2", namingTemplate: "DEV-%USERNAME:3%-%RAND:5%");

        await tenant.AssignAsync(policy.Id, (group, Plans.Small));

        var pc = await tenant.WaitForCloudPcAsync(p => p.Status == "provisioned", "ada's Cloud PC to be provisioned");
        var page = await tenant.CloudPcPageAsync();
        Assert.Equal(pc.Id, Assert.Single(page.Value).Id);
        Assert.Equal(1, page.TotalCount);
        Assert.Equal(ada, pc.UserId);
        Assert.Equal(tenant.Upn("ada"), pc.UserPrincipalName);
        // The user's display name when provisioning knows it, else the UPN (identity's userCreated event carries no display name).
        Assert.Contains(pc.DisplayName, new[] { $"{Plans.SmallName} - ada", $"{Plans.SmallName} - {tenant.Upn("ada")}" });
        Assert.Matches("^DEV-ADA-[A-HJ-NP-Z2-9]{5}$", pc.ManagedDeviceName);
        Assert.Equal(policy.Id, pc.ProvisioningPolicyId);
        Assert.Equal("Developers", pc.ProvisioningPolicyName);
        Assert.Equal(Plans.Small, pc.ServicePlanId);
        Assert.Equal(Plans.SmallName, pc.ServicePlanName);
        Assert.Equal(ProvisioningHost.ImageId, pc.ImageId);
        Assert.Equal(ProvisioningHost.ImageName, pc.ImageDisplayName);
        Assert.Equal("local-2", pc.RegionName);
        Assert.Equal("running", pc.PowerState);
        Assert.Null(pc.StatusDetail);
        Assert.Null(pc.GracePeriodEndDateTime);
        Assert.Null(pc.ActiveOperationId);
        Assert.Equal((1, 1, 8), (pc.VCpuCount, pc.RamInGB, pc.StorageInGB));
        Assert.True(pc.LastModifiedDateTime >= pc.CreatedDateTime);

        // Compute runs one VM for it, on local-2's host, of the plan's size.
        var region2 = await host.HostOfRegionAsync("local-2");
        var vm = Assert.Single(await host.AllVmsAsync(tenant.Id));
        Assert.Equal((region2.Id, "local-2", 1, 1024, 8), (vm.HostId, vm.Region, vm.VCpuCount, vm.MemoryMiB, vm.DiskGiB));
        Assert.True(vm.Ready);
        Assert.Equal("running", vm.DesiredPower);
        Assert.Equal(region2.Name, pc.HostName);

        // The user sees it at /me; another user of the tenant sees nothing, not even by id.
        using var adaClient = await tenant.SignInAsync("ada");
        var mine = (await adaClient.GetFromJsonAsync<Page<CloudPcBody>>("/api/v1/me/cloudPCs"))!;
        Assert.Equal(pc.Id, Assert.Single(mine.Value).Id);
        Assert.Equal(HttpStatusCode.OK, (await adaClient.GetAsync($"/api/v1/me/cloudPCs/{pc.Id}")).StatusCode);
        using var bobClient = await tenant.SignInAsync("bob");
        var bobs = (await bobClient.GetFromJsonAsync<Page<CloudPcBody>>("/api/v1/me/cloudPCs"))!;
        Assert.Empty(bobs.Value);
        Assert.Equal(0, bobs.TotalCount);
        await Problem.AssertAsync(await bobClient.GetAsync($"/api/v1/me/cloudPCs/{pc.Id}"), HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("licenseThenGroup")]
    [InlineData("groupThenLicense")]
    public async Task PolicyAssignedFirst_DirectoryChangesInEitherOrder_MakeOneCloudPc(string order)
    {
        using var tenant = await host.CreateTenantAsync();
        var ada = await tenant.CreateUserAsync("ada");
        var group = await tenant.CreateGroupAsync("Developers");
        var policy = await tenant.CreatePolicyAsync();
        await tenant.AssignAsync(policy.Id, (group, Plans.Small));

        if (order == "licenseThenGroup")
        {
            await tenant.AssignLicenseAsync(ada, Plans.Small);
            await tenant.AddMemberAsync(group, ada);
        }
        else
        {
            await tenant.AddMemberAsync(group, ada);
            await tenant.AssignLicenseAsync(ada, Plans.Small);
        }

        var pc = await tenant.WaitForCloudPcAsync(p => p.Status == "provisioned", "the Cloud PC to be provisioned");
        Assert.Equal(pc.Id, Assert.Single(await tenant.CloudPcsAsync()).Id);
        Assert.Equal((ada, policy.Id, Plans.Small, "local-1"), (pc.UserId, pc.ProvisioningPolicyId, pc.ServicePlanId, pc.RegionName));
        Assert.Single(await host.AllVmsAsync(tenant.Id));
    }

    [Fact]
    public async Task LicenseWithoutAssignedGroup_OrGroupWithoutLicense_MakesNoCloudPc()
    {
        using var tenant = await host.CreateTenantAsync();
        var unlicensed = await tenant.CreateUserAsync("unlicensed");
        var outsider = await tenant.CreateUserAsync("outsider");
        var member = await tenant.CreateUserAsync("member");
        var group = await tenant.CreateGroupAsync("Developers");
        var policy = await tenant.CreatePolicyAsync();
        await tenant.AssignAsync(policy.Id, (group, Plans.Small));
        await tenant.AddMemberAsync(group, unlicensed);
        await tenant.AssignLicenseAsync(outsider, Plans.Small);

        // The member comes last and is both: once theirs is provisioned, the two before were evaluated too.
        await tenant.AddMemberAsync(group, member);
        await tenant.AssignLicenseAsync(member, Plans.Small);

        var pc = await tenant.WaitForCloudPcAsync(p => p.Status == "provisioned", "the member's Cloud PC");
        Assert.Equal(member, pc.UserId);
        Assert.Single(await tenant.CloudPcsAsync());
    }

    [Fact]
    public async Task EvaluatingAgain_ReassigningTheSamePolicy_CreatesNothingNew_AndKeepsTheAssignment()
    {
        using var tenant = await host.CreateTenantAsync();
        var ada = await tenant.ProvisionAsync("ada");
        var assignment = Assert.Single(ada.Policy.Assignments);

        // The same assignment twice: each runs an evaluation of every user of the tenant.
        await tenant.AssignAsync(ada.Policy.Id, (ada.GroupId, Plans.Small));
        var again = await tenant.AssignAsync(ada.Policy.Id, (ada.GroupId, Plans.Small));
        Assert.Equal(assignment, Assert.Single(again.Assignments));

        // A third evaluation that also provisions someone new: once dave's Cloud PC exists, ada was evaluated with it.
        await tenant.SetSeatsAsync(Plans.Medium, 1);
        var dave = await tenant.CreateUserAsync("dave");
        var seniors = await tenant.CreateGroupAsync("Seniors");
        await tenant.AddMemberAsync(seniors, dave);
        await tenant.AssignLicenseAsync(dave, Plans.Medium);
        await tenant.AssignAsync(ada.Policy.Id, (ada.GroupId, Plans.Small), (seniors, Plans.Medium));
        await tenant.WaitForCloudPcAsync(p => p.UserId == dave && p.Status == "provisioned", "dave's Cloud PC");

        var pcs = await tenant.CloudPcsAsync();
        Assert.Equal(2, pcs.Count);
        var adas = Assert.Single(pcs, p => p.UserId == ada.UserId);
        Assert.Equal((ada.CloudPc.Id, ada.CloudPc.ManagedDeviceName, "provisioned"), (adas.Id, adas.ManagedDeviceName, adas.Status));
        Assert.Equal(2, (await host.AllVmsAsync(tenant.Id)).Count);
    }

    [Fact]
    public async Task OverlappingPolicies_TheFirstAssignedWins()
    {
        using var tenant = await host.CreateTenantAsync();
        var ada = await tenant.CreateUserAsync("ada");
        var group = await tenant.CreateGroupAsync("Everyone");
        await tenant.AddMemberAsync(group, ada);
        var first = await tenant.CreatePolicyAsync("First", region: "local-2");
        var second = await tenant.CreatePolicyAsync("Second", region: "local-1");
        await tenant.AssignAsync(first.Id, (group, Plans.Small));
        await tenant.AssignAsync(second.Id, (group, Plans.Small));

        await tenant.AssignLicenseAsync(ada, Plans.Small);

        var pc = await tenant.WaitForCloudPcAsync(p => p.Status == "provisioned", "the Cloud PC to be provisioned");
        Assert.Single(await tenant.CloudPcsAsync());
        Assert.Equal((first.Id, "First", "local-2"), (pc.ProvisioningPolicyId, pc.ProvisioningPolicyName, pc.RegionName));
    }
}
