using System.Diagnostics;

namespace Stratus.IntegrationTests.Support;

/// <summary>Polls until a condition holds, with a deadline: how tests wait for the durable queues.</summary>
internal static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    public static async Task<T> MatchesAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        var limit = timeout ?? DefaultTimeout;
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            if (deadline.Elapsed > limit)
            {
                throw new TimeoutException($"Waited {limit.TotalSeconds:0} s for {what}; last seen: {Describe(value)}");
            }

            await Task.Delay(200);
        }
    }

    private static string Describe(object? value) => value switch
    {
        System.Collections.IEnumerable list and not string => $"[{string.Join(", ", list.Cast<object>())}]",
        _ => value?.ToString() ?? "null",
    };
}
