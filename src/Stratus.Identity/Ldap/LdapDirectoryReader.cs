using System.DirectoryServices.Protocols;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Options;

namespace Stratus.Identity.Ldap;

/// <summary>One entry as the server returned it, with the requested attributes (names case-insensitive).</summary>
public sealed record LdapEntry(string DistinguishedName, IReadOnlyDictionary<string, IReadOnlyList<string>> Attributes)
{
    public string? First(string? attribute) =>
        attribute is not null && Attributes.TryGetValue(attribute, out var values) && values.Count > 0 && values[0].Length > 0 ? values[0] : null;

    public IReadOnlyList<string> All(string attribute) => Attributes.TryGetValue(attribute, out var values) ? values : [];
}

/// <summary>A complete read of the directory: every search of every base DN succeeded in full.</summary>
public sealed record LdapSnapshot(IReadOnlyList<LdapEntry> Users, IReadOnlyList<LdapEntry> Groups);

/// <summary>A read that did not complete; <see cref="Code"/> is stable, the message says what to do.</summary>
public sealed class LdapReadException(string code, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Code { get; } = code;
}

/// <summary>
/// Reads users and groups with System.DirectoryServices.Protocols (libldap on Linux). Anything short of a
/// complete answer (an error, a size limit, a referral to another server) throws, so that the sync never
/// mistakes a partial read for users that disappeared.
/// </summary>
public sealed class LdapDirectoryReader(IOptions<LdapOptions> options)
{
    private const int PageSize = 500;

    public Task<LdapSnapshot> ReadAsync(LdapConfiguration configuration, string password, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        // The protocol library is synchronous; keep it off the caller's thread.
        return Task.Run(() => Read(configuration, password, cancellationToken), cancellationToken);
    }

    private LdapSnapshot Read(LdapConfiguration configuration, string password, CancellationToken cancellationToken)
    {
        var url = new Uri(configuration.Url);
        var secure = url.Scheme.Equals("ldaps", StringComparison.OrdinalIgnoreCase);
        var port = url.IsDefaultPort || url.Port <= 0 ? (secure ? 636 : 389) : url.Port;
        var timeout = options.Value.Timeout;
        using var connection = new LdapConnection(
            new LdapDirectoryIdentifier(url.Host, port, fullyQualifiedDnsHostName: false, connectionless: false),
            new NetworkCredential(configuration.BindDn, password),
            AuthType.Basic);
        connection.Timeout = timeout;
        connection.AutoBind = false;
        connection.SessionOptions.ProtocolVersion = 3;
        connection.SessionOptions.SecureSocketLayer = secure;
        connection.SessionOptions.ReferralChasing = ReferralChasingOptions.None;

        try
        {
            connection.Bind();
        }
        catch (LdapException e)
        {
            throw BindFailure(e, configuration);
        }

        var users = new List<LdapEntry>();
        var groups = new List<LdapEntry>();
        var seenUsers = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var seenGroups = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var baseDn in configuration.BaseDns)
        {
            Search(connection, configuration, baseDn, configuration.UserFilter, configuration.UserAttributes().ToArray(), users, seenUsers, timeout, cancellationToken);
            Search(connection, configuration, baseDn, configuration.GroupFilter, configuration.GroupAttributes().ToArray(), groups, seenGroups, timeout, cancellationToken);
        }

