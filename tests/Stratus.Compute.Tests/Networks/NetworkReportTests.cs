using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Stratus.Compute.Agents;
using Stratus.Compute.Hosts;
using Stratus.Compute.Networks;
using Stratus.Compute.Persistence;
using Stratus.Testing;

namespace Stratus.Compute.Tests.Networks;

/// <summary>
/// Issue 20: what hosts report about connections, on real SQLite and PostgreSQL stores. Checks are relayed to network once
/// per (host, connection, CheckedAt) with the region's host count; a NIC move succeeds once when the host reports the VM
/// on the new connection (the old address freed), and fails back at its deadline.
/// </summary>
public sealed class NetworkReportTests(PostgresServer postgres) : IClassFixture<PostgresServer>
{
    public static TheoryData<string> Providers => new() { "sqlite", "postgres" };

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Checks_are_relayed_once_per_checkedAt_with_the_regions_host_count(string provider)
    {
        using var store = await NetworkStore.CreateAsync(provider, postgres);
        var host = await store.AddHostAsync(NetworkStore.RegionA, "a1");
        await store.AddHostAsync(NetworkStore.RegionA, "a2");
        await store.AddHostAsync(NetworkStore.RegionB, "b1");
        var id = Guid.NewGuid();
        await store.UpsertAsync(NetworkStore.Connection(id, NetworkStore.RegionA));
        var run = Guid.NewGuid();
        var first = store.Clock.GetUtcNow();
        var checks = new List<NetworkCheckResult> { new("gatewayReachable", "failed", "gatewayUnreachable", "Check the VLAN.", "no ARP answer", first, first.AddMilliseconds(40)) };

        Assert.True(await store.ReportAsync(host, Report(new ReportedNetwork(id, 1, true, null, run, first, checks))));
        Assert.True(await store.ReportAsync(host, Report(new ReportedNetwork(id, 1, true, null, run, first, checks))));
        // A connection compute does not know is not relayed.
        Assert.True(await store.ReportAsync(host, Report(new ReportedNetwork(Guid.NewGuid(), 1, false, "no such", null, first, []))));

        var relayed = Assert.Single(await store.PublishedAsync<NetworkChecksReported>());
        Assert.Equal((id, (Guid?)run, host, "a1", NetworkStore.RegionA, 2, true), (relayed.ConnectionId, relayed.RunId, relayed.HostId, relayed.HostName, relayed.Region,
            relayed.RegionHostCount, relayed.Realized));
        var check = Assert.Single(relayed.Checks);
        Assert.Equal(("gatewayReachable", "failed", "gatewayUnreachable"), (check.Name, check.Status, check.ErrorType));

        // A newer run's results are relayed too.
        Assert.True(await store.ReportAsync(host, Report(new ReportedNetwork(id, 1, true, null, run, first.AddSeconds(5), []))));
        Assert.Equal(2, (await store.PublishedAsync<NetworkChecksReported>()).Count);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_nic_move_succeeds_once_when_the_host_reports_the_new_connection_and_frees_the_old_address(string provider)
    {
        using var store = await NetworkStore.CreateAsync(provider, postgres);
        var host = await store.AddHostAsync(NetworkStore.RegionA, "a1");
        var (from, to) = (Guid.NewGuid(), Guid.NewGuid());
        await store.UpsertAsync(NetworkStore.Connection(from, NetworkStore.RegionA));
        await store.UpsertAsync(NetworkStore.Connection(to, NetworkStore.RegionA, subnet: "10.40.0.0/24", gateway: "10.40.0.1"));
        var vm = Guid.NewGuid();
        await store.HandleAsync(NetworkConnectionTests.Place(vm, from), db => NetworkConnectionTests.PlaceHandler(db, store));
        Assert.True(await store.ReportAsync(host, Report(vms: [new ReportedVm(vm, "running", true, 1, null, NetworkConnectionId: from)])));
        var operation = Guid.NewGuid();

        await store.HandleAsync(new ChangeVmNetwork(vm, operation, to), db => ChangeHandler(db, store));

        Assert.Equal(new DesiredNic(to, "10.40.0.2"), (await store.DesiredAsync(host)).Vms.Single().Nic);
        Assert.Empty(await store.PublishedAsync<VmNetworkChanged>());
        // Until the host reports the NIC on the new connection the VM keeps its old address.
        Assert.Contains(await store.AddressesAsync(from), a => a.VmId == vm);
        for (var i = 0; i < 2; i++)
        {
            Assert.True(await store.ReportAsync(host, Report(vms: [new ReportedVm(vm, "running", true, 2, null, NetworkConnectionId: to)])));
        }

        var changed = Assert.Single(await store.PublishedAsync<VmNetworkChanged>());
        Assert.Equal((vm, operation, (Guid?)to, "10.40.0.2", true, (string?)null), (changed.VmId, changed.OperationId, changed.NetworkConnectionId, changed.IpAddress,
            changed.Succeeded, changed.Error));
        Assert.DoesNotContain(await store.AddressesAsync(from), a => a.VmId == vm);

        // The same move sent again answers nothing new; a move to another region's connection is refused, saying why.
        await store.HandleAsync(new ChangeVmNetwork(vm, operation, to), db => ChangeHandler(db, store));
        var elsewhere = Guid.NewGuid();
        await store.UpsertAsync(NetworkStore.Connection(elsewhere, NetworkStore.RegionB));
        await store.HandleAsync(new ChangeVmNetwork(vm, Guid.NewGuid(), elsewhere), db => ChangeHandler(db, store));
        var answers = await store.PublishedAsync<VmNetworkChanged>();
        Assert.Equal(2, answers.Count);
        Assert.False(answers[1].Succeeded);
        Assert.Contains("a NIC moves only within its region", answers[1].Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_nic_move_the_host_never_reports_fails_at_its_deadline_and_the_vm_goes_back_with_its_address()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
        using var store = await NetworkStore.CreateAsync("sqlite", postgres, clock);
        var host = await store.AddHostAsync(NetworkStore.RegionA, "a1");
        var from = Guid.NewGuid();
        await store.UpsertAsync(NetworkStore.Connection(from, NetworkStore.RegionA));
        var vm = Guid.NewGuid();
        await store.HandleAsync(NetworkConnectionTests.Place(vm, from), db => NetworkConnectionTests.PlaceHandler(db, store));
        Assert.True(await store.ReportAsync(host, Report(vms: [new ReportedVm(vm, "running", true, 1, null, NetworkConnectionId: from)])));
        var operation = Guid.NewGuid();
        await store.HandleAsync(new ChangeVmNetwork(vm, operation, null), db => ChangeHandler(db, store));
        Assert.Null((await store.DesiredAsync(host)).Vms.Single().Nic);
        await using var services = new ServiceCollection().AddScoped<ComputeDbContext>(_ => store.Open()).BuildServiceProvider();
        var deadlines = new VmNetworkChangeDeadlines(services.GetRequiredService<IServiceScopeFactory>(), Options.Create(new ComputeOptions()), clock,
            NullLogger<VmNetworkChangeDeadlines>.Instance);

        // Before its deadline (5 min) nothing fails, even though the host still reports the old connection.
        clock.Advance(TimeSpan.FromMinutes(4));
        Assert.True(await store.ReportAsync(host, Report(vms: [new ReportedVm(vm, "running", true, 2, null, NetworkConnectionId: from)])));
        Assert.Equal(0, await deadlines.CheckAsync(CancellationToken.None));
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(1, await deadlines.CheckAsync(CancellationToken.None));
        Assert.Equal(0, await deadlines.CheckAsync(CancellationToken.None));

        var failed = Assert.Single(await store.PublishedAsync<VmNetworkChanged>());
        Assert.Equal((vm, operation, (Guid?)null, false), (failed.VmId, failed.OperationId, failed.NetworkConnectionId, failed.Succeeded));
        Assert.Contains("did not report", failed.Error, StringComparison.Ordinal);
        Assert.Equal(new DesiredNic(from, "10.20.0.2"), (await store.DesiredAsync(host)).Vms.Single().Nic);
    }

    private static ChangeVmNetworkHandler ChangeHandler(ComputeDbContext db, NetworkStore store) => new(db, Options.Create(new ComputeOptions()), store.Clock);

    private static AgentReport Report(ReportedNetwork? network = null, IReadOnlyList<ReportedVm>? vms = null) =>
        new("none", "test", vms ?? [], [], Networks: network is null ? [] : [network], Interfaces: ["eth0", "eth1"]);
}
