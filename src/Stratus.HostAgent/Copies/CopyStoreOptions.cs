namespace Stratus.HostAgent.Copies;

/// <summary>The agent's configuration of copy stores (section <c>Stratus:CopyStores</c>): only what a URI must never carry.</summary>
public sealed class CopyStoreOptions
{
    public const string Section = "Stratus:CopyStores";

    public S3CredentialOptions S3 { get; set; } = new();
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
