using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Stratus.Network.Persistence;
using Stratus.Testing;

namespace Stratus.Network.Tests;

/// <summary>
/// Two real stratus processes shared by the network tests, each case run against both: `stratus up` on SQLite (every
/// service, regions local-1 and local-2, no host agents) and identity, diagnostics and network alone on PostgreSQL
/// (regions east-1 and west-1; no provisioning, so a delete cannot learn a connection's usage there). Runs end at
/// <see cref="RunTimeout"/>; a connection is checked again <see cref="CheckInterval"/> after its last run was requested.
/// </summary>
public sealed class NetworkHosts : IAsyncLifetime
{
    public static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(20);

    private readonly PostgresServer postgres = new();
    private readonly TempFolder sqliteData = new();
    private readonly TempFolder postgresData = new();
    private NetworkHost? sqlite;
    private NetworkHost? onPostgres;

    public async Task InitializeAsync()
    {
        await postgres.InitializeAsync();
        var connection = await postgres.CreateDatabaseAsync();
        var settings = new Dictionary<string, string?>
        {
            // No embedded host agents: the compute side of the checks is another helper's; the tests stand in for it.
            ["STRATUS_HOSTS"] = "none",
            ["Stratus__Network__HealthCheckRunTimeout"] = RunTimeout.ToString(),
            ["Stratus__Network__HealthCheckInterval"] = CheckInterval.ToString(),
            ["Stratus__Network__SchedulerInterval"] = "00:00:01",
        };
        var withRegions = new Dictionary<string, string?>(settings)
        {
            ["Stratus__Compute__Regions__0__Name"] = "east-1",
            ["Stratus__Compute__Regions__0__Zones__0"] = "east-1a",
            ["Stratus__Compute__Regions__1__Name"] = "west-1",
            ["Stratus__Compute__Regions__1__Zones__0"] = "west-1a",
        };
        var started = await Task.WhenAll(
            StratusProcess.StartAsync(["up"], sqliteData.Path, settings),
            StratusProcess.StartAsync(["run", "--targets", "identity,diagnostics,network", "--database", connection], postgresData.Path, withRegions));
        sqlite = new NetworkHost("sqlite", started[0], "local-1", connection);
        onPostgres = new NetworkHost("postgres", started[1], "east-1", connection);
    }

    public async Task DisposeAsync()
    {
        foreach (var host in new[] { sqlite, onPostgres })
        {
            if (host is not null)
            {
                await host.Process.DisposeAsync();
            }
        }

        await postgres.DisposeAsync();
        sqliteData.Dispose();
        postgresData.Dispose();
    }

    public NetworkHost Host(string provider) => provider switch
    {
        "sqlite" => sqlite!,
        "postgres" => onPostgres!,
        _ => throw new ArgumentOutOfRangeException(nameof(provider)),
    };

    public static TheoryData<string> Providers() => new() { "sqlite", "postgres" };
}

[CollectionDefinition(Name)]
public sealed class NetworkCollection : ICollectionFixture<NetworkHosts>
{
    public const string Name = "network";
}

public sealed record NetworkHost(string Provider, StratusProcess Process, string Region, string PostgresConnection)
{
    /// <summary>The network store of the running service: its outbox, and the tests' stand-in for compute's events.</summary>
    public NetworkDbContext OpenStore() => Provider == "sqlite"
        ? new SqliteNetworkDbContext(new DbContextOptionsBuilder<SqliteNetworkDbContext>()
            .UseSqlite($"Data Source={Path.Combine(Process.DataFolder, "db", "network.db")};Default Timeout=30").Options, TimeProvider.System)
        : new PostgresNetworkDbContext(new DbContextOptionsBuilder<PostgresNetworkDbContext>().UseNpgsql(PostgresConnection).Options, TimeProvider.System);

    /// <summary>
    /// Stands in for compute: publishes its compute.networkChecksReported.v1 through the real outbox relay and queue
    /// (from the network store's outbox, the one this process relays), as compute's relay would deliver it.
    /// </summary>
    public async Task ReportAsCompute(NetworkChecksReported report)
    {
        await using var store = OpenStore();
        store.Publish(report);
        await store.SaveChangesAsync();
    }

