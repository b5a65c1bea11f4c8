using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Stratus.Monitoring.Persistence;
using Stratus.Testing;

namespace Stratus.Monitoring.Tests;

/// <summary>
/// Two real stratus processes shared by the monitoring tests, each case run against both: identity and monitoring on
/// SQLite, and on PostgreSQL; both send their e-mail to one real SMTP server in this process. Notifications are due
/// every half second and retried after 1 s, then 2 s.
/// </summary>
public sealed class MonitoringHosts : IAsyncLifetime
{
    private readonly PostgresServer postgres = new();
    private readonly TempFolder sqliteData = new();
    private readonly TempFolder postgresData = new();
    private MonitoringHost? sqlite;
    private MonitoringHost? onPostgres;

    public SmtpSink Smtp { get; } = new();

    public async Task InitializeAsync()
    {
        await postgres.InitializeAsync();
        var connection = await postgres.CreateDatabaseAsync();
        var settings = new Dictionary<string, string?>
        {
            ["STRATUS_HOSTS"] = "none",
            ["Stratus__Monitoring__Smtp__Host"] = "127.0.0.1",
            ["Stratus__Monitoring__Smtp__Port"] = Smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Stratus__Monitoring__Smtp__From"] = "alerts@stratus.test",
            ["Stratus__Monitoring__Smtp__Security"] = "None",
            ["Stratus__Monitoring__DispatchInterval"] = "00:00:00.500",
            ["Stratus__Monitoring__FirstRetryDelay"] = "00:00:01",
            ["Stratus__Monitoring__MaxRetryDelay"] = "00:00:02",
        };
        var started = await Task.WhenAll(
            StratusProcess.StartAsync(["run", "--targets", "identity,monitoring"], sqliteData.Path, settings),
            StratusProcess.StartAsync(["run", "--targets", "identity,monitoring", "--database", connection], postgresData.Path, settings));
        sqlite = new MonitoringHost("sqlite", started[0], connection);
        onPostgres = new MonitoringHost("postgres", started[1], connection);
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
        await Smtp.DisposeAsync();
        sqliteData.Dispose();
        postgresData.Dispose();
    }

    public MonitoringHost Host(string provider) => provider switch
    {
        "sqlite" => sqlite!,
        "postgres" => onPostgres!,
        _ => throw new ArgumentOutOfRangeException(nameof(provider)),
    };

    public static TheoryData<string> Providers() => new() { "sqlite", "postgres" };
}

[CollectionDefinition(Name)]
public sealed class MonitoringCollection : ICollectionFixture<MonitoringHosts>
{
    public const string Name = "monitoring";
}

public sealed record MonitoringHost(string Provider, StratusProcess Process, string PostgresConnection)
{
    public MonitoringDbContext OpenStore() => Provider == "sqlite"
        ? new SqliteMonitoringDbContext(new DbContextOptionsBuilder<SqliteMonitoringDbContext>()
            .UseSqlite($"Data Source={Path.Combine(Process.DataFolder, "db", "monitoring.db")};Default Timeout=30").Options, TimeProvider.System)
        : new PostgresMonitoringDbContext(new DbContextOptionsBuilder<PostgresMonitoringDbContext>().UseNpgsql(PostgresConnection).Options, TimeProvider.System);

    /// <summary>
    /// Stands in for the service that owns the event (provisioning, images, compute, network): publishes it through the
    /// real outbox relay and queue, from the monitoring store's outbox (the one this process relays).
    /// </summary>
    public async Task PublishAsync<TMessage>(TMessage message)
        where TMessage : notnull
    {
        await using var store = OpenStore();
        store.Publish(message);
        await store.SaveChangesAsync();
    }

    /// <summary>Creates a tenant with a unique domain and returns its administrator's client.</summary>
    public async Task<TestTenant> CreateTenantAsync()
    {
        using var operatorClient = await Process.OperatorClientAsync();
        var domain = $"mon{Guid.NewGuid():N}"[..20] + ".test";
        const string password = "admin-password-123";
        var response = await operatorClient.PostAsJsonAsync("/api/v1/tenants", new { displayName = "Tenant " + domain, domain, admin = new { userName = "admin", password } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return new TestTenant(this, body.GetProperty("tenant").GetProperty("id").GetGuid(), domain, await Process.SignedInClientAsync("admin@" + domain, password));
    }
}

public sealed record TestTenant(MonitoringHost Host, Guid Id, string Domain, HttpClient Admin) : IDisposable
{
    public const string Rules = "/api/v1/alertRules";
    public const string Records = "/api/v1/alertRecords";

    public void Dispose() => Admin.Dispose();

    public Task<JsonElement> RuleAsync(string template) => RuleOfAsync(Admin, template);

    public static async Task<JsonElement> RuleOfAsync(HttpClient client, string template)
    {
        var rules = (await client.GetFromJsonAsync<JsonElement>(Rules)).GetProperty("value");
        return rules.EnumerateArray().Single(r => r.GetProperty("alertRuleTemplate").GetString() == template);
    }

    /// <summary>PATCHes the rule and asserts 200.</summary>
    public static async Task<JsonElement> PatchAsync(HttpClient client, Guid rule, object body)
    {
        var response = await client.PatchAsJsonAsync($"{Rules}/{rule}", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    public Task<JsonElement> PatchAsync(Guid rule, object body) => PatchAsync(Admin, rule, body);

    public static async Task<List<JsonElement>> RecordsOfAsync(HttpClient client, string? status = null)
    {
        var query = status is null ? "" : $"?$filter=status eq '{status}'";
        return (await client.GetFromJsonAsync<JsonElement>(Records + query)).GetProperty("value").EnumerateArray().ToList();
    }

    public Task<List<JsonElement>> RecordsAsync(string? status = null) => RecordsOfAsync(Admin, status);

    public static async Task<List<JsonElement>> DeliveriesOfAsync(HttpClient client, Guid rule) =>
        (await client.GetFromJsonAsync<JsonElement>($"{Rules}/{rule}/deliveries")).GetProperty("value").EnumerateArray().ToList();
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

    public static Task<T> UntilAsync<T>(Func<T> read, Func<T, bool> done, string what) => UntilAsync(() => Task.FromResult(read()), done, what);
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
