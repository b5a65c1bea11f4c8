using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.HostAgent.Networks;
using Stratus.HostAgent.Tests.Networks;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Provisioning;

/// <summary>
/// Issue 20 end to end, under `stratus up` with its embedded QEMU hosts: two "corporate" networks made by the test
/// (gateway, DNS server answering the corporate name, HTTP endpoint), each behind a veth whose host end is a
/// connection's uplink in local-1. A policy names connections A then B. The first user's Cloud PC is on A with an
/// address of A's subnet, and its guest resolves the corporate name and fetches the endpoint. A's cable is cut: the
/// scheduler's next run fails A, the second user's Cloud PC goes on B (its guest reaches B's endpoint), and the audit
/// log says A was skipped and why.
/// </summary>
public sealed partial class CloudPcOnQemuTests
{
    /// <summary>Short, so that the continuous checks notice the cut in a test; the default is 5 minutes.</summary>
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_cloud_pc_goes_on_the_first_healthy_network_connection_and_after_its_uplink_is_cut_the_next_one_goes_on_the_second()
    {
        var settings = new Dictionary<string, string?>(Settings)
        {
            ["Stratus__Network__HealthCheckInterval"] = CheckInterval.ToString(),
            ["Stratus__Network__SchedulerInterval"] = "00:00:02",
        };
        // Two subnets: one tenant's connections may not overlap.
        await using var corporateA = await CorporateNetwork.StartAsync(octet: 21);
        await using var corporateB = await CorporateNetwork.StartAsync(octet: 22);
        using var data = new TempFolder();
        await TinyImageFolder.InstallIntoAsync(data.Path);
        try
        {
            await using var stratus = await StratusProcess.StartAsync(["up"], data.Path, settings);
            using var operatorClient = await stratus.OperatorClientAsync();
            // The network service refuses an uplink that no host of the region reported: wait for local-1's agent to have.
            await Eventually.MatchesAsync(() => operatorClient.GetFromJsonAsync<JsonElement>("/api/v1/regions/local-1/hostInterfaces"),
                r => r.GetProperty("hosts").EnumerateArray().Any(h => Names(h.GetProperty("interfaces")).IsSupersetOf([corporateA.Uplink, corporateB.Uplink])),
                "local-1's host to report both uplinks", TimeSpan.FromMinutes(2));

            string a = "", b = "";
            var tenant = await Directory.CreateAsync(stratus, operatorClient, gracePeriodInHours: 168, async admin =>
            {
                a = await CreateConnectionAsync(admin, "Corp A", corporateA);
                b = await CreateConnectionAsync(admin, "Corp B", corporateB);
                foreach (var id in new[] { a, b })
                {
                    await WaitForConnectionAsync(admin, id, c => c.GetProperty("healthCheckStatus").GetString() == "passed", $"connection {id}'s checks to pass on the host");
                }

                return [a, b];
            });

            // The first Cloud PC: on A, with an address of A's subnet, which its guest holds and uses.
            var first = await tenant.WaitForCloudPcAsync(p => p.Status == "provisioned", "the first Cloud PC to be provisioned", TimeSpan.FromMinutes(5));
            var onA = await CloudPcJsonAsync(tenant, first.Id);
            Assert.Equal(a, onA.GetProperty("onPremisesConnectionId").GetString());
            Assert.Equal("Corp A", onA.GetProperty("onPremisesConnectionName").GetString());
            var addressOnA = onA.GetProperty("ipAddress").GetString()!;
            Assert.True(IPNetwork.Parse(corporateA.Subnet).Contains(IPAddress.Parse(addressOnA)), $"{addressOnA} is not in {corporateA.Subnet}");
            var firstVm = Assert.Single(QemuProcesses.VmFolders(data.Path));
            await using (var console = await ConsoleOfVmAsync(firstVm))
            {
                await WaitForLeaseAsync(console, addressOnA);
                var resolv = await console.RunAsync("cat /etc/resolv.conf", TimeSpan.FromSeconds(60));
                Assert.Contains($"nameserver {corporateA.DnsServer}", resolv, StringComparison.Ordinal);
                Assert.Contains($"search {CorporateNetwork.SearchDomain}", resolv, StringComparison.Ordinal);
                // By name: the tenant's DNS server answers the corporate name, the endpoint answers on it.
                Assert.Equal(corporateA.Body, await console.RunAsync($"wget -q -T 30 -O - {corporateA.Url}", TimeSpan.FromSeconds(120)));
            }

            // A's cable is cut: the scheduler's next run (every CheckInterval) finds it, with no one asking.
            var cut = TimeProvider.System.GetUtcNow();
            var clock = Stopwatch.StartNew();
            await corporateA.CutAsync();
            var failed = await WaitForConnectionAsync(tenant.Admin, a, c => c.GetProperty("healthCheckStatus").GetString() == "failed",
                "connection A's checks to fail after its uplink was cut", CheckInterval + TimeSpan.FromMinutes(2));
            var noticedAfter = clock.Elapsed;
            var uplink = failed.GetProperty("healthCheckStatusDetail").GetProperty("healthChecks").EnumerateArray()
                .Single(c => c.GetProperty("displayName").GetString() == "uplinkExists");
            Assert.Equal(("failed", "uplinkInterfaceNotFound"), (uplink.GetProperty("status").GetString(), uplink.GetProperty("errorType").GetString()));
            var runs = (await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/onPremisesConnections/{a}/healthCheckRuns")).GetProperty("value").EnumerateArray().ToList();
            var failingRun = runs.First(r => r.GetProperty("status").GetString() == "failed");
            Assert.Equal("scheduler", failingRun.GetProperty("requestedBy").GetString());
            // The scheduler may have asked a moment before the cut: what matters is that the host checked after it.
            Assert.True(failingRun.GetProperty("endDateTime").GetDateTimeOffset() > cut, "the failing run ended after the cut");
            Console.WriteLine($"Connection A failed {noticedAfter.TotalSeconds:0.0} s after its uplink was cut (check interval {CheckInterval.TotalSeconds:0} s).");

            // The next user's Cloud PC goes on B, and the audit log says A was skipped and why.
            var grace = await AddLicensedUserAsync(tenant, "grace");
            var second = await tenant.WaitForCloudPcAsync(p => p.Id != first.Id && p.Status == "provisioned", "the second Cloud PC to be provisioned", TimeSpan.FromMinutes(5));
            var onB = await CloudPcJsonAsync(tenant, second.Id);
            Assert.Equal(grace, onB.GetProperty("userPrincipalName").GetString());
            Assert.Equal(b, onB.GetProperty("onPremisesConnectionId").GetString());
            var addressOnB = onB.GetProperty("ipAddress").GetString()!;
            Assert.True(IPNetwork.Parse(corporateB.Subnet).Contains(IPAddress.Parse(addressOnB)), $"{addressOnB} is not in {corporateB.Subnet}");
            await using (var console = await ConsoleOfVmAsync(QemuProcesses.VmFolders(data.Path).Single(f => f != firstVm)))
            {
                // Its guest has B's lease and B's DNS, and reaches B's endpoint by the same corporate name.
                await WaitForLeaseAsync(console, addressOnB);
                Assert.Equal(corporateB.Body, await console.RunAsync($"wget -q -T 30 -O - {corporateB.Url}", TimeSpan.FromSeconds(120)));
            }

            var audit = (await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/auditEvents?$top=500")).GetProperty("value").EnumerateArray().ToList();
            var skipped = audit.Where(e => e.GetProperty("activity").GetString() == "networkConnectionSkipped").Select(e => e.GetProperty("displayName").GetString()!).ToList();
            Assert.Contains(skipped, s => s.Contains($"Corp A ({a})", StringComparison.Ordinal) && s.Contains("uplinkExists (uplinkInterfaceNotFound", StringComparison.Ordinal)
                && s.Contains(second.ManagedDeviceName, StringComparison.Ordinal));
            // The first Cloud PC stays where it was: moving it is the administrator's choice (moveCloudPcs), not automatic.
            Assert.Equal(a, (await CloudPcJsonAsync(tenant, first.Id)).GetProperty("onPremisesConnectionId").GetString());
        }
        finally
        {
            QemuProcesses.KillAll(data.Path);
            await AgentNetworks.TearDownAllAsync(data.Path);
        }

        // Nothing of the connections is left (the agent's state of each is gone with it), and the test's uplinks are free.
        Assert.Empty(System.IO.Directory.GetDirectories(Path.Combine(data.Path, "hosts", "local-1", "networks")));
        Assert.Null(LinuxNetwork.MasterOf(corporateA.Uplink));
        Assert.Null(LinuxNetwork.MasterOf(corporateB.Uplink));
    }

    private static HashSet<string> Names(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToHashSet(StringComparer.Ordinal);

    private static async Task<string> CreateConnectionAsync(HttpClient admin, string displayName, CorporateNetwork corporate)
    {
        var response = await admin.PostAsJsonAsync("/api/v1/onPremisesConnections", new
        {
            displayName, regionName = "local-1", subnet = corporate.Subnet, gateway = corporate.Gateway, mtu = 1500,
            uplink = new { kind = "hostInterface", @interface = corporate.Uplink },
            dnsServers = new[] { corporate.DnsServer }, dnsSearchDomain = CorporateNetwork.SearchDomain,
            dnsNamesToResolve = new[] { CorporateNetwork.Name }, requiredEndpoints = new[] { $"{CorporateNetwork.Name}:{CorporateNetwork.Port}" },
        });
        return (await Directory.Created(response)).ToString();
    }

    private static async Task<JsonElement> WaitForConnectionAsync(HttpClient admin, string id, Func<JsonElement, bool> condition, string what, TimeSpan? timeout = null) =>
        await Eventually.MatchesAsync(() => admin.GetFromJsonAsync<JsonElement>($"/api/v1/onPremisesConnections/{id}"), condition, what, timeout ?? TimeSpan.FromMinutes(2));

    private static async Task<JsonElement> CloudPcJsonAsync(Tenant tenant, Guid id) =>
        (await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/cloudPCs")).GetProperty("value").EnumerateArray().Single(p => p.GetProperty("id").GetGuid() == id);

    /// <summary>Another user of the tenant in the policy's group, with the small plan's license: their Cloud PC follows.</summary>
    private static async Task<string> AddLicensedUserAsync(Tenant tenant, string name)
    {
        var upn = $"{name}@{tenant.Domain}";
        var user = await Directory.Created(await tenant.Admin.PostAsJsonAsync("/api/v1/users", new
        {
            userPrincipalName = upn, displayName = name, accountEnabled = true, passwordProfile = new { password = $"{name}-password-123" },
        }));
        Assert.Equal(HttpStatusCode.NoContent, (await tenant.Admin.PostAsJsonAsync($"/api/v1/groups/{tenant.GroupId}/members", new { id = user })).StatusCode);
        await (tenant with { UserId = user }).AssignLicenseAsync(SmallPlan);
        return upn;
    }

    /// <summary>The guest's DHCP lease: udhcpc asks at boot, and again in the background if its first tries failed.</summary>
    private static async Task WaitForLeaseAsync(SerialConsole console, string address) =>
        await Eventually.MatchesAsync(() => console.RunAsync("ip -4 -o addr show dev eth0", TimeSpan.FromSeconds(60)),
            shown => shown.Contains($"{address}/24", StringComparison.Ordinal), $"the guest's DHCP lease of {address}", TimeSpan.FromMinutes(2));
}
