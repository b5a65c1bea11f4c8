namespace Stratus.Platform.Messaging;

public sealed class MessagingOptions
{
    /// <summary>Deliveries before a message goes to the dead letters.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>How often idle loops look for work that other instances produced.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How long a claimed message stays invisible to other instances; renewed while it is handled. A message
    /// claimed by an instance that died is handled by another after at most this long.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    public int BatchSize { get; set; } = 20;

    /// <summary>Exponential backoff with ±20 % jitter, so that instances that failed together retry apart.</summary>
    public TimeSpan RetryDelay(int attempt)
    {
        var exponent = Math.Clamp(attempt - 1, 0, 20);
        var delay = FirstRetryDelay.TotalMilliseconds * Math.Pow(2, exponent);
        delay = Math.Min(delay, MaxRetryDelay.TotalMilliseconds);
#pragma warning disable CA5394 // Jitter needs no cryptographic randomness.
        var jitter = 0.8 + (Random.Shared.NextDouble() * 0.4);
#pragma warning restore CA5394
        return TimeSpan.FromMilliseconds(delay * jitter);
    }
}
