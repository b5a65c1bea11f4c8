using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Stratus.Platform.Regions;

/// <summary>
/// A region's Patroni cluster as the region's store (ADR 0018). The writable region's cluster is an ordinary Patroni
/// cluster; the other region's is a Patroni standby cluster whose standby leader replicates asynchronously from the
/// writable one. Promotion removes standby_cluster from the cluster's dynamic configuration and demotion sets it to the
/// other region's nodes, both through Patroni's REST API (PATCH /config), which stores it in the region's own DCS;
/// Patroni does the rest (promotes the standby leader; demotes the leader and rewinds it with pg_rewind).
/// The epoch of the last change is kept beside it (stratus_epoch): a call for an older epoch than the cluster's is
/// refused, so that a late promotion or demotion cannot undo a newer one.
/// </summary>
public sealed partial class PatroniRegionStore(HttpClient http, IOptions<PatroniRegionStoreOptions> options, TimeProvider time, ILogger<PatroniRegionStore> logger)
    : IRegionStore
{
    /// <summary>The key of the dynamic configuration that holds the epoch of the cluster's last promotion or demotion.</summary>
    public const string EpochKey = "stratus_epoch";

    /// <summary>The key of the dynamic configuration that holds the timeline the cluster's last promotion began.</summary>
    public const string PromotedTimelineKey = "stratus_promoted_timeline";

    private readonly PatroniRegionStoreOptions settings = options.Value;

    public async Task<StoreRole> RoleAsync(CancellationToken cancellationToken)
    {
        var cluster = await GetFromAnyAsync("cluster", cancellationToken);
        var leader = cluster?["members"]?.AsArray().FirstOrDefault(m => m?["role"]?.GetValue<string>() is "leader" or "standby_leader");
        var wanted = leader?["role"]?.GetValue<string>();
        if (wanted is null)
        {
            // No leader (an election under way) or no node answered.
            return StoreRole.Unknown;
        }

        // /cluster names the leader's role by the configuration alone: right after a change its PostgreSQL may still
        // be in recovery (a promotion) or still take writes (a demotion, until Patroni has restarted and rewound it).
        // The nodes themselves say what their PostgreSQL does (pg_is_in_recovery()).
        var running = new List<string>();
        foreach (var url in settings.RestUrls)
        {
            var node = await GetAsync(url, "patroni", cancellationToken);
            if (node?["state"]?.GetValue<string>() == "running" && node["role"]?.GetValue<string>() is { } role)
            {
                running.Add(role);
            }
        }

        var anyPrimary = running.Any(r => r is "master" or "primary");
        return wanted == "leader"
            ? anyPrimary ? StoreRole.Primary : StoreRole.Unknown
            : !anyPrimary && running.Contains("standby_leader") ? StoreRole.Standby : StoreRole.Unknown;
    }

    public async Task PromoteAsync(long epoch, CancellationToken cancellationToken)
    {
        if (await RoleAsync(cancellationToken) == StoreRole.Primary && (await GetFromAnyAsync("config", cancellationToken))?[EpochKey]?.GetValue<long>() >= epoch)
        {
            return;
        }

        await PatchConfigAsync(epoch, new JsonObject { ["standby_cluster"] = null }, "promote", cancellationToken);
        await WaitForRoleAsync(StoreRole.Primary, epoch, cancellationToken);
        // The timeline the promotion began: the other region, when demoted, must be below it to be rewound (see DemoteAsync).
        if (await NodesTimelineAsync(cancellationToken) is { } timeline)
        {
            await PatchConfigAsync(epoch, new JsonObject { [PromotedTimelineKey] = timeline }, "record the timeline of", cancellationToken);
        }

        LogPromoted(logger, epoch);
    }

    public async Task DemoteAsync(long epoch, CancellationToken cancellationToken)
    {
        var (host, port, otherPromotedTimeline) = await OtherRegionLeaderAsync(cancellationToken);
        if (await NodesTimelineAsync(cancellationToken) is { } timeline && timeline >= otherPromotedTimeline && await RoleAsync(cancellationToken) != StoreRole.Standby)
        {
            // The other region's primary began timeline otherPromotedTimeline when it was promoted from this cluster's
            // history. This cluster reached that number on its own (Patroni promotes a leader that restarts after a
            // crash): the same number, two histories. Patroni 3.0.2 compares timeline numbers only, would find nothing
            // to rewind (or rewind against the wrong switch point) and stall. Only a new copy of the other region fixes it.
            throw new RegionStoreDivergedException(string.Create(CultureInfo.InvariantCulture,
                $"Cannot demote the region's cluster for epoch {epoch}: it is on timeline {timeline}, and the other region's primary ({host}:{port}) began timeline {otherPromotedTimeline} when it was promoted: their histories diverged where pg_rewind cannot tell. Make this region's nodes new copies of the other region's (docs/adr/0018)."));
        }

        var change = new JsonObject
        {
            // Patroni merges a PATCH into what is there: host and port replace any earlier ones.
            ["standby_cluster"] = new JsonObject { ["host"] = host, ["port"] = port, ["create_replica_methods"] = new JsonArray("basebackup") },
            ["postgresql"] = new JsonObject { ["use_pg_rewind"] = settings.UsePgRewind },
        };
        await PatchConfigAsync(epoch, change, "demote", cancellationToken);
        await WaitForRoleAsync(StoreRole.Standby, epoch, cancellationToken);
        await ReinitializeReplicasLeftBehindAsync(cancellationToken);
        LogDemoted(logger, epoch, host, port);
    }

    /// <summary>The other region's primary, which a demoted cluster replicates from and rewinds to (pg_rewind needs a primary).</summary>
    private async Task<(string Host, int Port, long Timeline)> OtherRegionLeaderAsync(CancellationToken cancellationToken)
    {
        foreach (var url in settings.OtherRegionRestUrls)
        {
            var cluster = await GetAsync(url, "cluster", cancellationToken);
            var leader = cluster?["members"]?.AsArray().FirstOrDefault(m => m?["role"]?.GetValue<string>() == "leader");
            if (leader?["host"]?.GetValue<string>() is { } host && leader["port"]?.GetValue<int>() is { } port && leader["timeline"]?.GetValue<long>() is { } timeline)
            {
                var config = await GetAsync(url, "config", cancellationToken);
                return (host, port, config?[PromotedTimelineKey]?.GetValue<long>() ?? timeline);
            }
        }

        throw new RegionStoreUnavailableException(
            $"Cannot demote the region's cluster: the other region has no primary to replicate from (asked {string.Join(", ", settings.OtherRegionRestUrls)}).");
    }

    /// <summary>
    /// Patroni 3.0.2 rewinds only the standby leader: a replica that had received the former primary's last commits
    /// (the synchronous standby always has) cannot follow the rewound leader onto the other region's timeline and
    /// waits forever. Replicas still below the leader's timeline after a grace are made new copies of the leader
    /// (POST /reinitialize): the region is not writable meanwhile, so nothing waits on them.
    /// </summary>
    private async Task ReinitializeReplicasLeftBehindAsync(CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + TimeSpan.FromSeconds(15);
        while (true)
        {
            var nodes = new List<(Uri Url, string Role, long Timeline)>();
            foreach (var url in settings.RestUrls)
            {
                if (await GetAsync(url, "patroni", cancellationToken) is { } node && node["role"]?.GetValue<string>() is { } role && node["timeline"]?.GetValue<long>() is { } timeline)
                {
                    nodes.Add((url, role, timeline));
                }
            }

            var leaderTimeline = nodes.Where(n => n.Role == "standby_leader").Select(n => (long?)n.Timeline).FirstOrDefault();
            var behind = nodes.Where(n => n.Role == "replica" && n.Timeline < leaderTimeline).ToList();
            if (behind.Count == 0)
            {
                return;
            }

            if (time.GetUtcNow() >= deadline)
            {
                foreach (var (url, _, timeline) in behind)
                {
                    using var timeout = Deadline(cancellationToken);
                    using var content = new StringContent("{\"force\":true}", Encoding.UTF8, "application/json");
                    using var response = await http.PostAsync(new Uri(url, "reinitialize"), content, timeout.Token);
                    LogReinitialized(logger, url, timeline, leaderTimeline ?? 0, (int)response.StatusCode);
                }

                return;
            }

            await Task.Delay(settings.PollInterval, time, cancellationToken);
        }
    }

    /// <summary>The highest timeline this region's running nodes are on, as their PostgreSQL says (/patroni); null when none answers.</summary>
    private async Task<long?> NodesTimelineAsync(CancellationToken cancellationToken)
    {
        long? highest = null;
        foreach (var url in settings.RestUrls)
        {
            if ((await GetAsync(url, "patroni", cancellationToken))?["timeline"]?.GetValue<long>() is { } timeline && timeline > (highest ?? 0))
            {
                highest = timeline;
            }
        }

        return highest;
    }

    private async Task PatchConfigAsync(long epoch, JsonObject change, string action, CancellationToken cancellationToken)
    {
        Exception? last = null;
        // A 409 means the configuration changed between Patroni's read and its write (another instance of the region
        // doing the same): read again and retry, the epoch check included.
        for (var attempt = 0; attempt < 5; attempt++)
        {
            foreach (var url in settings.RestUrls)
            {
                try
                {
                    var config = await GetAsync(url, "config", cancellationToken)
                        ?? throw new HttpRequestException($"{url} did not answer GET /config");
                    if (config[EpochKey]?.GetValue<long>() is { } current && current > epoch)
                    {
                        throw new StaleRegionEpochException(
                            $"Refusing to {action} the region's cluster for epoch {epoch}: it was already changed for epoch {current}.");
                    }

                    var body = change.DeepClone().AsObject();
                    body[EpochKey] = epoch;
                    using var timeout = Deadline(cancellationToken);
                    // A string, not JsonContent: Patroni's REST API answers a chunked body (no Content-Length) with 411.
                    using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
                    using var response = await http.PatchAsync(new Uri(url, "config"), content, timeout.Token);
                    if (response.StatusCode == HttpStatusCode.Conflict)
                    {
                        last = new HttpRequestException($"{url}: PATCH /config conflicted with another change");
                        continue;
                    }

                    response.EnsureSuccessStatusCode();
                    LogConfigChanged(logger, action, epoch, url);
                    return;
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    // That node is away or slow: another node of the region takes the same call.
                    LogNodeFailed(logger, e, url, action);
                    last = e;
                }
            }

            await Task.Delay(settings.PollInterval, time, cancellationToken);
        }

        throw new RegionStoreUnavailableException($"Could not {action} the region's cluster for epoch {epoch}: no Patroni node of {string.Join(", ", settings.RestUrls)} took the change.", last);
    }

    private async Task WaitForRoleAsync(StoreRole wanted, long epoch, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + settings.RoleChangeTimeout;
        var role = StoreRole.Unknown;
        while (time.GetUtcNow() < deadline)
        {
            role = await RoleAsync(cancellationToken);
            if (role == wanted)
            {
                return;
            }

            await Task.Delay(settings.PollInterval, time, cancellationToken);
        }

        throw new RegionStoreUnavailableException(string.Create(CultureInfo.InvariantCulture,
            $"The region's cluster did not become {wanted} for epoch {epoch} within {settings.RoleChangeTimeout.TotalSeconds:0} s (last seen: {role}); Patroni's logs say why."));
    }

    private async Task<JsonNode?> GetFromAnyAsync(string path, CancellationToken cancellationToken)
    {
        foreach (var url in settings.RestUrls)
        {
            if (await GetAsync(url, path, cancellationToken) is { } answer)
            {
                return answer;
            }
        }

        return null;
    }

    /// <summary>GET url/path as JSON; null when the node does not answer in time. Patroni answers /patroni with 503 on a replica, with the same body.</summary>
    private async Task<JsonNode?> GetAsync(Uri url, string path, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = Deadline(cancellationToken);
            using var response = await http.GetAsync(new Uri(url, path), timeout.Token);
            if (!response.IsSuccessStatusCode && response.StatusCode != HttpStatusCode.ServiceUnavailable)
            {
                return null;
            }

            return await response.Content.ReadFromJsonAsync<JsonNode>(timeout.Token);
        }
        catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogNodeFailed(logger, e, url, path);
            return null;
        }
    }

    private CancellationTokenSource Deadline(CancellationToken cancellationToken)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        source.CancelAfter(settings.CallTimeout);
        return source;
    }

    [LoggerMessage(EventId = 7851, Level = LogLevel.Information, Message = "Region store: asked Patroni at {Url} to {Action} the cluster for epoch {Epoch}")]
    private static partial void LogConfigChanged(ILogger logger, string action, long epoch, Uri url);

    [LoggerMessage(EventId = 7852, Level = LogLevel.Warning, Message = "Region store: the region's cluster takes writes (epoch {Epoch})")]
    private static partial void LogPromoted(ILogger logger, long epoch);

    [LoggerMessage(EventId = 7853, Level = LogLevel.Warning, Message = "Region store: the region's cluster replicates from the other region's primary at {Host}:{Port} (epoch {Epoch})")]
    private static partial void LogDemoted(ILogger logger, long epoch, string host, int port);

    [LoggerMessage(EventId = 7855, Level = LogLevel.Warning, Message = "Region store: the replica at {Url} stayed on timeline {Timeline} below its leader's {LeaderTimeline}: asked Patroni to make it a new copy (HTTP {Status})")]
    private static partial void LogReinitialized(ILogger logger, Uri url, long timeline, long leaderTimeline, int status);

    [LoggerMessage(EventId = 7854, Level = LogLevel.Debug, Message = "Region store: Patroni at {Url} did not answer ({What})")]
    private static partial void LogNodeFailed(ILogger logger, Exception exception, Uri url, string what);
}

/// <summary>The region's cluster could not be reached or did not take the new role in time; the caller tries again later.</summary>
public sealed class RegionStoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The cluster's history diverged from the other region's where pg_rewind cannot repair it: it needs a new copy.</summary>
public sealed class RegionStoreDivergedException(string message) : Exception(message);

/// <summary>The cluster was already promoted or demoted for a newer epoch than the one asked for.</summary>
public sealed class StaleRegionEpochException(string message) : Exception(message);
