using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Stratus.Gateway.Connect;
using Stratus.Gateway.Persistence;

namespace Stratus.Gateway.History;

/// <summary>
/// A console attempt the gateway refused, kept for the connection history: a refusal opens no session, yet an
/// administrator asking "why can't she connect" needs to see it. Only refusals that name a Cloud PC are kept: an
/// unknown ticket names none (it is the gateway's log and nobody's history).
/// </summary>
public sealed class ConnectionRefusal
{
    public Guid Id { get; init; }

    public Guid TenantId { get; init; }

    public Guid CloudPcId { get; init; }

    public Guid UserId { get; init; }

    public required string UserName { get; init; }

    public DateTimeOffset At { get; init; }

    /// <summary>The problem type's code the caller got: console-ticket-expired, cloud-pc-not-running, display-unreachable, ...</summary>
    public required string Reason { get; init; }

    public string? Detail { get; init; }

    public string? GatewayInstance { get; init; }

    public string? GatewayZone { get; init; }
}

/// <summary>Writes refusals; a failure to record one never changes the answer the caller gets.</summary>
public static partial class ConnectionRefusals
{
    public static async Task RecordAsync(
        IServiceProvider services, Guid tenantId, Guid cloudPcId, Guid userId, string userName, string reason, string? detail, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        var clock = services.GetRequiredService<TimeProvider>();
        var options = services.GetRequiredService<GatewayOptions>();
        var now = clock.GetUtcNow();

        // A scope of its own: the request's context may hold changes that must not be saved with this row.
        await using var scope = services.GetRequiredService<IServiceScopeFactory>().CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatewayDbContext>();
        db.ConnectionRefusals.Add(new ConnectionRefusal
        {
            Id = Guid.CreateVersion7(now), TenantId = tenantId, CloudPcId = cloudPcId, UserId = userId, UserName = userName, At = now, Reason = reason,
            Detail = detail is { Length: > 1000 } ? detail[..1000] : detail, GatewayInstance = options.InstanceName, GatewayZone = options.Zone,
        });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (Exception e) when (e is DbUpdateException or DbException)
        {
            // The caller is told why they were refused either way; the history misses one row, and the log says so.
            LogNotRecorded(services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ConnectionRefusals)), cloudPcId, reason, e.Message);
        }
    }

    internal static Task RecordAsync(IServiceProvider services, ConnectToken ticket, string reason, string? detail, CancellationToken cancellationToken) =>
        RecordAsync(services, ticket.TenantId, ticket.CloudPcId, ticket.UserId, ticket.UserName, reason, detail, cancellationToken);

    [LoggerMessage(EventId = 4911, Level = LogLevel.Warning, Message = "A refused console attempt on Cloud PC {CloudPcId} ({Reason}) was not recorded: {Error}")]
    private static partial void LogNotRecorded(ILogger logger, Guid cloudPcId, string reason, string error);
}
