using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Platform.Auth;
using Stratus.Platform.Hosting;
using Stratus.Platform.Http;

namespace Stratus.Platform.Regions;

/// <summary>
/// Asks the front door for this instance's region lease every third of it (ADR 0017) and applies the answer to
/// <see cref="RegionWritability"/>: writable only for a lease of its own region with Writable set, after the region's
/// store is promoted for that lease's epoch; demotes the store when the other region is writable. A lease of an epoch
/// older than one already seen is ignored. When no front door answers, nothing is renewed and the held lease runs out.
/// Inert in a single region.
/// </summary>
public sealed partial class RegionLeaseKeeper(
    RegionWritability writability,
    IOptions<RegionOptions> options,
    ClientTokens tokens,
    ServiceCalls calls,
    IHttpClientFactory httpClients,
    IServiceProvider services,
    IConfiguration configuration,
    IHostApplicationLifetime lifetime,
    TimeProvider clock,
    ILogger<RegionLeaseKeeper> logger) : BackgroundService
{
    public const string HttpClientName = "stratus-frontdoor";

    private static readonly TimeSpan ShortestRenewal = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LongestRenewal = TimeSpan.FromSeconds(10);

    private readonly IRegionStore? store = services.GetService<IRegionStore>();
    private long promotedEpoch = -1;
    private long demotedEpoch = -1;
    private int frontDoor;
    private bool failing;
    private bool reportedWritable;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.IsConfigured)
        {
            return;
        }

        if (!await lifetime.WaitUntilStartedAsync(stoppingToken))
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var next = await RenewOnceAsync(stoppingToken);
            try
            {
                await Task.Delay(next, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One ask and its effects; the wait until the next.</summary>
    internal async Task<TimeSpan> RenewOnceAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var next = settings.RetryInterval;
        RegionLease? lease = null;
        try
        {
            lease = await AskAsync(cancellationToken);
            if (failing)
            {
                failing = false;
                LogRecovered(logger, settings.Name!);
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            if (!failing)
            {
                failing = true;
                LogFailing(logger, settings.Name!, Describe(e), settings.RetryInterval);
            }
        }

        if (lease is not null)
        {
            try
            {
                await ApplyAsync(lease, cancellationToken);
                var left = lease.ValidUntil - clock.GetUtcNow();
                next = settings.RenewInterval ?? TimeSpan.FromTicks(Math.Clamp(left.Ticks / 3, ShortestRenewal.Ticks, LongestRenewal.Ticks));
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // The store did not follow (Patroni away): not writable, and the same lease's change is tried again soon.
                LogStoreFailed(logger, e, settings.Name!, lease.Epoch, Describe(e), settings.RetryInterval);
            }
        }

        await RefreshStoreRoleAsync(cancellationToken);
        var writable = writability.IsWritable;
        if (writable != reportedWritable)
        {
            reportedWritable = writable;
            var state = writability.Current;
            if (writable)
            {
                LogWritable(logger, settings.Name!, state.Epoch ?? 0, state.WritableUntil ?? default);
            }
            else
            {
                LogReadOnly(logger, settings.Name!, state.WritableRegion ?? "none known", state.Epoch ?? 0);
            }
        }

        return next;
    }

    /// <summary>Asks each front door URL in turn, from the one that answered last, until one answers.</summary>
    private async Task<RegionLease> AskAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var urls = settings.FrontDoors();
        var client = settings.Client ?? configuration[RevocationPoller.ClientKey] ?? "identity";
        var request = new ClientTokenRequest(client, RegionLeaseApi.Scope, null);
        var path = $"{RegionLeaseApi.Path}?region={Uri.EscapeDataString(settings.Name!)}";
        string token;
        using (var tokenDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            // Usually held already (ClientTokens keeps it until shortly before it expires).
            tokenDeadline.CancelAfter(settings.RequestTimeout * 3);
            token = await tokens.GetAsync(request, () => calls.Anonymous("identity"), tokenDeadline.Token);
        }

        Exception? last = null;
        for (var tried = 0; tried < urls.Count; tried++)
        {
            var index = (frontDoor + tried) % urls.Count;
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(settings.RequestTimeout);
            try
            {
                using var http = httpClients.CreateClient(HttpClientName);
                using var ask = new HttpRequestMessage(HttpMethod.Get, new Uri(urls[index], path));
                ask.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                var sentAt = clock.GetUtcNow();
                using var response = await http.SendAsync(ask, deadline.Token);
                if (response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    // Revoked or signed with a key gone: the next ask gets a fresh one.
                    tokens.Forget(request);
                }

                if (!response.IsSuccessStatusCode)
                {
                    throw new HttpRequestException($"{urls[index]} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(deadline.Token)}",
                        null, response.StatusCode);
                }

                var lease = await response.Content.ReadFromJsonAsync<RegionLease>(deadline.Token)
                    ?? throw new HttpRequestException($"{urls[index]} answered an empty lease");
                frontDoor = index;
                return lease with { ValidUntil = MeasuredOnThisClock(lease, response.Headers.Date, sentAt) };
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested
                                      && e is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException or InvalidOperationException)
            {
                last = e;
            }
        }

        throw new HttpRequestException($"no front door answered ({string.Join(", ", urls)}): {Describe(last!)}", last);
    }

    /// <summary>
    /// The lease's end on this machine's clock: the front door's clock may be set apart from this one, so the lease
    /// counts as the span it gave (its end less its answer's Date) from the moment the question left here, less the
    /// second the Date header rounds away (ADR 0017). The span begins when the front door granted it, after the
    /// question left, so counting from the question ends it early, never late.
    /// </summary>
    internal static DateTimeOffset MeasuredOnThisClock(RegionLease lease, DateTimeOffset? answeredAt, DateTimeOffset sentAt)
    {
        if (answeredAt is not { } date)
        {
            return lease.ValidUntil;
        }

        return sentAt + (lease.ValidUntil - date) - TimeSpan.FromSeconds(1);
    }

    /// <summary>Promotes (then grants) or demotes (and withholds) for one lease; an older epoch changes nothing.</summary>
    internal async Task ApplyAsync(RegionLease lease, CancellationToken cancellationToken)
    {
        var own = options.Value.Name!;
        if (!string.Equals(lease.Region, own, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"the front door answered a lease for region '{lease.Region}' to region '{own}'");
        }

        var held = writability.Epoch;
        if (lease.Epoch < held)
        {
            // A front door that lost its state, or an answer overtaken by a newer one: epoch N-1 never undoes N.
            LogStaleEpoch(logger, lease.Epoch, held);
            return;
        }

        if (lease.Writable && string.Equals(lease.WritableRegion, own, StringComparison.Ordinal))
        {
            if (promotedEpoch < lease.Epoch)
            {
                // The store takes writes before this instance says it does; until then it refuses them.
                writability.Withhold(lease);
                if (store is not null)
                {
                    await WithDeadlineAsync(token => store.PromoteAsync(lease.Epoch, token), cancellationToken);
                    LogPromoted(logger, own, lease.Epoch);
                }

                promotedEpoch = lease.Epoch;
            }

            writability.Grant(lease, lease.ValidUntil - options.Value.ClockSkewMargin);
            return;
        }

        writability.Withhold(lease);
        if (!string.Equals(lease.WritableRegion, own, StringComparison.Ordinal) && demotedEpoch < lease.Epoch)
        {
            if (store is not null)
            {
                await WithDeadlineAsync(token => store.DemoteAsync(lease.Epoch, token), cancellationToken);
                LogDemoted(logger, own, lease.WritableRegion, lease.Epoch);
            }

            demotedEpoch = lease.Epoch;
        }
    }

    private async Task RefreshStoreRoleAsync(CancellationToken cancellationToken)
    {
        if (store is null)
        {
            return;
        }

        try
        {
            writability.ReportStoreRole(await WithDeadlineAsync(store.RoleAsync, cancellationToken));
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            writability.ReportStoreRole(StoreRole.Unknown);
        }
    }

    private async Task<T> WithDeadlineAsync<T>(Func<CancellationToken, Task<T>> action, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.Value.StoreTimeout);
        return await action(deadline.Token);
    }

    private Task WithDeadlineAsync(Func<CancellationToken, Task> action, CancellationToken cancellationToken) =>
        WithDeadlineAsync(async token =>
        {
            await action(token);
            return true;
        }, cancellationToken);

    private static string Describe(Exception e) => e.GetBaseException().Message;

    [LoggerMessage(EventId = 1971, Level = LogLevel.Warning, Message = "Region {Region}: cannot renew the lease ({Reason}); the held lease runs out and this instance stops writing; asking again every {RetryInterval}")]
    private static partial void LogFailing(ILogger logger, string region, string reason, TimeSpan retryInterval);

    [LoggerMessage(EventId = 1978, Level = LogLevel.Warning, Message = "Region {Region}: could not act on the lease of epoch {Epoch} ({Reason}); read-only until it succeeds; trying again every {RetryInterval}")]
    private static partial void LogStoreFailed(ILogger logger, Exception exception, string region, long epoch, string reason, TimeSpan retryInterval);

    [LoggerMessage(EventId = 1972, Level = LogLevel.Information, Message = "Region {Region}: the front door answers again")]
    private static partial void LogRecovered(ILogger logger, string region);

    [LoggerMessage(EventId = 1973, Level = LogLevel.Warning, Message = "Ignored a lease of epoch {Epoch}: epoch {Held} was already seen")]
    private static partial void LogStaleEpoch(ILogger logger, long epoch, long held);

    [LoggerMessage(EventId = 1974, Level = LogLevel.Information, Message = "Region {Region}: promoted the region's store for epoch {Epoch}")]
    private static partial void LogPromoted(ILogger logger, string region, long epoch);

    [LoggerMessage(EventId = 1975, Level = LogLevel.Information, Message = "Region {Region}: demoted the region's store to replicate from region {WritableRegion} (epoch {Epoch})")]
    private static partial void LogDemoted(ILogger logger, string region, string writableRegion, long epoch);

    [LoggerMessage(EventId = 1976, Level = LogLevel.Information, Message = "Region {Region} is writable on this instance: epoch {Epoch}, lease until {Until:O}")]
    private static partial void LogWritable(ILogger logger, string region, long epoch, DateTimeOffset until);

    [LoggerMessage(EventId = 1977, Level = LogLevel.Warning, Message = "Region {Region} is read-only on this instance: writes are refused and background writers wait (writable region: {WritableRegion}, epoch {Epoch})")]
    private static partial void LogReadOnly(ILogger logger, string region, string writableRegion, long epoch);
}
