using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Claims;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Stratus.Platform.Auth;

namespace Stratus.Platform.Http;

/// <summary>
/// HTTP calls from one service to another's public API, as a workload of a tenant: the caller mints a short
/// token with the shared signing key (ADR 0003) naming the tenant and the least role the call needs. The
/// other service's address is Stratus:Services:NAME:Url, else Stratus:Services:Url, else this process's own
/// address (all-in-one, where every service listens on it). Several comma-separated URLs are the service's
/// instances in several zones, the caller's own first: calls move to the next when one cannot be reached.
/// </summary>
public sealed partial class ServiceCalls(IHttpClientFactory clients, IHttpMessageHandlerFactory handlers, TokenIssuer tokens, IServer server, IConfiguration configuration,
    ILogger<ServiceCalls> logger)
{
    private readonly ConcurrentDictionary<string, InstanceList> instanceLists = new(StringComparer.Ordinal);

    /// <summary>Beyond the retries' own total timeout (ServiceCallResilience), which ends a call first.</summary>
    public static readonly TimeSpan Timeout = ServiceCallResilience.TotalTimeout + TimeSpan.FromSeconds(5);

    /// <param name="onBehalfOf">The account the call is for, where the other service answers per user (/me).</param>
    public HttpClient For(string service, Guid? tenantId, string role, Guid? onBehalfOf = null)
    {
        var client = CreateClient(service);
        var token = tokens.Issue(new AccountIdentity(onBehalfOf ?? Guid.Empty, $"service:{service}", tenantId, [role]));
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>
    /// A call as the signed-in account itself (a portal page acting for its user): the token carries exactly
    /// the account's claims, so the other service authorizes, scopes to the tenant and audits as it would the
    /// user's own request.
    /// </summary>
    public HttpClient AsAccount(string service, ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var client = CreateClient(service);
        var roles = user.FindAll(StratusClaims.Role).Select(c => c.Value).ToList();
        var token = tokens.Issue(new AccountIdentity(user.AccountId(), user.UserName(), user.TenantId(), roles));
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private HttpClient CreateClient(string service)
    {
        var configured = configuration[$"Stratus:Services:{service}:Url"] ?? configuration["Stratus:Services:Url"];
        HttpClient client;
        if (configured is not null && configured.Contains(',', StringComparison.Ordinal))
        {
            var instances = instanceLists.GetOrAdd(configured, urls =>
            {
                var list = InstanceList.Parse(urls);
                list.FailedOver += next => LogFailedOver(logger, service, next);
                return list;
            });

            // The factory's handler chain (retries, circuit per instance) under the failover between instances;
            // the chain is the factory's to dispose.
            client = new HttpClient(new InstanceFailover(instances, handlers.CreateHandler(ServiceCallResilience.ClientName)), disposeHandler: false)
            {
                BaseAddress = instances.Current,
            };
        }
        else
        {
            client = clients.CreateClient(ServiceCallResilience.ClientName);
            client.BaseAddress = configured is not null ? new Uri(configured)
                : OwnAddress(server) ?? throw new InvalidOperationException($"No address for the {service} service: set Stratus:Services:{service}:Url.");
        }

        client.Timeout = Timeout;
        return client;
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
