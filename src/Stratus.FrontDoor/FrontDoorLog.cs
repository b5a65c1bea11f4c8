using Microsoft.Extensions.Logging;

namespace Stratus.FrontDoor;

/// <summary>The front door's decisions, one structured line each: the audit trail of which region was writable when.</summary>
internal static partial class FrontDoorLog
{
    [LoggerMessage(EventId = 1900, Level = LogLevel.Information, Message = "Front door decision: region {Region} is writable at epoch {Epoch} (kept in {File})")]
    public static partial void Loaded(ILogger logger, string region, long epoch, string file);

    [LoggerMessage(EventId = 1901, Level = LogLevel.Warning, Message = "Front door decision: switching the writable region from {From} to {To} ({Reason}); {From} gets no further lease, and {To} becomes writable once its last lease ran out at {Fence:o}")]
    public static partial void SwitchStarted(ILogger logger, string from, string to, string reason, DateTimeOffset fence);

    [LoggerMessage(EventId = 1902, Level = LogLevel.Warning, Message = "Front door decision: region {To} is writable at epoch {Epoch}, instead of {From} ({Reason})")]
    public static partial void SwitchDone(ILogger logger, string from, string to, long epoch, string reason);

    [LoggerMessage(EventId = 1903, Level = LogLevel.Error, Message = "Region {Region} has had no healthy instance for {Seconds:0} s, and no other region is healthy to take its writes")]
    public static partial void NowhereToGo(ILogger logger, string region, double seconds);

    [LoggerMessage(EventId = 1904, Level = LogLevel.Warning, Message = "Instance {Url} of region {Region} is unhealthy: {Error}")]
    public static partial void InstanceUnhealthy(ILogger logger, Uri url, string region, string error);

    [LoggerMessage(EventId = 1905, Level = LogLevel.Information, Message = "Instance {Url} of region {Region} is healthy")]
    public static partial void InstanceHealthy(ILogger logger, Uri url, string region);

    [LoggerMessage(EventId = 1906, Level = LogLevel.Debug, Message = "Lease for region {Region}: writable {Writable} until {ValidUntil:o}, epoch {Epoch}")]
    public static partial void LeaseGranted(ILogger logger, string region, bool writable, DateTimeOffset validUntil, long epoch);

    [LoggerMessage(EventId = 1907, Level = LogLevel.Warning, Message = "Forwarding {Method} {Path} to {Url} failed: {Error}")]
    public static partial void ForwardFailed(ILogger logger, string method, string path, Uri url, string error);
}
