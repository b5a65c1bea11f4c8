using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Platform.Messaging;

public sealed record DeadLetter(
    Guid Id,
    string Queue,
    string MessageType,
    Guid MessageId,
    int Attempts,
    string? LastError,
    DateTimeOffset CreatedAt,
    string Body);

/// <summary>The operator's view of messages that failed every attempt, and the way to send them again.</summary>
public static class DeadLettersApi
{
    public static IEndpointRouteBuilder MapDeadLettersApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/deadLetters")
            .WithTags("Messaging")
            .RequireAuthorization(StratusPolicies.PlatformOperator);
        group.MapGet("/", ListAsync).WithName("ListDeadLetters").WithSummary("Messages that failed every delivery attempt");
        group.MapPost("/{id:guid}/replay", ReplayAsync).WithName("ReplayDeadLetter").WithSummary("Deliver a dead letter again, from its first attempt");
        return endpoints;
    }

    private static async Task<Results<Ok<PagedResult<DeadLetter>>, ValidationProblem>> ListAsync(
        PlatformDbContext db, string? queue, [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skip")] int? skip, CancellationToken cancellationToken)
    {
        if (Paging.Validate(top, skip) is { } invalid)
        {
            return invalid;
        }

        var query = db.QueueMessages.AsNoTracking().Where(m => m.Status == QueueMessageStatus.Dead);
        if (!string.IsNullOrWhiteSpace(queue))
        {
            query = query.Where(m => m.Queue == queue);
        }

        var page = await query.OrderBy(m => m.CreatedAt).Skip(skip ?? 0).Take(top ?? Paging.DefaultTop)
            .Select(m => new DeadLetter(m.Id, m.Queue, m.MessageType, m.SourceMessageId, m.Attempts, m.LastError, m.CreatedAt, m.Body))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResult<DeadLetter>(page, await query.CountAsync(cancellationToken)));
    }

    private static async Task<Results<Accepted, ProblemHttpResult>> ReplayAsync(
        Guid id, PlatformDbContext db, TimeProvider clock, QueueSignal signal, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var replayed = await db.QueueMessages
            .Where(m => m.Id == id && m.Status == QueueMessageStatus.Dead)
            .ExecuteUpdateAsync(s => s
                .SetProperty(m => m.Status, QueueMessageStatus.Pending)
                .SetProperty(m => m.Attempts, 0)
                .SetProperty(m => m.VisibleAt, now)
                .SetProperty(m => m.LeaseOwner, (string?)null)
                .SetProperty(m => m.LeaseUntil, (DateTimeOffset?)null), cancellationToken);
        if (replayed == 0)
        {
            return Problems.NotFound("dead letter", id);
        }

        signal.Notify();
        return TypedResults.Accepted((string?)null);
    }
}
