namespace Stratus.Platform.Persistence;

/// <summary>A PostgreSQL advisory lock key for a name: FNV-1a of it, the same in every instance and version.</summary>
internal static class AdvisoryLockKey
{
    public static long For(string name)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in name)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return unchecked((long)hash);
    }
}
