using Microsoft.Extensions.Options;
using Stratus.Compute.Agents;
using Stratus.Compute.Networks;
using Stratus.Compute.Vms;
using Stratus.Testing;

namespace Stratus.Compute.Tests.Networks;

/// <summary>
/// Issue 20, compute's side, on real SQLite and PostgreSQL stores: network's events become every host's desired state (its
/// own region only, each host its own service address), the check run id reaches the hosts, addresses are never given
/// twice however placements race, and are freed with their VM; a placement on a connection it cannot use fails clearly.
/// </summary>
public sealed class NetworkConnectionTests(PostgresServer postgres) : IClassFixture<PostgresServer>
{
    public static TheoryData<string> Providers => new() { "sqlite", "postgres" };

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_connection_reaches_every_host_of_its_region_with_its_own_service_address_and_no_other_region(string provider)
    {
        using var store = await NetworkStore.CreateAsync(provider, postgres);
        var a1 = await store.AddHostAsync(NetworkStore.RegionA, "a1");
        var a2 = await store.AddHostAsync(NetworkStore.RegionA, "a2");
        var b1 = await store.AddHostAsync(NetworkStore.RegionB, "b1");
        var before = (await store.DesiredAsync(a1)).Version;
        var id = Guid.NewGuid();

        await store.UpsertAsync(NetworkStore.Connection(id, NetworkStore.RegionA, version: 2));

        var first = await store.DesiredAsync(a1);
        var second = await store.DesiredAsync(a2);
        Assert.True(first.Version > before, "the host's desired version must move so that its long poll answers");
        var network = Assert.Single(first.Networks!);
        Assert.Equal((id, 2L, "10.20.0.0/24", "10.20.0.1", 1500, "vlan", "eth1", (int?)120), (network.Id, network.Version, network.Subnet, network.Gateway, network.Mtu,
            network.UplinkKind, network.UplinkInterface, network.VlanId));
        Assert.Equal(["10.20.0.53"], network.DnsServers);
        Assert.Equal(["intranet.corp.example:443"], network.RequiredEndpoints);
        // Service addresses come from the top of the subnet, one per host, never the broadcast address.
        Assert.Equal(["10.20.0.253", "10.20.0.254"], new[] { network.ServiceAddress, Assert.Single(second.Networks!).ServiceAddress }.Order());
        Assert.Empty((await store.DesiredAsync(b1)).Networks!);

        // An older version (events come out of order) changes nothing; a newer one does, keeping the addresses.
        await store.UpsertAsync(NetworkStore.Connection(id, NetworkStore.RegionA, version: 1, mtu: 1400));
        Assert.Equal(1500, Assert.Single((await store.DesiredAsync(a1)).Networks!).Mtu);
        await store.UpsertAsync(NetworkStore.Connection(id, NetworkStore.RegionA, version: 3, mtu: 9000));
        var changed = Assert.Single((await store.DesiredAsync(a1)).Networks!);
        Assert.Equal((9000, network.ServiceAddress), (changed.Mtu, changed.ServiceAddress));

        // A check run reaches every host of the region.
        var run = Guid.NewGuid();
        var version = (await store.DesiredAsync(a2)).Version;
        await store.HandleAsync(new NetworkHealthCheckRequested(Guid.NewGuid(), id, NetworkStore.RegionA, run, store.Clock.GetUtcNow()),
            db => new NetworkHealthCheckRequestedHandler(db, store.Clock));
        Assert.Equal(run, Assert.Single((await store.DesiredAsync(a1)).Networks!).CheckRunId);
        var checking = await store.DesiredAsync(a2);
        Assert.Equal(run, Assert.Single(checking.Networks!).CheckRunId);
        Assert.True(checking.Version > version);

        // Deleted (a VM still on it, as when events race): gone from every host and its service addresses freed, but the
        // VM keeps its NIC and address until it goes; a late upsert does not bring the connection back.
        var vm = Guid.NewGuid();
        await store.HandleAsync(Place(vm, id), db => PlaceHandler(db, store));
        await store.HandleAsync(new NetworkConnectionDeleted(Guid.NewGuid(), id, NetworkStore.RegionA, 4, store.Clock.GetUtcNow()),
            db => new NetworkConnectionDeletedHandler(db, store.Clock));
        await store.UpsertAsync(NetworkStore.Connection(id, NetworkStore.RegionA, version: 3));
        Assert.Empty((await store.DesiredAsync(a1)).Networks!);
        Assert.Empty((await store.DesiredAsync(a2)).Networks!);
        var kept = Assert.Single(await store.AddressesAsync(id));
        Assert.Equal((vm, "10.20.0.2"), (kept.VmId, kept.Address));
        Assert.Equal(new DesiredNic(id, "10.20.0.2"), (await store.DesiredAsync((await store.VmAsync(vm)).HostId)).Vms.Single(v => v.Id == vm).Nic);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Concurrent_placements_on_one_connection_never_share_an_address_and_a_deleted_vms_address_is_given_again(string provider)
    {
        using var store = await NetworkStore.CreateAsync(provider, postgres);
        var hosts = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            hosts.Add(await store.AddHostAsync(NetworkStore.RegionA, $"h{i}"));
        }

        var id = Guid.NewGuid();
        await store.UpsertAsync(NetworkStore.Connection(id, NetworkStore.RegionA, subnet: "10.30.0.0/28", gateway: "10.30.0.1"));
        var vms = Enumerable.Range(0, 8).Select(_ => Guid.NewGuid()).ToList();

        // All at once, each in its own scope; one that loses every race is redelivered, as the queue does.
        await Task.WhenAll(vms.Select(vm => Task.Run(() => store.HandleAsync(Place(vm, id), db => PlaceHandler(db, store), tries: 3))));

        var placed = await store.PublishedAsync<VmPlaced>();
        Assert.Equal(vms.Order(), placed.Select(p => p.VmId).Order());
        var addresses = placed.Select(p => p.IpAddress!).ToList();
        Assert.Equal(vms.Count, addresses.Distinct().Count());
        // The lowest addresses, skipping the network (.0) and the gateway (.1); the hosts have the top ones (.14, .13, .12).
        Assert.Equal(Enumerable.Range(2, 8).Select(n => $"10.30.0.{n}").Order(), addresses.Order());
        Assert.All(placed, p => Assert.Equal(id, p.NetworkConnectionId));
        var held = await store.AddressesAsync(id);
        Assert.Equal(vms.Count + hosts.Count, held.Select(a => a.Address).Distinct().Count());

        // The VM with .2 is deleted: once its host reports it gone, .2 is free and the next VM gets it.
        var owner = placed.Single(p => p.IpAddress == "10.30.0.2");
        await store.HandleAsync(new ChangeVm(owner.VmId, null, Delete: true), db => new ChangeVmHandler(db, store.Clock));
        var others = placed.Where(p => p.HostId == owner.HostId && p.VmId != owner.VmId).Select(p => new ReportedVm(p.VmId, "running", true, 1, null, NetworkConnectionId: id)).ToList();
        Assert.True(await store.ReportAsync(owner.HostId, new AgentReport("none", "test", others, [])));
        Assert.DoesNotContain(await store.AddressesAsync(id), a => a.VmId == owner.VmId);
        var next = Guid.NewGuid();
        await store.HandleAsync(Place(next, id), db => PlaceHandler(db, store));
        Assert.Equal("10.30.0.2", (await store.PublishedAsync<VmPlaced>()).Single(p => p.VmId == next).IpAddress);
        var nic = (await store.DesiredAsync((await store.VmAsync(next)).HostId)).Vms.Single(v => v.Id == next).Nic;
        Assert.Equal(new DesiredNic(id, "10.30.0.2"), nic);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_placement_on_another_regions_connection_fails_at_once_and_on_an_unknown_one_waits_for_it(string provider)
    {
        using var store = await NetworkStore.CreateAsync(provider, postgres);
        await store.AddHostAsync(NetworkStore.RegionA, "a1");
        var elsewhere = Guid.NewGuid();
        await store.UpsertAsync(NetworkStore.Connection(elsewhere, NetworkStore.RegionB));

        var wrongRegion = Guid.NewGuid();
        await store.HandleAsync(Place(wrongRegion, elsewhere), db => PlaceHandler(db, store));
        var failed = Assert.Single(await store.PublishedAsync<VmPlacementFailed>());
        Assert.Equal(wrongRegion, failed.VmId);
        Assert.Contains($"is in region {NetworkStore.RegionB}, not {NetworkStore.RegionA}", failed.Reason, StringComparison.Ordinal);

        // Network's event comes only once the placement looked for the connection and waits: the VM is placed on it.
        var late = Guid.NewGuid();
        var arriving = Guid.NewGuid();
        var looked = new TableRead("network_connections");
        var placing = store.HandleAsync(Place(arriving, late), db => PlaceHandler(db, store, TimeSpan.FromSeconds(90)), interceptors: looked);
        await looked.Happened.WaitAsync(TimeSpan.FromSeconds(60));
        await store.UpsertAsync(NetworkStore.Connection(late, NetworkStore.RegionA));
        await placing.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.Equal(late, (await store.PublishedAsync<VmPlaced>()).Single(p => p.VmId == arriving).NetworkConnectionId);
        Assert.DoesNotContain(await store.PublishedAsync<VmPlacementFailed>(), f => f.VmId == arriving);

        // One that never comes fails after the wait, saying so.
        var never = Guid.NewGuid();
        await store.HandleAsync(Place(never, Guid.NewGuid()), db => PlaceHandler(db, store, TimeSpan.FromSeconds(2)));
        Assert.Contains("is not known to compute", (await store.PublishedAsync<VmPlacementFailed>()).Single(f => f.VmId == never).Reason, StringComparison.Ordinal);
    }

    internal static PlaceVm Place(Guid vmId, Guid connectionId) => new(vmId, Guid.NewGuid(), NetworkStore.RegionA, "tiny", 1, 1024, 8, NetworkConnectionId: connectionId);

    internal static PlaceVmHandler PlaceHandler(Stratus.Compute.Persistence.ComputeDbContext db, NetworkStore store, TimeSpan? wait = null) =>
        new(new Placement(db, store.Clock), db, Options.Create(new ComputeOptions { Networks = { UnknownConnectionWait = wait ?? TimeSpan.Zero } }), store.Clock);
}
