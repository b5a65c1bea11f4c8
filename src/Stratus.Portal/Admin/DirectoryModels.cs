using System.Text.Json;

namespace Stratus.Portal.Admin;

// The shapes the directory pages (users, groups, licenses, tenants, audit) read beyond ApiModels.cs.

/// <summary>What POST /api/v1/tenants answers: the tenant and its first administrator.</summary>
public sealed record CreatedTenantItem(TenantItem Tenant, UserItem Admin);

/// <summary>One thing an audit event touched (Graph's cloudPcAuditResource).</summary>
public sealed record AuditResourceItem(string? ResourceId, string? Type, string? DisplayName)
{
    public static List<AuditResourceItem> From(JsonElement resources) =>
        resources.ValueKind == JsonValueKind.Array
            ? resources.EnumerateArray().Where(r => r.ValueKind == JsonValueKind.Object).Select(r => r.Deserialize<AuditResourceItem>(AdminApi.Json)!).ToList()
            : [];
}

/// <summary>Words and numbers a person reads for directory values.</summary>
public static class DirectoryText
{
    public static string Source(string? creationType) => creationType switch
    {
        "scim" => "SCIM",
        "ldap" => "LDAP",
        "local" or null => "Local",
        _ => creationType,
    };

    public static string Plan(PlanItem plan) => $"{plan.VCpuCount} vCPU · {plan.RamInGB} GB RAM · {plan.StorageInGB} GB storage";

    public static string Date(DateTimeOffset when) => when.UtcDateTime.ToString("d MMM yyyy", System.Globalization.CultureInfo.InvariantCulture);

    public static string DateTime(DateTimeOffset when) => when.UtcDateTime.ToString("d MMM yyyy HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + " UTC";

    /// <summary>"1–25 of 130" for a page of a list.</summary>
    public static string Range(int skip, int count, int total) =>
        total == 0 ? "No items" : $"{skip + 1}–{skip + count} of {total}";

    /// <summary>An OData string literal: quotes doubled.</summary>
    public static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    public static string Initials(string name)
    {
        var parts = name.Split([' ', '.', '@', '-', '_'], StringSplitOptions.RemoveEmptyEntries);
        return parts.Length switch
        {
            0 => "?",
            1 => parts[0][..1].ToUpperInvariant(),
            _ => (parts[0][..1] + parts[1][..1]).ToUpperInvariant(),
        };
    }
}