        return new LdapSnapshot(users, groups);
    }

    private static void Search(LdapConnection connection, LdapConfiguration configuration, string baseDn, string filter, string[] attributes,
        List<LdapEntry> into, HashSet<string> seen, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var request = new SearchRequest(baseDn, filter, SearchScope.Subtree, attributes) { TimeLimit = timeout };
        // Not critical: a server without paging answers in one piece (or with a size limit, which fails the read).
        var paging = new PageResultRequestControl(PageSize) { IsCritical = false };
        request.Controls.Add(paging);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            SearchResponse response;
            try
            {
                response = (SearchResponse)connection.SendRequest(request, timeout);
            }
            catch (DirectoryOperationException e)
            {
                throw SearchFailure(e.Response?.ResultCode, e.Message, baseDn, e);
            }
            catch (LdapException e)
            {
                throw e.ErrorCode switch
                {
                    LdapErrors.ServerDown => new LdapReadException("serverUnavailable",
                        $"The LDAP server at {configuration.Url} stopped answering while '{baseDn}' was read ({Sentence(e.Message)}). Nothing was changed.", e),
                    LdapErrors.Timeout => new LdapReadException("timeout",
                        $"Searching '{baseDn}' on {configuration.Url} took longer than {timeout.TotalSeconds:0} s. Nothing was changed.", e),
                    LdapErrors.FilterError => new LdapReadException("searchFailed",
                        $"The LDAP server cannot read the filter '{filter}'. Nothing was changed.", e),
                    _ => new LdapReadException("searchFailed", $"Searching '{baseDn}' failed: {Sentence(e.Message)} (LDAP error {e.ErrorCode}). Nothing was changed.", e),
                };
            }

            if (response.ResultCode != ResultCode.Success)
            {
                throw SearchFailure(response.ResultCode, response.ErrorMessage, baseDn, null);
            }

            if (response.References.Count > 0)
            {
                var target = string.Join(", ", response.References.Cast<SearchResultReference>().SelectMany(r => r.Reference).Select(u => u.ToString()));
                throw new LdapReadException("partialResult",
                    $"The server referred part of '{baseDn}' to another server ({target}). Stratus does not follow referrals, so the read is incomplete and nothing was changed. Use base DNs that the server holds itself.");
            }

            foreach (SearchResultEntry entry in response.Entries)
            {
                if (seen.Add(entry.DistinguishedName))
                {
                    into.Add(ToEntry(entry));
                }
            }

            var cookie = response.Controls.OfType<PageResultResponseControl>().FirstOrDefault()?.Cookie;
            if (cookie is null || cookie.Length == 0)
            {
                return;
            }

            paging.Cookie = cookie;
        }
    }

    private static LdapEntry ToEntry(SearchResultEntry entry)
    {
        var attributes = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (DirectoryAttribute attribute in entry.Attributes.Values)
        {
            attributes[attribute.Name] = IsBinaryId(attribute.Name)
                ? attribute.GetValues(typeof(byte[])).Cast<byte[]>().Select(b => b.Length == 16 ? new Guid(b).ToString() : Convert.ToHexString(b)).ToList()
                : attribute.GetValues(typeof(string)).Cast<string>().ToList();
        }

        return new LdapEntry(entry.DistinguishedName, attributes);
    }

    private static string Sentence(string message) => message.TrimEnd('.', ' ');

    // Active Directory's ids are binary; every other attribute Stratus maps is text.
    private static bool IsBinaryId(string attribute) =>
        attribute.Equals("objectGUID", StringComparison.OrdinalIgnoreCase) || attribute.Equals("objectSid", StringComparison.OrdinalIgnoreCase);

    private static LdapReadException BindFailure(LdapException e, LdapConfiguration configuration) => e.ErrorCode switch
    {
        LdapErrors.InvalidCredentials => new LdapReadException("invalidCredentials",
            $"The LDAP server at {configuration.Url} refused the bind DN '{configuration.BindDn}' or its password. Set the right ones with PUT /api/v1/ldapConfiguration. Nothing was changed.", e),
        LdapErrors.ServerDown => new LdapReadException("serverUnavailable",
            $"Cannot reach the LDAP server at {configuration.Url}: {Sentence(e.Message)}. Nothing was changed; the next sync tries again.", e),
        LdapErrors.Timeout => new LdapReadException("timeout",
            $"The LDAP server at {configuration.Url} did not answer the bind in time. Nothing was changed; the next sync tries again.", e),
        LdapErrors.ConnectError => new LdapReadException("serverUnavailable",
            $"Cannot connect to the LDAP server at {configuration.Url}: {Sentence(e.Message)}. Nothing was changed; the next sync tries again.", e),
        _ => new LdapReadException("bindFailed",
            $"Binding to {configuration.Url} as '{configuration.BindDn}' failed: {Sentence(e.Message)} (LDAP error {e.ErrorCode}). Nothing was changed.", e),
    };

    private static LdapReadException SearchFailure(ResultCode? code, string? message, string baseDn, Exception? inner) => code switch
    {
        ResultCode.SizeLimitExceeded => new LdapReadException("sizeLimitExceeded",
            $"Searching '{baseDn}' returned more entries than the server allows the bind DN (size limit exceeded). The read is incomplete, so nothing was changed. Raise the bind DN's size limit or narrow the base DN or filter.", inner),
        ResultCode.TimeLimitExceeded => new LdapReadException("timeout",
            $"Searching '{baseDn}' hit the server's time limit. The read is incomplete, so nothing was changed.", inner),
        ResultCode.NoSuchObject => new LdapReadException("searchFailed",
            $"The base DN '{baseDn}' does not exist on the LDAP server. Nothing was changed. Correct the base DNs.", inner),
        ResultCode.Referral => new LdapReadException("partialResult",
            $"The server referred '{baseDn}' to another server. Stratus does not follow referrals, so nothing was changed.", inner),
        ResultCode.InsufficientAccessRights => new LdapReadException("searchFailed",
            $"The bind DN may not search '{baseDn}'. Nothing was changed.", inner),
        _ => new LdapReadException("searchFailed",
            $"Searching '{baseDn}' failed: {(code is { } c ? c.ToString() : "no answer")}{(string.IsNullOrWhiteSpace(message) ? "" : ": " + message)}. Nothing was changed.", inner),
    };

    /// <summary>The client library's error codes (RFC 4511 results and libldap's API errors).</summary>
    private static class LdapErrors
    {
        public const int InvalidCredentials = 49;
        public const int ServerDown = 81;
        public const int Timeout = 85;
        public const int FilterError = 87;
        public const int ConnectError = 91;
    }
}

/// <summary>Normalizes DNs enough to match a group's member values to user entries.</summary>
public static class DistinguishedNames
{
    public static string Normalize(string dn)
    {
        ArgumentNullException.ThrowIfNull(dn);
        var parts = dn.Split(',').Select(part =>
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            return equals < 0
                ? part.Trim()
                : part[..equals].Trim() + "=" + part[(equals + 1)..].Trim();
        });
        return string.Join(',', parts).ToLower(CultureInfo.InvariantCulture);
    }

    /// <summary>The value of the first RDN: "cn=Sales,ou=groups" gives "Sales".</summary>
    public static string FirstValue(string dn)
    {
        ArgumentNullException.ThrowIfNull(dn);
        var first = dn.Split(',')[0];
        var equals = first.IndexOf('=', StringComparison.Ordinal);
        return (equals < 0 ? first : first[(equals + 1)..]).Trim();
    }
}
