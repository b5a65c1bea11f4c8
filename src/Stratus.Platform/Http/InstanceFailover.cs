using System.Net;

namespace Stratus.Platform.Http;

/// <summary>
/// The instances of one service (one per zone, say) and the one calls go to now. Calls stay on the instance
/// that answered, so that a caller's long polls and reports go to one instance while it is healthy; one list
/// is shared by all the calls of a process to that service.
/// </summary>
public sealed class InstanceList
{
    private readonly Uri[] instances;
    private int current;

    public InstanceList(IReadOnlyList<Uri> instances)
    {
        ArgumentNullException.ThrowIfNull(instances);
        if (instances.Count == 0)
        {
            throw new ArgumentException("At least one instance URL is needed.", nameof(instances));
        }

        this.instances = [.. instances];
    }

    public int Count => instances.Length;

    /// <summary>The instance calls go to now.</summary>
    public Uri Current => instances[Volatile.Read(ref current) % instances.Length];

    /// <summary>Raised with the instance calls moved to.</summary>
    public event Action<Uri>? FailedOver;

    /// <summary>Parses "URL1,URL2": the first is where calls go first (the caller's own zone).</summary>
    public static InstanceList Parse(string urls)
    {
        ArgumentNullException.ThrowIfNull(urls);
        return new InstanceList(urls.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(u => new Uri(u)).ToList());
    }

    internal int Index => Volatile.Read(ref current);

    internal Uri At(int index) => instances[index % instances.Length];

    internal void MoveOn(int seen)
    {
        // Only the first of several failing calls moves on; the others then use the instance it chose.
        if (Interlocked.CompareExchange(ref current, seen + 1, seen) == seen)
        {
            FailedOver?.Invoke(Current);
        }
    }
}

/// <summary>
/// Sends each call to the current instance of an <see cref="InstanceList"/> and moves to the next when that one
/// cannot be reached or answers that it cannot serve (502, 503, 504). A call is sent again to the next instance
/// only then: a refused connection never reached the first, and a 502/503/504 is the instance saying it did not
/// take the request (Stratus answers 503 before it changes anything when its store is away).
/// </summary>
public sealed class InstanceFailover(InstanceList instances, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var pathAndQuery = request.RequestUri!.PathAndQuery;
        for (var attempt = 1; ; attempt++)
        {
            var index = instances.Index;
            request.RequestUri = new Uri(instances.At(index), pathAndQuery);
            var last = attempt >= instances.Count;
            HttpResponseMessage response;
            try
            {
                response = await base.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException) when (!last)
            {
                instances.MoveOn(index);
                continue;
            }

            if (!last && response.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout)
            {
                response.Dispose();
                instances.MoveOn(index);
                continue;
            }

            return response;
        }
    }
}
