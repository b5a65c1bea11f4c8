using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Stratus.Platform.Auth;

namespace Stratus.Platform.Http;

/// <summary>
/// HTTP calls from one service to another's public API. A service calls as itself: a token from identity's
/// token endpoint for its own client credentials, with the one scope the call needs (ADR 0010); a portal page
/// calls as its signed-in user, with the user's own token. The other service's address is
/// Stratus:Services:NAME:Url, else Stratus:Services:Url, else this process's own address (all-in-one, where
/// every service listens on it). Several comma-separated URLs are the service's instances in several zones,
/// the caller's own first: calls move to the next when one cannot be reached.
/// </summary>
public sealed partial class ServiceCalls(IHttpMessageHandlerFactory handlers, ClientTokens tokens, IServer server, IConfiguration configuration,
    ILogger<ServiceCalls> logger)
{
    private readonly ConcurrentDictionary<string, InstanceList> instanceLists = new(StringComparer.Ordinal);

    /// <summary>Beyond the retries' own total timeout (ServiceCallResilience), which ends a call first.</summary>
    public static readonly TimeSpan Timeout = ServiceCallResilience.TotalTimeout + TimeSpan.FromSeconds(5);

    /// <param name="caller">The calling service, whose client credentials ask for the token.</param>
    /// <param name="tenantId">The tenant the calls are for; identity gives one only to a client whose work spans
    /// tenants (ADR 0016): one acting for a user uses <see cref="ForUser"/>.</param>
    /// <param name="scope">The one scope the call needs (<see cref="StratusScopes"/>).</param>
    public HttpClient For(string caller, string service, Guid? tenantId, string scope)
    {
        var request = new ClientTokenRequest(caller, scope, tenantId);
        return CreateClient(service, new BearerHandler(
            cancellationToken => tokens.GetAsync(request, () => CreateClient("identity", null), cancellationToken), () => tokens.Forget(request)));
    }

    /// <summary>
    /// A call by <paramref name="caller"/> for the user whose own access token <paramref name="userToken"/> is, with
    /// the one scope it needs: the token identity exchanges it for (RFC 8693) has that user's tenant and id, whatever
    /// the caller would like (ADR 0016).
    /// </summary>
    public HttpClient ForUser(string caller, string service, string scope, string userToken) => CreateClient(service, new BearerHandler(
        cancellationToken => ExchangeAsync(caller, userToken, scope, cancellationToken), () => { }));

    /// <summary>The delegated token itself (RFC 8693), for a call made later with <see cref="AsAccount"/>.</summary>
    public Task<string> ExchangeAsync(string caller, string userToken, string scope, CancellationToken cancellationToken) =>
        tokens.ExchangeAsync(caller, userToken, scope, () => CreateClient("identity", null), cancellationToken);

    /// <summary>
    /// A call as the signed-in account itself (a portal page acting for its user) with the token identity
    /// issued to it: the other service authorizes, scopes to the tenant and audits as it would the user's own request.
    /// </summary>
    public HttpClient AsAccount(string service, string accessToken)
    {
        var client = CreateClient(service, null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return client;
    }

    /// <summary>A call without a token (identity's discovery documents).</summary>
    public HttpClient Anonymous(string service) => CreateClient(service, null);

    private HttpClient CreateClient(string service, DelegatingHandler? outer)
    {
        var configured = configuration[$"Stratus:Services:{service}:Url"] ?? configuration["Stratus:Services:Url"];
        // The factory's handler chain (retries, circuit per instance), under the failover between instances if
        // there are several; the chain is the factory's to dispose.
        HttpMessageHandler handler = handlers.CreateHandler(ServiceCallResilience.ClientName);
        Uri address;
        if (configured is not null && configured.Contains(',', StringComparison.Ordinal))
        {
            var instances = instanceLists.GetOrAdd(configured, urls =>
            {
                var list = InstanceList.Parse(urls);
                list.FailedOver += next => LogFailedOver(logger, service, next);
                return list;
            });
            handler = new InstanceFailover(instances, handler);
            address = instances.Current;
        }
        else
        {
            address = configured is not null ? new Uri(configured)
                : OwnAddress(server) ?? throw new InvalidOperationException($"No address for the {service} service: set Stratus:Services:{service}:Url.");
        }

        if (outer is not null)
        {
            outer.InnerHandler = handler;
            handler = outer;
        }

        return new HttpClient(handler, disposeHandler: false) { BaseAddress = address, Timeout = Timeout };
    }

    /// <summary>
    /// Sends the held token; a 401 means it was revoked since it was issued (its user or tenant was disabled, then
    /// enabled again) or its key is gone, so the call is sent once more with a fresh one instead of failing until
    /// the held token would have been renewed.
    /// </summary>
    private sealed class BearerHandler(Func<CancellationToken, Task<string>> token, Action forget) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await token(cancellationToken));
            var response = await base.SendAsync(request, cancellationToken);
            if (response.StatusCode != System.Net.HttpStatusCode.Unauthorized)
            {
                return response;
            }

            response.Dispose();
            forget();
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await token(cancellationToken));
            return await base.SendAsync(request, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Calls to the {Service} service moved to {Instance}: the previous instance did not answer")]
    private static partial void LogFailedOver(ILogger logger, string service, Uri instance);

    /// <summary>Where this process listens, as a loopback URL another part of it can call; null before it listens.</summary>
    public static Uri? OwnAddress(IServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        var own = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        if (own is null)
        {
            return null;
        }

        var uri = new UriBuilder(own.Replace("://*", "://127.0.0.1", StringComparison.Ordinal).Replace("://+", "://127.0.0.1", StringComparison.Ordinal));
        if (uri.Host is "0.0.0.0" or "[::]" or "localhost")
        {
            uri.Host = "127.0.0.1";
        }

        return uri.Uri;
    }
}