    /// <summary>The types of the events the network store published that mention <paramref name="id"/>, oldest first.</summary>
    public async Task<List<string>> EventsAsync(Guid id)
    {
        await using var store = OpenStore();
        var rows = await store.OutboxMessages.AsNoTracking().ToListAsync();
        return rows.Where(r => r.Body.Contains(id.ToString(), StringComparison.OrdinalIgnoreCase)).OrderBy(r => r.CreatedAt).Select(r => r.MessageType).ToList();
    }

    /// <summary>Creates a tenant with a unique domain and returns its administrator's client.</summary>
    public async Task<TestTenant> CreateTenantAsync()
    {
        using var operatorClient = await Process.OperatorClientAsync();
        var domain = $"net{Guid.NewGuid():N}"[..20] + ".test";
        const string password = "admin-password-123";
        var response = await operatorClient.PostAsJsonAsync("/api/v1/tenants", new { displayName = "Tenant " + domain, domain, admin = new { userName = "admin", password } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return new TestTenant(this, body.GetProperty("tenant").GetProperty("id").GetGuid(), await Process.SignedInClientAsync("admin@" + domain, password));
    }
}

public sealed record TestTenant(NetworkHost Host, Guid Id, HttpClient Admin) : IDisposable
{
    public void Dispose() => Admin.Dispose();

    public const string Path = "/api/v1/onPremisesConnections";

    /// <summary>A valid connection's body, with the changes given (null drops a field).</summary>
    public Dictionary<string, object?> Body(string subnet = "10.20.0.0/24", string gateway = "10.20.0.1", string name = "Corp A") => new()
    {
        ["displayName"] = name,
        ["regionName"] = Host.Region,
        ["subnet"] = subnet,
        ["gateway"] = gateway,
        ["mtu"] = 1500,
        ["uplink"] = new Dictionary<string, object?> { ["kind"] = "vlan", ["interface"] = "eth1", ["vlanId"] = 120 },
        ["dnsServers"] = new[] { "10.20.0.53" },
        ["dnsSearchDomain"] = "corp.example",
        ["dnsNamesToResolve"] = new[] { "intranet.corp.example" },
        ["requiredEndpoints"] = new[] { "intranet.corp.example:443" },
    };

    public async Task<JsonElement> CreateAsync(Dictionary<string, object?>? body = null)
    {
        var response = await Admin.PostAsJsonAsync(Path, body ?? Body());
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    public async Task<JsonElement> GetAsync(Guid id) => await Admin.GetFromJsonAsync<JsonElement>($"{Path}/{id}");

    public async Task<JsonElement> RunsAsync(Guid id) => (await Admin.GetFromJsonAsync<JsonElement>($"{Path}/{id}/healthCheckRuns")).GetProperty("value");

    /// <summary>The run under way (the one its creation started, or a later one).</summary>
    public async Task<Guid> RunningRunAsync(Guid id) => await Eventually.UntilAsync(async () =>
    {
        var runs = await RunsAsync(id);
        return runs.EnumerateArray().Where(r => r.GetProperty("status").GetString() == "running").Select(r => r.GetProperty("id").GetGuid()).FirstOrDefault();
    }, run => run != Guid.Empty, $"a run of connection {id} under way");

    /// <summary>Waits until the run completed and returns it.</summary>
    public Task<JsonElement> CompletedRunAsync(Guid connection, Guid run) => Eventually.UntilAsync(async () =>
        (await RunsAsync(connection)).EnumerateArray().FirstOrDefault(r => r.GetProperty("id").GetGuid() == run),
        r => r.ValueKind == JsonValueKind.Object && r.GetProperty("status").GetString() != "running", $"run {run} to complete");

    public async Task<int> CountAsync() => (await Admin.GetFromJsonAsync<JsonElement>(Path)).GetProperty("totalCount").GetInt32();
}

public static class Eventually
{
    /// <summary>Polls until the value satisfies the condition, up to 120 s (generous: the CI machine is busy).</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(120), $"Waited 120 s for {what}; last: {value}");
            await Task.Delay(200);
        }
    }
}

public static class Problem
{
    /// <summary>Asserts an RFC 9457 answer with the status, and returns its body.</summary>
    public static async Task<JsonElement> AssertAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {status}, got {response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Equal((int)status, body.GetProperty("status").GetInt32());
        return body;
    }
}
