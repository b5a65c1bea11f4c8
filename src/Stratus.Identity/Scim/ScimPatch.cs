using System.Text.Json;
using System.Text.RegularExpressions;

namespace Stratus.Identity.Scim;

public enum ScimPatchOp
{
    Add,
    Remove,
    Replace,
}

/// <summary>
/// A PATCH path (RFC 7644 section 3.5.2): <c>attribute</c>, <c>attribute.sub</c>, <c>attribute[filter]</c> or
/// <c>attribute[filter].sub</c>, lower-cased, without the core schema's URN. An attribute of another schema
/// (an extension, such as the enterprise user's employeeNumber) is <see cref="IsExtension"/>.
/// </summary>
public sealed partial record ScimPath(string Attribute, IReadOnlyList<ScimCondition>? Filter, string? SubAttribute, bool IsExtension)
{
    [GeneratedRegex(@"^(?<attribute>\$?[A-Za-z][A-Za-z0-9_\-]*)(?:\[(?<filter>[^\]]*)\])?(?:\.(?<sub>\$?[A-Za-z][A-Za-z0-9_\-]*))?$")]
    private static partial Regex Shape();

    /// <summary>Parses a path; on failure returns null with the error to answer.</summary>
    public static ScimPath? Parse(string text, string coreSchema, out ScimError? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        error = null;
        var path = text.Trim();
        if (path.StartsWith(coreSchema + ":", StringComparison.OrdinalIgnoreCase))
        {
            path = path[(coreSchema.Length + 1)..];
        }
        else if (path.StartsWith("urn:", StringComparison.OrdinalIgnoreCase))
        {
            return new ScimPath(path.ToLowerInvariant(), null, null, IsExtension: true);
        }

        var match = Shape().Match(path);
        if (!match.Success)
        {
            error = ScimError.BadRequest(ScimErrorTypes.InvalidPath,
                $"The path '{text}' cannot be read: use attribute, attribute.subAttribute or attribute[filter], for example members[value eq \"<id>\"].");
            return null;
        }

        IReadOnlyList<ScimCondition>? filter = null;
        if (match.Groups["filter"].Success)
        {
            var parsed = ScimFilter.Parse(match.Groups["filter"].Value, null);
            if (parsed.Error is { } message)
            {
                error = ScimError.BadRequest(ScimErrorTypes.InvalidFilter, $"The filter in the path '{text}' cannot be used: {message}");
                return null;
            }

            filter = parsed.Conditions;
        }

        return new ScimPath(
            match.Groups["attribute"].Value.ToLowerInvariant(),
            filter,
            match.Groups["sub"].Success ? match.Groups["sub"].Value.ToLowerInvariant() : null,
            IsExtension: false);
    }
}

public sealed record ScimPatchOperation(ScimPatchOp Op, ScimPath? Path, JsonElement? Value);

/// <summary>
/// Reads a PatchOp request. Identity providers differ in form, and all of these are read the same:
/// Entra ID's capitalized ops (<c>"Replace"</c>) and string booleans, Okta's path-less
/// <c>{"op":"replace","value":{"active":false}}</c>, and paths with value filters.
/// </summary>
public static class ScimPatch
{
    public const int MaxOperations = 1000;

    public static IReadOnlyList<ScimPatchOperation>? Parse(JsonElement body, string coreSchema, out ScimError? error)
    {
        error = null;
        var schemas = body.Attribute("schemas");
        if (schemas is not { ValueKind: JsonValueKind.Array } list
            || !list.EnumerateArray().Any(s => s.ValueKind == JsonValueKind.String && string.Equals(s.GetString(), ScimSchemas.PatchOp, StringComparison.OrdinalIgnoreCase)))
        {
            error = Syntax($"A PATCH body must have \"schemas\": [\"{ScimSchemas.PatchOp}\"].");
            return null;
        }

        if (body.Attribute("Operations") is not { ValueKind: JsonValueKind.Array } operations || operations.GetArrayLength() is 0 or > MaxOperations)
        {
            error = Syntax($"A PATCH body must have \"Operations\": an array of 1 to {MaxOperations} operations.");
            return null;
        }

        var result = new List<ScimPatchOperation>();
        var index = 0;
        foreach (var operation in operations.EnumerateArray())
        {
            index++;
            if (operation.ValueKind != JsonValueKind.Object)
            {
                error = Syntax($"Operation {index} is not a JSON object.");
                return null;
            }

            ScimPatchOp? op = operation.Attribute("op") is { ValueKind: JsonValueKind.String } name
                ? name.GetString()?.ToLowerInvariant() switch
                {
                    "add" => ScimPatchOp.Add,
                    "remove" => ScimPatchOp.Remove,
                    "replace" => ScimPatchOp.Replace,
                    _ => null,
                }
                : null;
            if (op is not { } kind)
            {
                error = Syntax($"Operation {index}: 'op' must be add, remove or replace.");
                return null;
            }

            ScimPath? path = null;
            switch (operation.Attribute("path"))
            {
                case null:
                    break;
                case { ValueKind: JsonValueKind.String } text:
                    path = ScimPath.Parse(text.GetString()!, coreSchema, out error);
                    if (path is null)
                    {
                        return null;
                    }

                    break;
                default:
                    error = ScimError.BadRequest(ScimErrorTypes.InvalidPath, $"Operation {index}: 'path' must be a string.");
                    return null;
            }

            var value = operation.Attribute("value");
            if (kind != ScimPatchOp.Remove && value is null)
            {
                error = Syntax($"Operation {index} ({kind.ToString().ToLowerInvariant()}) has no 'value'.");
                return null;
            }

            if (path is null && kind == ScimPatchOp.Remove)
            {
                error = ScimError.BadRequest(ScimErrorTypes.NoTarget, $"Operation {index} (remove) has no 'path': say what to remove.");
                return null;
            }

            if (path is null && value is not { ValueKind: JsonValueKind.Object })
            {
                error = Syntax($"Operation {index} has no 'path', so its 'value' must be an object of attributes to set.");
                return null;
            }

            result.Add(new ScimPatchOperation(kind, path, value));
        }

        return result;
    }

    /// <summary>
    /// The attributes of a path-less add or replace, each as a path with its value. Keys may themselves be
    /// paths (Entra ID sends <c>"name.givenName"</c>); the resource's own schemas, id and meta are skipped.
    /// </summary>
    public static IEnumerable<(ScimPath? Path, JsonElement Value, ScimError? Error)> Expand(JsonElement value, string coreSchema)
    {
        foreach (var property in value.EnumerateObject())
        {
            if (property.Name.Equals("schemas", StringComparison.OrdinalIgnoreCase) || property.Name.Equals("id", StringComparison.OrdinalIgnoreCase)
                || property.Name.Equals("meta", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var path = ScimPath.Parse(property.Name, coreSchema, out var error);
            yield return (path, property.Value, error);
        }
    }

    private static ScimError Syntax(string detail) => ScimError.BadRequest(ScimErrorTypes.InvalidSyntax, detail);
}
