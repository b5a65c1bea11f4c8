using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Stratus.Provisioning.Tests.Support;

/// <summary>A connection as the stand-in knows it: whose, where, and whether its checks let it be chosen (else why not).</summary>
public sealed record StandInConnection(Guid TenantId, Guid Id, string DisplayName, string Region, string HealthCheckStatus, string? Reason)
{
    public bool Usable => HealthCheckStatus is "passed" or "warning";
}

/// <summary>A call the stand-in answered: the tenant of its token, and what it asked.</summary>
public sealed record StandInCall(Guid? TenantId, string Method, string Path, string? Body);

/// <summary>
/// A STAND-IN for the network service (Stratus.Network is built by another engineer at the same time): a real
/// Kestrel server on 127.0.0.1 answering the two endpoints of the issue 20 contract provisioning calls,
/// `GET /api/v1/onPremisesConnections/{id}` (404 when not the caller's tenant's) and
/// `POST /api/v1/networkConnectionSelections` (the first usable entry in order, "hosted" always usable, with the
/// skipped ones and why), from a table the test sets. It does not check tokens; it reads the tenant from them.
/// </summary>
public sealed class NetworkStandIn : IAsyncDisposable
{
    private readonly ConcurrentDictionary<Guid, StandInConnection> connections = new();
    private WebApplication? app;

    /// <summary>Every call answered, in order.</summary>
    public ConcurrentQueue<StandInCall> Calls { get; } = new();

    /// <summary>When set, every call is answered 503, as a network service that is down behind its proxy.</summary>
    public bool Unavailable { get; set; }

    public Uri Address { get; private set; } = null!;

    public static async Task<NetworkStandIn> StartAsync()
    {
        var standIn = new NetworkStandIn();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Use(async (http, next) =>
        {
            http.Request.EnableBuffering();
            using var reader = new StreamReader(http.Request.Body, Encoding.UTF8, leaveOpen: true);
            var body = await reader.ReadToEndAsync();
            http.Request.Body.Position = 0;
            standIn.Calls.Enqueue(new StandInCall(TenantOf(http), http.Request.Method, http.Request.Path, body.Length == 0 ? null : body));
            if (standIn.Unavailable)
            {
                http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return;
            }

            await next(http);
        });
        app.MapGet("/api/v1/onPremisesConnections/{id:guid}", (Guid id, HttpContext http) =>
            standIn.connections.TryGetValue(id, out var c) && c.TenantId == TenantOf(http)
                ? Results.Json(new { id = c.Id, displayName = c.DisplayName, regionName = c.Region, connectionType = "custom", healthCheckStatus = c.HealthCheckStatus })
                : Results.NotFound());
        app.MapPost("/api/v1/networkConnectionSelections", (SelectionRequest request, HttpContext http) => Results.Json(standIn.Select(TenantOf(http), request.ConnectionIds)));
        await app.StartAsync();
        standIn.app = app;
        standIn.Address = new Uri(app.Urls.First());
        return standIn;
    }

    public StandInConnection Add(Guid tenantId, string displayName, string region = "local-1", string status = "passed", string? reason = null)
    {
        var connection = new StandInConnection(tenantId, Guid.NewGuid(), displayName, region, status, reason);
        connections[connection.Id] = connection;
        return connection;
    }

    /// <summary>The connection's checks now say this (a failed uplink, say).</summary>
    public void SetHealth(Guid id, string status, string? reason) => connections[id] = connections[id] with { HealthCheckStatus = status, Reason = reason };

    public List<StandInCall> CallsOf(Guid tenantId) => Calls.Where(c => c.TenantId == tenantId).ToList();

    private object Select(Guid? tenant, IReadOnlyList<string> order)
    {
        var skipped = new List<object>();
        foreach (var entry in order)
        {
            if (entry == "hosted")
            {
                return new { connectionId = "hosted", regionName = (string?)null, skipped };
            }

            if (Guid.TryParse(entry, out var id) && connections.TryGetValue(id, out var c) && c.TenantId == tenant)
            {
                if (c.Usable)
                {
                    return new { connectionId = c.Id.ToString(), regionName = (string?)c.Region, skipped };
                }

                skipped.Add(new { connectionId = c.Id.ToString(), displayName = c.DisplayName, healthCheckStatus = c.HealthCheckStatus, reason = c.Reason });
            }
            else
            {
                skipped.Add(new { connectionId = entry, displayName = (string?)null, healthCheckStatus = (string?)null, reason = "no such connection in the tenant" });
            }
        }

        return new { connectionId = (string?)null, regionName = (string?)null, skipped };
    }

    /// <summary>The tenant claim of the bearer token (read, not verified: this is a stand-in).</summary>
    private static Guid? TenantOf(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        var parts = header.StartsWith("Bearer ", StringComparison.Ordinal) ? header[7..].Split('.') : [];
        if (parts.Length < 2)
        {
            return null;
        }

        var payload = parts[1].Replace('-', '+').Replace('_', '/');
        payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
        using var json = JsonDocument.Parse(Convert.FromBase64String(payload));
        return json.RootElement.TryGetProperty("tid", out var tid) && Guid.TryParse(tid.GetString(), out var id) ? id : null;
    }

    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private sealed record SelectionRequest(List<string> ConnectionIds);
}
