using System.Text.RegularExpressions;

namespace Stratus.HostAgent.Copies;

/// <summary>
/// The one rule for object keys and list prefixes, the same in every store so that a chain written to a folder can be
/// copied to a bucket as it is: '/'-separated segments of lower-case letters, digits, '-', '.' and '_', each starting
/// with a letter or a digit. That leaves every name starting with '.' to the stores' own bookkeeping (temporary files,
/// checksums), never confused with an object, and rules out "..", "." and absolute keys.
/// </summary>
public static partial class CopyStoreKeys
{
    /// <summary>Long enough for any chain key; short enough that a store's own names derived from it fit a file name (255).</summary>
    public const int MaxSegmentLength = 150;

    public const int MaxKeyLength = 512;

    /// <summary>Throws <see cref="ArgumentException"/> naming what is wrong with the key.</summary>
    public static void Validate(string key, string parameterName = "key")
    {
        ArgumentNullException.ThrowIfNull(key, parameterName);
        if (key.Length == 0)
        {
            throw new ArgumentException("A copy store key cannot be empty.", parameterName);
        }

        if (key.EndsWith('/'))
        {
            throw new ArgumentException($"The copy store key '{key}' ends with '/': a key names an object, not a folder.", parameterName);
        }

        ValidateSegments(key, parameterName, "key");
    }

    /// <summary>A list prefix: empty (everything), or segments as in a key, optionally ending with '/'.</summary>
    public static void ValidatePrefix(string prefix, string parameterName = "prefix")
    {
        ArgumentNullException.ThrowIfNull(prefix, parameterName);
        if (prefix.Length == 0)
        {
            return;
        }

        ValidateSegments(prefix.EndsWith('/') ? prefix[..^1] : prefix, parameterName, "prefix");
    }

    private static void ValidateSegments(string value, string parameterName, string what)
    {
        if (value.Length > MaxKeyLength)
        {
            throw new ArgumentException($"The copy store {what} is {value.Length} characters long; at most {MaxKeyLength}.", parameterName);
        }

        if (value.StartsWith('/'))
        {
            throw new ArgumentException($"The copy store {what} '{value}' is absolute (starts with '/'); keys are relative.", parameterName);
        }

        foreach (var segment in value.Split('/'))
        {
            if (segment is "." or "..")
            {
                throw new ArgumentException($"The copy store {what} '{value}' has a '{segment}' segment; keys cannot leave their folder.", parameterName);
            }

            if (segment.Length == 0)
            {
                throw new ArgumentException($"The copy store {what} '{value}' has an empty segment ('//').", parameterName);
            }

            if (segment.Length > MaxSegmentLength)
            {
                throw new ArgumentException($"The copy store {what} '{value}' has a segment of {segment.Length} characters; at most {MaxSegmentLength}.", parameterName);
            }

            if (!Segment().IsMatch(segment))
            {
                throw new ArgumentException(
                    $"The copy store {what} '{value}' has the segment '{segment}': segments are lower-case letters, digits, '-', '.' and '_', starting with a letter or digit.",
                    parameterName);
            }
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]*$")]
    private static partial Regex Segment();
}
