namespace Stratus.Identity;

/// <summary>Where a user or group came from, so that a sync only touches what it created.</summary>
public enum DirectorySource
{
    Local,
    Scim,
    Ldap,
}
