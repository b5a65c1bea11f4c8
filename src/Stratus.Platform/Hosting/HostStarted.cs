using Microsoft.Extensions.Hosting;

namespace Stratus.Platform.Hosting;

public static class HostStarted
{
    /// <summary>
    /// Waits until the server listens (all in one, the services a background loop calls are this process, and a call
    /// before would only fail); false when the host stops first.
    /// </summary>
    public static async Task<bool> WaitUntilStartedAsync(this IHostApplicationLifetime lifetime, CancellationToken stoppingToken)
    {
        ArgumentNullException.ThrowIfNull(lifetime);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            await started.Task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        return !stoppingToken.IsCancellationRequested;
    }
}
