using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Stratus.Platform.Http;

/// <summary>
/// How one service's calls to another behave when the other is slow or away: each attempt has a timeout,
/// reads (GET, HEAD) are retried with exponential backoff and jitter on a failure or a 5xx/408/429, writes are
/// never retried here (their callers decide, with their own idempotency), and a circuit breaker stops calling
/// an instance that fails most calls for a few seconds.
/// </summary>
public static class ServiceCallResilience
{
    public const string ClientName = "stratus-services";

    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(15);
    public static readonly TimeSpan TotalTimeout = TimeSpan.FromSeconds(40);

    public static IHttpClientBuilder AddServiceCallClient(this IServiceCollection services)
    {
        // Outermost: callers handle HttpRequestException (the other service is away); Polly's own exceptions
        // for a timeout or an open circuit mean the same and are turned into one.
        var client = services.AddHttpClient(ClientName).AddHttpMessageHandler(() => new PollyToHttpErrors());
        // One circuit per instance called: a failing service does not stop the calls to the others.
        client.AddStandardResilienceHandler(Configure).SelectPipelineByAuthority();
        return client;
    }

    public static void Configure(HttpStandardResilienceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.AttemptTimeout.Timeout = AttemptTimeout;
        options.TotalRequestTimeout.Timeout = TotalTimeout;
        options.Retry.MaxRetryAttempts = 3;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.UseJitter = true;
        options.Retry.DisableForUnsafeHttpMethods();
        options.CircuitBreaker.SamplingDuration = AttemptTimeout * 3;
        options.CircuitBreaker.MinimumThroughput = 20;
        options.CircuitBreaker.FailureRatio = 0.5;
        options.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(5);
    }

    private sealed class PollyToHttpErrors : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            try
            {
                return await base.SendAsync(request, cancellationToken);
            }
            catch (TimeoutRejectedException e)
            {
                throw new HttpRequestException($"{request.RequestUri?.GetLeftPart(UriPartial.Authority)} did not answer {request.Method} {request.RequestUri?.AbsolutePath} in time.", e);
            }
            catch (BrokenCircuitException e)
            {
                throw new HttpRequestException($"{request.RequestUri?.GetLeftPart(UriPartial.Authority)} failed most recent calls; calls to it pause for a few seconds.", e);
            }
        }
    }
}
