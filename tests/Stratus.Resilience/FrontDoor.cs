using System.Diagnostics;
using System.Net.Http.Headers;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;

namespace Stratus.Resilience;

/// <summary>
/// What clients reach the region through, as a front door would be: requests are spread over the zones (round
/// robin) to the instance of the service that owns the path, and one that cannot be reached, does not answer within
/// the attempt timeout or answers 502/503/504 is sent to the other zone's instance; an instance that could not be
/// reached is tried last for a few seconds (a front door's passive health check). Every request is recorded:
/// availability is the share answered without a 5xx or a network error.
/// </summary>
public sealed class FrontDoor : IDisposable
{
    private readonly Dictionary<string, IReadOnlyList<Uri>> instances = new(StringComparer.Ordinal);
    private readonly List<Sample> samples = [];
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly HttpClient http;
    private readonly Dictionary<Uri, TimeSpan> unreachableUntil = [];
    private int next;

    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Ejection = TimeSpan.FromSeconds(5);

    public FrontDoor(Region region)
    {
        ArgumentNullException.ThrowIfNull(region);
        foreach (var service in Region.ServiceNames)
        {
            instances[service] = region.InstancesOf(service);
        }

        // A zone that is cut off does not refuse connections, it drops them: give up on it quickly.
        http = new HttpClient(region.TrustingLabCa(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(2), PooledConnectionLifetime = TimeSpan.FromSeconds(30) }))
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>
    /// Every path through one entry, the real front door of deploy/local-regions (`stratus run --targets frontdoor`):
    /// it picks the region and the instance; this only records what it answered.
    /// </summary>
    public FrontDoor(Uri entry, Region labCa)
    {
        ArgumentNullException.ThrowIfNull(labCa);
        foreach (var service in Region.ServiceNames)
        {
            instances[service] = [entry];
        }

        http = new HttpClient(labCa.TrustingLabCa(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(2), PooledConnectionLifetime = TimeSpan.FromSeconds(30) }))
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public TimeSpan Now => clock.Elapsed;

    public static string ServiceOf(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string[] provisioning = ["/api/v1/cloudPCs", "/api/v1/provisioningPolicies", "/api/v1/userSettings", "/api/v1/me/cloudPCs"];
        string[] compute = ["/api/v1/vms", "/api/v1/hosts", "/api/v1/regions", "/api/v1/agent"];
        return provisioning.Any(p => path.StartsWith(p, StringComparison.Ordinal)) ? "provisioning"
            : compute.Any(p => path.StartsWith(p, StringComparison.Ordinal)) ? "compute"
            : path.StartsWith("/api/v1/auditEvents", StringComparison.Ordinal) ? "diagnostics"
            : path.StartsWith("/api/v1/galleryImages", StringComparison.Ordinal) || path.StartsWith("/api/v1/deviceImages", StringComparison.Ordinal) ? "images"
            : "identity";
    }

    /// <summary>Sends a request (a JSON body if any) as the holder of the token; null when no instance answered.</summary>
    public async Task<HttpResponseMessage?> SendAsync(HttpMethod method, string path, string? token, object? body = null, string? idempotencyKey = null)
    {
        var first = Interlocked.Increment(ref next);
        var all = instances[ServiceOf(path)];
        var candidates = Enumerable.Range(0, all.Count).Select(i => all[(first + i) % all.Count]).OrderBy(IsEjected).ToList();
        var started = clock.Elapsed;
        string outcome = "";
        for (var attempt = 0; attempt < candidates.Count; attempt++)
        {
            var last = attempt == candidates.Count - 1;
            using var request = new HttpRequestMessage(method, new Uri(candidates[attempt], path))
            {
                Content = body is null ? null : JsonContent.Create(body),
            };
            if (token is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            if (idempotencyKey is not null)
            {
                request.Headers.Add("Idempotency-Key", idempotencyKey);
            }

            using var timeout = new CancellationTokenSource(AttemptTimeout);
            try
            {
                var response = await http.SendAsync(request, timeout.Token);
                if (!last && response.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout)
                {
                    response.Dispose();
                    continue;
                }

                // The real front door names the region that answered (deploy/local-regions); an instance alone does not.
                var region = response.Headers.TryGetValues("Stratus-Region", out var names) ? names.FirstOrDefault() : null;
                Record(started, (int)response.StatusCode < 500, method, path, ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture), region);
                return response;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not reached (refused, dropped) or no answer in time: the other zone's instance, as a front door would.
                outcome = e.GetType().Name;
                lock (unreachableUntil)
                {
                    unreachableUntil[candidates[attempt]] = clock.Elapsed + Ejection;
                }
            }
        }

        Record(started, false, method, path, outcome);
        return null;
    }

    private bool IsEjected(Uri instance)
    {
        lock (unreachableUntil)
        {
            return unreachableUntil.TryGetValue(instance, out var until) && until > clock.Elapsed;
        }
    }

    /// <summary>The requests that started in [from, to).</summary>
    public IReadOnlyList<Sample> SamplesBetween(TimeSpan from, TimeSpan to)
    {
        lock (samples)
        {
            return samples.Where(s => s.At >= from && s.At < to).ToList();
        }
    }

    private void Record(TimeSpan started, bool ok, HttpMethod method, string path, string outcome, string? region = null)
    {
        lock (samples)
        {
            samples.Add(new Sample(started, clock.Elapsed, ok, $"{method} {path} -> {outcome}", region, method != HttpMethod.Get));
        }
    }

    public void Dispose() => http.Dispose();

    /// <param name="Region">The region that answered (the Stratus-Region header), when known.</param>
    public sealed record Sample(TimeSpan At, TimeSpan Answered, bool Ok, string What, string? Region = null, bool IsWrite = false);
}
