using System.Diagnostics;
using System.DirectoryServices.Protocols;
using System.Globalization;
using System.Net;
using System.Text;
using Stratus.Testing;

namespace Stratus.Identity.Ldap.Tests.Support;

/// <summary>
/// A real OpenLDAP server (Debian's slapd) in a temporary folder on a free 127.0.0.1 port, loaded with a
/// test tree by slapadd before it starts. Each test starts its own, so that it can change or stop it.
/// </summary>
public sealed class SlapdServer : IAsyncDisposable
{
    public const string Suffix = "dc=example,dc=test";
    public const string People = "ou=people," + Suffix;
    public const string Groups = "ou=groups," + Suffix;
    public const string AdminDn = "cn=admin," + Suffix;
    public const string AdminPassword = "slapd-admin-secret";

    /// <summary>The account Stratus binds as.</summary>
    public const string ReaderDn = "cn=stratus-reader," + Suffix;
    public const string ReaderPassword = "reader-secret-1";

    /// <summary>An account the server answers at most one entry per search, to cause a size-limit-exceeded read.</summary>
    public const string LimitedDn = "cn=limited-reader," + Suffix;
    public const string LimitedPassword = "limited-secret-1";

    private readonly string root;
    private Process? process;
    private readonly StringBuilder output = new();

    private SlapdServer(string root, int port)
    {
        this.root = root;
        Port = port;
    }

    public int Port { get; }

    public string Url => $"ldap://127.0.0.1:{Port}";

    public static string UserDn(string uid) => $"uid={uid},{People}";

    public static string GroupDn(string name) => $"cn={name},{Groups}";

    /// <summary>Starts slapd with the base entries, the service accounts and the given entries (LDIF).</summary>
    public static async Task<SlapdServer> StartAsync(string entries)
    {
        if (!File.Exists("/usr/sbin/slapd"))
        {
            throw new InvalidOperationException("slapd is not installed: run 'scripts/install-deps.sh test', which installs Debian's slapd package.");
        }

        var root = Directory.CreateTempSubdirectory("stratus-slapd-").FullName;
        var server = new SlapdServer(root, FreePort.Next());
        try
        {
            await server.InitializeAsync(entries);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private async Task InitializeAsync(string entries)
    {
        var data = Path.Combine(root, "data");
        Directory.CreateDirectory(data);
        var config = Path.Combine(root, "slapd.conf");
        await File.WriteAllTextAsync(config, $"""
            include /etc/ldap/schema/core.schema
            include /etc/ldap/schema/cosine.schema
            include /etc/ldap/schema/inetorgperson.schema
            include /etc/ldap/schema/nis.schema
            modulepath /usr/lib/ldap
            moduleload back_mdb
            pidfile {Path.Combine(root, "slapd.pid")}
            database mdb
            maxsize 16777216
            suffix "{Suffix}"
            rootdn "{AdminDn}"
            rootpw {AdminPassword}
            directory {data}
            limits dn.exact="{LimitedDn}" size=1
            """);
        var ldif = Path.Combine(root, "tree.ldif");
        await File.WriteAllTextAsync(ldif, $"""
            dn: {Suffix}
            objectClass: dcObject
            objectClass: organization
            o: Example
            dc: example

            dn: {People}
            objectClass: organizationalUnit
            ou: people

            dn: {Groups}
            objectClass: organizationalUnit
            ou: groups

            dn: {ReaderDn}
            objectClass: person
            cn: stratus-reader
            sn: reader
            userPassword: {ReaderPassword}

            dn: {LimitedDn}
            objectClass: person
            cn: limited-reader
            sn: reader
            userPassword: {LimitedPassword}

            {entries.Trim()}

            """);
        await ProcessRunner.RunCheckedAsync("/usr/sbin/slapadd", ["-q", "-f", config, "-l", ldif], TimeSpan.FromSeconds(30));

        // -d keeps slapd in the foreground, as a child that the test can stop.
        var start = new ProcessStartInfo("/usr/sbin/slapd") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-h", $"ldap://127.0.0.1:{Port}/", "-f", config, "-d", "0" })
        {
            start.ArgumentList.Add(argument);
        }

        process = Process.Start(start) ?? throw new InvalidOperationException("Cannot start slapd");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await WaitUntilAnsweringAsync();
    }

    /// <summary>Changes the tree as the directory administrator.</summary>
    public void Change(params DirectoryRequest[] requests)
    {
        using var connection = Connect(AdminDn, AdminPassword);
        foreach (var request in requests)
        {
            connection.SendRequest(request);
        }
    }

    public static AddRequest NewUser(string uid, string displayName, string givenName, string surname) => new(UserDn(uid),
        new DirectoryAttribute("objectClass", "inetOrgPerson"),
        new DirectoryAttribute("uid", uid),
        new DirectoryAttribute("cn", displayName),
        new DirectoryAttribute("givenName", givenName),
        new DirectoryAttribute("sn", surname),
        new DirectoryAttribute("mail", $"{uid}@mail.example.test"));

    public static ModifyRequest Replace(string dn, string attribute, string value) => new(dn, DirectoryAttributeOperation.Replace, attribute, value);

    public static ModifyRequest AddMember(string group, string uid) => new(GroupDn(group), DirectoryAttributeOperation.Add, "member", UserDn(uid));

    public static ModifyRequest RemoveMember(string group, string uid) => new(GroupDn(group), DirectoryAttributeOperation.Delete, "member", UserDn(uid));

    public static DeleteRequest Delete(string dn) => new(dn);

    /// <summary>Stops the server as a crash or an outage would; the data folder stays until disposal.</summary>
    public async Task StopAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        process?.Dispose();
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone.
        }
    }

    private LdapConnection Connect(string dn, string password)
    {
        var connection = new LdapConnection(new LdapDirectoryIdentifier("127.0.0.1", Port), new NetworkCredential(dn, password), AuthType.Basic)
        {
            Timeout = TimeSpan.FromSeconds(10),
        };
        connection.SessionOptions.ProtocolVersion = 3;
        connection.Bind();
        return connection;
    }

    private async Task WaitUntilAnsweringAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process!.HasExited)
            {
                throw new InvalidOperationException($"slapd exited with {process.ExitCode.ToString(CultureInfo.InvariantCulture)}: {Output}");
            }

            try
            {
                using var connection = Connect(ReaderDn, ReaderPassword);
                return;
            }
            catch (LdapException) when (deadline.Elapsed < TimeSpan.FromSeconds(20))
            {
                await Task.Delay(50);
            }
        }
    }

    private string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }
}
