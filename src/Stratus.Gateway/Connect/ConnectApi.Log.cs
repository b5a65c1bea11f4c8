using Microsoft.Extensions.Logging;

namespace Stratus.Gateway.Connect;

/// <summary>The console's log lines: one per session start and end, and why a display could not be reached.</summary>
public static partial class ConnectApi
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Console session {SessionId} started: {User} on Cloud PC {CloudPcId}")]
    private static partial void LogSessionStarted(ILogger logger, Guid sessionId, string user, Guid cloudPcId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Console session {SessionId} ended ({Reason}): {ToClient} bytes to the browser, {FromClient} from it")]
    private static partial void LogSessionEnded(ILogger logger, Guid sessionId, string reason, long toClient, long fromClient);

    [LoggerMessage(Level = LogLevel.Information, Message = "Console relay {RelayId}: the host of Cloud PC {CloudPcId} connected its display")]
    private static partial void LogRelayConnected(ILogger logger, Guid cloudPcId, Guid relayId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Console relay for Cloud PC {CloudPcId} not asked: compute answered {Status}: {Problem}")]
    private static partial void LogRelayRefused(ILogger logger, Guid cloudPcId, int status, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Console relay {RelayId}: the host of Cloud PC {CloudPcId} did not dial {Url} within {Seconds} s")]
    private static partial void LogRelayTimedOut(ILogger logger, Guid cloudPcId, Guid relayId, Uri url, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The display of Cloud PC {CloudPcId} does not answer: {Reason}")]
    private static partial void LogDisplayUnreachable(ILogger logger, Guid cloudPcId, string reason);
}
