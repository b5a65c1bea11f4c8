using Stratus.Platform.Messaging;

namespace Stratus.Network.HealthChecks;

/// <summary>Compute's report of one host's checks of one connection (its inbox is the network store's, saved by the runs).</summary>
internal sealed class NetworkChecksReportedHandler(HealthCheckRuns runs) : IMessageHandler<NetworkChecksReported>
{
    public Task HandleAsync(NetworkChecksReported message, MessageContext context, CancellationToken cancellationToken) =>
        runs.RecordAsync(message, cancellationToken);
}
