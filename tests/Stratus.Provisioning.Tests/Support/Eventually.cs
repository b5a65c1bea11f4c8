using System.Diagnostics;
using System.Text.Json;

namespace Stratus.Provisioning.Tests.Support;

/// <summary>Polls with a deadline: what the control plane does happens a moment later, never at a known time.</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(45);

    /// <summary>Reads until the condition holds and returns that reading; fails with the last one at the deadline.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> condition, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await read();
            if (condition(value))
            {
                return value;
            }

            if (clock.Elapsed > limit)
            {
                Assert.Fail($"Waited {limit.TotalSeconds:0} s for {what}; last seen: {JsonSerializer.Serialize(value)}");
            }

            await Task.Delay(100);
        }
    }
}
