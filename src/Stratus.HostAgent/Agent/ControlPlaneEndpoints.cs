using System.Net;

namespace Stratus.HostAgent.Agent;

/// <summary>
/// Sends the agent's calls to one of several control-plane instances (one per zone, say) and moves to the next
/// when the current one cannot be reached or answers that it cannot serve (502, 503, 504). It stays on the
/// instance that answered, so that an agent's long polls and reports go to one instance while it is healthy.
/// The agent's calls are idempotent (desired state, reports, operation results by id), so a call sent again to
/// another instance after a lost answer does no harm.
/// </summary>
public sealed class ControlPlaneEndpoints : DelegatingHandler
{
    private readonly Uri[] endpoints;
    private int current;

    public ControlPlaneEndpoints(IReadOnlyList<Uri> endpoints, HttpMessageHandler inner)
        : base(inner)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (endpoints.Count == 0)
        {
            throw new ArgumentException("At least one control-plane URL is needed.", nameof(endpoints));
        }

        this.endpoints = [.. endpoints];
    }

    /// <summary>The instance calls go to now.</summary>
    public Uri Current => endpoints[Volatile.Read(ref current) % endpoints.Length];

    /// <summary>Raised with the instance the agent moved to.</summary>
    public event Action<Uri>? FailedOver;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var pathAndQuery = request.RequestUri!.PathAndQuery;
        for (var attempt = 1; ; attempt++)
        {
            var index = Volatile.Read(ref current);
            request.RequestUri = new Uri(endpoints[index % endpoints.Length], pathAndQuery);
            var last = attempt >= endpoints.Length;
            HttpResponseMessage response;
            try
            {
                response = await base.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException) when (!last)
            {
                MoveOn(index);
                continue;
            }

            if (!last && response.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout)
            {
                response.Dispose();
                MoveOn(index);
                continue;
            }

            return response;
        }
    }

    private void MoveOn(int seen)
    {
        // Only the first of several failing calls moves the agent on; the others then use the instance it chose.
        if (Interlocked.CompareExchange(ref current, seen + 1, seen) == seen)
        {
            FailedOver?.Invoke(Current);
        }
    }
}
