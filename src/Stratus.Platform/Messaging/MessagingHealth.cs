using System.Collections.Concurrent;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Stratus.Platform.Messaging;

/// <summary>The last outcome of every messaging loop, for /readyz.</summary>
public sealed class MessagingHealth
{
    private readonly ConcurrentDictionary<string, string?> loops = new();

    public void ReportSuccess(string loop) => loops[loop] = null;

    public void ReportFailure(string loop, string error) => loops[loop] = error;

    public IReadOnlyDictionary<string, string?> Snapshot() => new Dictionary<string, string?>(loops);
}

internal sealed class MessagingHealthCheck(MessagingHealth health) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var failing = health.Snapshot().Where(l => l.Value is not null).ToList();
        return Task.FromResult(failing.Count == 0
            ? HealthCheckResult.Healthy("queues are running")
            : HealthCheckResult.Unhealthy(string.Join("; ", failing.Select(f => $"{f.Key}: {f.Value}"))));
    }
}
