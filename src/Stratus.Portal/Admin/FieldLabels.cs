namespace Stratus.Portal.Admin;

/// <summary>
/// The API's field names (as in its JSON) in the portal's words, as its forms label them: a problem shown to a person
/// says "User name is required.", not "'userName' is required." or "Correct the fields named in 'errors'".
/// </summary>
public static class FieldLabels
{
    private static readonly Dictionary<string, string> Labels = new(StringComparer.OrdinalIgnoreCase)
    {
        ["userName"] = "User name",
        ["password"] = "Password",
        ["userPrincipalName"] = "User name",
        ["displayName"] = "Name",
        ["description"] = "Description",
        ["domain"] = "Domain",
        ["imageId"] = "Image",
        ["regionNames"] = "Region",
        ["cloudPcNamingTemplate"] = "Cloud PC name template",
        ["gracePeriodInHours"] = "Grace period (hours)",
        ["version"] = "Version",
        ["targetServicePlanId"] = "New plan",
        ["prepaidUnits"] = "Seats",
        ["passwordProfile.password"] = "Password",
        ["admin.userPrincipalName"] = "User name",
        ["admin.password"] = "Password",
        ["regionName"] = "Region",
        ["subnet"] = "Subnet",
        ["gateway"] = "Gateway",
        ["mtu"] = "MTU",
        ["uplink"] = "Uplink",
        ["uplink.kind"] = "Uplink",
        ["uplink.interface"] = "Host interface",
        ["uplink.vlanId"] = "VLAN id",
        ["uplink.vxlanId"] = "VXLAN id (VNI)",
        ["uplink.vxlanRemote"] = "VXLAN remote address",
        ["uplink.vxlanPort"] = "VXLAN UDP port",
        ["dnsServers"] = "DNS servers",
        ["dnsSearchDomain"] = "DNS search domain",
        ["dnsNamesToResolve"] = "Names to resolve",
        ["requiredEndpoints"] = "Required endpoints",
    };

    /// <summary>The label of a field; a field without one is spelled out ("someField" becomes "Some field").</summary>
    public static string For(string field)
    {
        if (Labels.TryGetValue(field, out var label))
        {
            return label;
        }

        // An entry of a list ('dnsServers[1]'): the list's label and which entry, counted from 1 as a person does.
        if (System.Text.RegularExpressions.Regex.Match(field, @"^(.+)\[(\d+)\]$") is { Success: true } entry)
        {
            return $"{For(entry.Groups[1].Value)}, entry {int.Parse(entry.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) + 1}";
        }

        var words = System.Text.RegularExpressions.Regex.Replace(field.Split('.')[^1], "(?<=[a-z0-9])([A-Z])", " $1").ToLowerInvariant();
        return words.Length == 0 ? field : char.ToUpperInvariant(words[0]) + words[1..];
    }

    /// <summary>An API message about a field, with the field's quoted JSON name replaced by its label.</summary>
    public static string Rephrase(string field, string message)
    {
        var label = For(field);
        var rephrased = message.Replace($"'{field}'", label, StringComparison.OrdinalIgnoreCase);
        return rephrased.Contains(label, StringComparison.OrdinalIgnoreCase) ? rephrased : $"{label}: {rephrased}";
    }
}
