using Stratus.Platform.Messaging;

namespace Stratus.Platform.Tests.Messaging;

public sealed class MessagingOptionsTests
{
    private const int Samples = 1000;

    private static readonly MessagingOptions Options = new()
    {
        FirstRetryDelay = TimeSpan.FromSeconds(1),
        MaxRetryDelay = TimeSpan.FromMinutes(5),
    };

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(5, 16)]
    [InlineData(8, 128)]
    public void RetryDelay_Attempt_DoublesFromTheFirstDelayWithinTwentyPercent(int attempt, double expectedSeconds)
    {
        for (var i = 0; i < Samples; i++)
        {
            var delay = Options.RetryDelay(attempt).TotalSeconds;
            Assert.InRange(delay, expectedSeconds * 0.8, expectedSeconds * 1.2);
        }
    }

    [Theory]
    [InlineData(10)]
    [InlineData(30)]
    [InlineData(int.MaxValue)]
    public void RetryDelay_LateAttempt_StaysAroundMaxRetryDelay(int attempt)
    {
        // The cap applies before the jitter, so capped retries still spread by ±20 %.
        for (var i = 0; i < Samples; i++)
        {
            var delay = Options.RetryDelay(attempt);
            Assert.InRange(delay.TotalSeconds, 300 * 0.8, 300 * 1.2);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void RetryDelay_AttemptBelowOne_IsTheFirstDelay(int attempt)
    {
        Assert.InRange(Options.RetryDelay(attempt).TotalSeconds, 0.8, 1.2);
    }

    [Fact]
    public void RetryDelay_SameAttempt_IsJittered()
    {
        var delays = Enumerable.Range(0, Samples).Select(_ => Options.RetryDelay(3).TotalSeconds).ToList();

        // Uniform over [3.2, 4.8]: a thousand samples reach both outer fifths of the range.
        Assert.Contains(delays, d => d < 3.5);
        Assert.Contains(delays, d => d > 4.5);
        Assert.InRange(delays.Average(), 3.9, 4.1);
    }

    [Fact]
    public void Defaults_AreTheDocumentedOnes()
    {
        var options = new MessagingOptions();

        Assert.Equal(5, options.MaxAttempts);
        Assert.Equal(TimeSpan.FromSeconds(1), options.FirstRetryDelay);
        Assert.Equal(TimeSpan.FromMinutes(5), options.MaxRetryDelay);
        Assert.True(options.LeaseDuration > options.PollInterval);
    }
}
