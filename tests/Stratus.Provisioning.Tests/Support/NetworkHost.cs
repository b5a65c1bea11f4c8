using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Stratus.Platform.Messaging;

namespace Stratus.Provisioning.Tests.Support;

/// <summary>
/// A `stratus up` whose network service is <see cref="NetworkStandIn"/> (Stratus:Services:network:Url), with short
/// network steps: network unreachable fails a provisioning after 15 s, a Cloud PC's move after 30 s. The network
/// client's secret is the test's, so a test can call provisioning as network does.
/// </summary>
public sealed class NetworkHost : ProvisioningHost
{
    public const string Collection = "network connections";

    public const string NetworkClientSecret = "network-secret-for-provisioning-tests";

    public static readonly TimeSpan MoveTimeout = TimeSpan.FromSeconds(30);

    private int announced;

    public NetworkStandIn Network { get; private set; } = null!;

    protected override IReadOnlyDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>
    {
        ["Stratus__Services__network__Url"] = Network.Address.ToString(),
        ["Stratus__Provisioning__NetworkSelectionTimeout"] = "00:00:15",
        ["Stratus__Provisioning__NetworkMoveTimeout"] = MoveTimeout.ToString(),
        ["Stratus__Clients__network__Secret"] = NetworkClientSecret,
    };

    public override async Task InitializeAsync()
    {
        Network = await NetworkStandIn.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Network is not null)
        {
            await Network.DisposeAsync();
        }
    }

    /// <summary>A client calling as the network service does: its own client token for the tenant with one scope.</summary>
    public async Task<HttpClient> NetworkServiceClientAsync(Guid tenantId, string scope)
    {
        var http = Stratus.NewClient();
        using var response = await http.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = "network", ["client_secret"] = NetworkClientSecret, ["scope"] = scope, ["tenant"] = tenantId.ToString(),
        }));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var token = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    /// <summary>What provisioning sent of one message type (its outbox, kept after relaying), oldest first.</summary>
    public async Task<List<JsonElement>> SentAsync(string messageType)
    {
        await using var db = OpenStore();
        var bodies = await db.OutboxMessages.AsNoTracking().Where(m => m.MessageType == messageType).OrderBy(m => m.Id).Select(m => m.Body).ToListAsync();
        return bodies.Select(b => JsonDocument.Parse(b).RootElement.Clone()).ToList();
    }

    /// <summary>
    /// A connection of the stand-in, announced to the real compute as the network service announces one (its
    /// network.connectionUpserted event, through an outbox), so that compute can place VMs on it: a subnet of its own.
    /// </summary>
    public async Task<StandInConnection> AddConnectionAsync(Guid tenantId, string displayName, string region = "local-1", string status = "passed", string? reason = null)
    {
        var connection = Network.Add(tenantId, displayName, region, status, reason);
        var n = Interlocked.Increment(ref announced);
        var prefix = $"10.{100 + (n / 200)}.{n % 200}";
        await PublishAsync(new StandInConnectionUpserted(tenantId, connection.Id, region, 1, $"{prefix}.0/24", $"{prefix}.1", 1500, "hostInterface", "eth0",
            null, null, null, null, [], null, [], [], TimeProvider.System.GetUtcNow()));
        return connection;
    }

    /// <summary>Publishes a message into provisioning's outbox, as compute would publish its event.</summary>
    public async Task PublishAsync<T>(T message)
        where T : notnull
    {
        await using var db = OpenStore();
        db.Publish(message);
        await db.SaveChangesAsync();
    }
}

/// <summary>STAND-IN for the network service's event (the connection the stand-in serves, as compute must learn it).</summary>
[MessageName("network.connectionUpserted.v1")]
public sealed record StandInConnectionUpserted(Guid TenantId, Guid ConnectionId, string Region, long Version, string Subnet,
    string Gateway, int Mtu, string UplinkKind, string UplinkInterface, int? VlanId, int? VxlanId, string? VxlanRemote,
    int? VxlanPort, IReadOnlyList<string> DnsServers, string? DnsSearchDomain, IReadOnlyList<string> DnsNamesToResolve,
    IReadOnlyList<string> RequiredEndpoints, DateTimeOffset OccurredAt);

[CollectionDefinition(NetworkHost.Collection)]
public sealed class NetworkHostCollection : ICollectionFixture<NetworkHost>;
