using Microsoft.Extensions.Configuration;

namespace Stratus.HostAgent.Copies;

/// <summary>The agent's configuration of copy stores (section <c>Stratus:CopyStores</c>): only what a URI must never carry.</summary>
public sealed class CopyStoreOptions
{
    public const string Section = "Stratus:CopyStores";

    public S3CredentialOptions S3 { get; set; } = new();

    /// <summary>
    /// The section as configured (appsettings.json, environment variables such as Stratus__CopyStores__S3__AccessKey),
    /// checked at once: an agent with half a credential would fail only at its first copy, minutes after it started.
    /// </summary>
    public static CopyStoreOptions From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = configuration.GetSection(Section).Get<CopyStoreOptions>() ?? new CopyStoreOptions();
        if (string.IsNullOrEmpty(options.S3.AccessKey) != string.IsNullOrEmpty(options.S3.SecretKey))
        {
            throw new ArgumentException(OneOfTwoKeys);
        }

        return options;
    }

    internal const string OneOfTwoKeys =
        $"Only one of {Section}:S3:AccessKey and SecretKey is set; give both, or neither to use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.";
}

/// <summary>
/// <c>Stratus:CopyStores:S3:AccessKey</c> and <c>SecretKey</c>. Both or neither: without them the SDK's own chain
/// applies (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, an instance role).
/// </summary>
public sealed class S3CredentialOptions
{
    public string? AccessKey { get; set; }

    public string? SecretKey { get; set; }
}
