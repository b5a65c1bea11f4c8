using System.Globalization;

namespace Stratus.Identity.Ldap;

public sealed partial class LdapSync
{
    /// <summary>Resolves a group's member values: DNs (member, uniqueMember) or user names (posixGroup's memberUid).</summary>
    private sealed class MemberIndex
    {
        private readonly Dictionary<string, Guid> byDn = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Guid> byName = new(StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<Guid, string> names = [];

        public void Add(Guid userId, string userPrincipalName, string distinguishedName, string? rawName)
        {
            byDn[DistinguishedNames.Normalize(distinguishedName)] = userId;
            byName[userPrincipalName] = userId;
            if (rawName is not null)
            {
                byName[rawName] = userId;
            }

            names[userId] = userPrincipalName;
        }

        public Guid? Resolve(string value)
        {
            if (value.Contains('=', StringComparison.Ordinal))
            {
                return byDn.TryGetValue(DistinguishedNames.Normalize(value), out var byDistinguishedName) ? byDistinguishedName : null;
            }

            return byName.TryGetValue(value.Trim(), out var id) ? id : null;
        }

        public string NameOf(Guid userId) => names.TryGetValue(userId, out var name) ? name : userId.ToString("D", CultureInfo.InvariantCulture);
    }
}
