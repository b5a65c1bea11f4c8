using Microsoft.AspNetCore.Builder;

namespace Stratus.Platform.Idempotency;

/// <summary>
/// Endpoint metadata: the endpoint implements the Idempotency-Key itself (a Cloud PC action returns the first
/// request's operation), so the platform's IdempotencyMiddleware leaves its requests alone.
/// </summary>
public sealed class OwnIdempotencyKey
{
    public static readonly OwnIdempotencyKey Instance = new();

    private OwnIdempotencyKey()
    {
    }
}

public static class OwnIdempotencyKeyExtensions
{
    public static TBuilder WithOwnIdempotencyKey<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(OwnIdempotencyKey.Instance);
}
