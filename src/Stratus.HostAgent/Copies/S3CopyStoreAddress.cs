using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;

namespace Stratus.HostAgent.Copies;

/// <summary>
/// The parts of <c>s3://BUCKET/PREFIX?endpoint=URL&amp;region=REGION</c>. Endpoint: an S3-compatible server (MinIO,
/// Ceph RGW, Garage), addressed path-style; none: AWS itself. Region: us-east-1 when not given. Credentials are never
/// part of it (<see cref="CopyStoreOptions"/>).
/// </summary>
public sealed partial record S3CopyStoreAddress(string Bucket, string Prefix, Uri? Endpoint, string Region)
{
    public const string DefaultRegion = "us-east-1";

    /// <summary>The URI again, in its canonical form (what <see cref="ICopyStore.Uri"/> shows).</summary>
    public override string ToString()
    {
        var query = new List<string>();
        if (Endpoint is not null)
        {
            query.Add($"endpoint={Uri.EscapeDataString(Endpoint.GetLeftPart(UriPartial.Path).TrimEnd('/'))}");
        }

        query.Add($"region={Uri.EscapeDataString(Region)}");
        return $"s3://{Bucket}/{Prefix}?{string.Join('&', query)}";
    }

    /// <summary>The key of an object in the bucket: the store's prefix, then the object's key.</summary>
    public string ObjectKey(string key) => Prefix.Length == 0 ? key : $"{Prefix}/{key}";

    public static S3CopyStoreAddress Parse(string uri)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(uri);
        if (!uri.StartsWith("s3://", StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{CopyStores.Redact(uri)}' is not an s3:// URI.", nameof(uri));
        }

        var rest = uri["s3://".Length..];
        if (rest.Contains('#'))
        {
            throw new ArgumentException($"The copy store URI '{CopyStores.Redact(uri)}' has a fragment; an S3 store takes none.", nameof(uri));
        }

        var question = rest.IndexOf('?');
        var location = question < 0 ? rest : rest[..question];
        var slash = location.IndexOf('/');
        var bucket = slash < 0 ? location : location[..slash];
        var prefix = slash < 0 ? "" : location[(slash + 1)..].TrimEnd('/');
        if (bucket.Contains('@') || bucket.Contains(':'))
        {
            throw new ArgumentException(
                $"The copy store URI '{CopyStores.Redact(uri)}' carries credentials or a port in its bucket; credentials go in Stratus:CopyStores:S3:AccessKey/SecretKey or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the server in ?endpoint=.",
                nameof(uri));
        }

        if (!BucketName().IsMatch(bucket) || bucket.Contains("..", StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"The copy store URI '{CopyStores.Redact(uri)}' has the bucket '{bucket}': a bucket name is 3 to 63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit.",
                nameof(uri));
        }

        if (prefix.Length > 0)
        {
            CopyStoreKeys.ValidatePrefix(prefix, nameof(uri));
        }

        var (endpoint, region) = ParseQuery(uri, question < 0 ? "" : rest[question..]);
        return new S3CopyStoreAddress(bucket, prefix, endpoint, region);
    }

    private static (Uri? Endpoint, string Region) ParseQuery(string uri, string query)
    {
        Uri? endpoint = null;
        var region = DefaultRegion;
        foreach (var (name, values) in QueryHelpers.ParseQuery(query))
        {
            if (values.Count != 1)
            {
                throw new ArgumentException($"The copy store URI '{CopyStores.Redact(uri)}' gives '{name}' {values.Count} times.", nameof(uri));
            }

            var value = values[0] ?? "";
            switch (name)
            {
                case "endpoint":
                    if (!System.Uri.TryCreate(value, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https")
                        || parsed.UserInfo.Length > 0 || parsed.Query.Length > 0 || parsed.Fragment.Length > 0)
                    {
                        throw new ArgumentException(
                            $"The copy store URI '{CopyStores.Redact(uri)}' has the endpoint '{(parsed?.UserInfo.Length > 0 ? "(with credentials)" : value)}': give the server's http:// or https:// URL, without credentials or query.",
                            nameof(uri));
                    }

                    endpoint = parsed;
                    break;
                case "region":
                    if (!RegionName().IsMatch(value))
                    {
                        throw new ArgumentException($"The copy store URI '{CopyStores.Redact(uri)}' has the region '{value}': lower-case letters, digits and '-'.", nameof(uri));
                    }

                    region = value;
                    break;
                default:
                    throw new ArgumentException(
                        $"The copy store URI '{CopyStores.Redact(uri)}' has the unknown parameter '{name}'; an S3 store takes endpoint and region (credentials come from the agent's configuration).",
                        nameof(uri));
            }
        }

        return (endpoint, region);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    private static partial Regex BucketName();

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")]
    private static partial Regex RegionName();
}
