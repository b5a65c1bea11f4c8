namespace Stratus.Diagnostics.Troubleshooting;

/// <summary>One run of a Cloud PC's checks, kept <see cref="TroubleshootApi.Retention"/> for its tenant's administrators.</summary>
public sealed class TroubleshootResult
{
    public Guid Id { get; init; }

    public Guid TenantId { get; init; }

    public Guid CloudPcId { get; init; }

    public DateTimeOffset StartDateTime { get; init; }

    public DateTimeOffset EndDateTime { get; init; }

    /// <summary>passed, warning or failed: the worst of its checks.</summary>
    public required string OverallStatus { get; init; }

    /// <summary>The checks (<see cref="TroubleshootCheck"/>) as JSON, in the order they ran.</summary>
    public required string ChecksJson { get; init; }

    /// <summary>Who asked (user principal name), for the record.</summary>
    public required string RequestedBy { get; init; }
}

/// <summary>A fix the administrator may apply: offered with the check, never done by troubleshooting.</summary>
public sealed record SuggestedAction(string Name, string Method, string Path);

/// <summary>One check: passed, warning, failed or skipped, with what it found and what a person can do about it.</summary>
public sealed record TroubleshootCheck(string Name, string Status, string? ErrorCode, string Message, string? Advice, SuggestedAction? SuggestedAction = null)
{
    public static TroubleshootCheck Passed(string name, string message) => new(name, CheckStatus.Passed, null, message, null);

    public static TroubleshootCheck Warning(string name, string errorCode, string message, string advice) => new(name, CheckStatus.Warning, errorCode, message, advice);

    public static TroubleshootCheck Failed(string name, string errorCode, string message, string advice, SuggestedAction? action = null) =>
        new(name, CheckStatus.Failed, errorCode, message, advice, action);

    public static TroubleshootCheck Skipped(string name, string reason) => new(name, CheckStatus.Skipped, null, reason, null);
}

public static class CheckStatus
{
    public const string Passed = "passed";
    public const string Warning = "warning";
    public const string Failed = "failed";
    public const string Skipped = "skipped";

    /// <summary>The worst status of the checks; skipped ones do not count.</summary>
    public static string Overall(IEnumerable<TroubleshootCheck> checks)
    {
        var statuses = checks.Select(c => c.Status).ToList();
        return statuses.Contains(Failed) ? Failed : statuses.Contains(Warning) ? Warning : Passed;
    }
}

/// <summary>What troubleshoot answers and keeps.</summary>
public sealed record TroubleshootResultView(
    Guid Id, Guid CloudPcId, DateTimeOffset StartDateTime, DateTimeOffset EndDateTime, string OverallStatus, IReadOnlyList<TroubleshootCheck> Checks)
{
    public static TroubleshootResultView From(TroubleshootResult r) => new(r.Id, r.CloudPcId, r.StartDateTime, r.EndDateTime, r.OverallStatus,
        System.Text.Json.JsonSerializer.Deserialize<List<TroubleshootCheck>>(r.ChecksJson, TroubleshootApi.Json) ?? []);
}
