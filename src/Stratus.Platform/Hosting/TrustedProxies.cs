using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using IPNetwork = System.Net.IPNetwork;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Stratus.Platform.Hosting;

/// <summary>
/// The front door (issue 19) forwards a client's request with X-Forwarded-For, -Proto and -Host. An instance behind it
/// takes those as the request's own only from the addresses in Stratus:TrustedProxies (addresses or networks,
/// comma-separated): sign-in throttling then counts the person's address, not the front door's, and the links an
/// instance builds (the discovery document's) are the front door's. Not set: the headers are ignored, whoever sends them.
/// </summary>
public static class TrustedProxies
{
    public const string Key = "Stratus:TrustedProxies";

    internal static void AddTrustedProxies(this WebApplicationBuilder builder)
    {
        var networks = Parse(builder.Configuration[Key]);
        if (networks.Count == 0)
        {
            return;
        }

        builder.Services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
            // Only the front door, one hop: what a client put in the headers itself is not believed.
            options.ForwardLimit = 1;
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var network in networks)
            {
                options.KnownIPNetworks.Add(network);
            }
        });
    }

    internal static void UseTrustedProxies(this WebApplication app)
    {
        if (Parse(app.Configuration[Key]).Count > 0)
        {
            app.UseForwardedHeaders();
        }
    }

    /// <summary>The networks of Stratus:TrustedProxies; a mistake stops the start with the value to fix.</summary>
    public static IReadOnlyList<IPNetwork> Parse(string? value)
    {
        var networks = new List<IPNetwork>();
        foreach (var item in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (IPNetwork.TryParse(item, out var network))
            {
                networks.Add(network);
            }
            else if (IPAddress.TryParse(item, out var address))
            {
                networks.Add(new IPNetwork(address, address.GetAddressBytes().Length * 8));
            }
            else
            {
                throw new ConfigurationException($"{Key}: '{item}' is neither an IP address nor a network (such as 10.0.0.0/8); list the front door's addresses, comma-separated.");
            }
        }

        return networks;
    }
}
