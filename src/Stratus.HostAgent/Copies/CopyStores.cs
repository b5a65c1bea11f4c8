namespace Stratus.HostAgent.Copies;

/// <summary>Opens a copy store from its URI: <c>file:///ABS/PATH</c> or <c>s3://BUCKET/PREFIX?endpoint=URL&amp;region=R</c>.</summary>
public static class CopyStores
{
    /// <summary>
    /// Parses and checks the URI (an <see cref="ArgumentException"/> names what is wrong) and returns its store. An S3
    /// store holds an HTTP client: dispose it (it is <see cref="IDisposable"/>) when done.
    /// </summary>
    public static ICopyStore Open(string uri, CopyStoreOptions? options = null, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(uri);
        var scheme = uri.IndexOf("://", StringComparison.Ordinal) is var end and > 0 ? uri[..end] : "";
        return scheme switch
        {
            "file" => new FileSystemCopyStore(ParseFile(uri), time),
            "s3" => new S3CopyStore(S3CopyStoreAddress.Parse(uri), options ?? new CopyStoreOptions(), time),
            _ => throw new ArgumentException(
                $"The copy store URI '{Redact(uri)}' has no known scheme: use file:///ABSOLUTE/PATH or s3://BUCKET/PREFIX?endpoint=URL&region=REGION.", nameof(uri)),
        };
    }

    /// <summary>The folder of a file:/// URI: absolute, local (no host), nothing after the path.</summary>
    internal static string ParseFile(string uri)
    {
        var rest = uri["file://".Length..];
        if (!rest.StartsWith('/'))
        {
            throw new ArgumentException(
                $"The copy store URI '{uri}' names a host or a relative path; a file store is file:///ABSOLUTE/PATH (three slashes), a folder on this machine or a mount.", nameof(uri));
        }

        if (rest.Contains('?') || rest.Contains('#'))
        {
            throw new ArgumentException($"The copy store URI '{uri}' has a query or fragment; a file store takes none.", nameof(uri));
        }

        var path = System.Uri.UnescapeDataString(rest);
        if (path.Split('/').Any(segment => segment is "." or ".."))
        {
            throw new ArgumentException($"The copy store URI '{uri}' has a '.' or '..' segment; give the folder's plain absolute path.", nameof(uri));
        }

        if (path.Contains('\0'))
        {
            throw new ArgumentException($"The copy store URI '{uri}' has a NUL character.", nameof(uri));
        }

        var trimmed = path.TrimEnd('/');
        if (trimmed.Length == 0)
        {
            throw new ArgumentException($"The copy store URI '{uri}' names the root folder; give a folder of its own.", nameof(uri));
        }

        return trimmed;
    }

    /// <summary>A URI for an error message: anything between "//" and "@" (user information) replaced.</summary>
    internal static string Redact(string uri)
    {
        var start = uri.IndexOf("://", StringComparison.Ordinal);
        var at = uri.IndexOf('@');
        return start >= 0 && at > start ? $"{uri[..(start + 3)]}***{uri[at..]}" : uri;
    }
}
