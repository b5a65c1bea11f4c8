using System.Text.Json.Nodes;

namespace Stratus.IntegrationTests.BadInput;

/// <summary>
/// Well-formed bodies for a shape, with one value replaced by raw JSON text: the bad value then decides the
/// answer, not a missing field. Raw text, because some bad values (a lone surrogate, a number no type holds,
/// nesting 10,000 deep) cannot be built as a JsonNode at all.
/// </summary>
internal sealed class Samples(string domain, Func<string, JsonNode?>? overrideAt = null)
{
    private const string Marker = "__bad_input_value__";
    private int next;

    /// <summary>Every place of a shape a bad value can go: dotted paths, "[0]" for the item of an array.</summary>
    public static IEnumerable<(string Path, Shape Shape)> Places(Shape shape, string path = "")
    {
        switch (shape.Kind)
        {
            case ValueKind.Object:
                foreach (var field in shape.Properties)
                {
                    var inner = path.Length == 0 ? field.Name : $"{path}.{field.Name}";
                    yield return (inner, field.Shape);
                    foreach (var place in Places(field.Shape, inner))
                    {
                        yield return place;
                    }
                }

                break;
            case ValueKind.Array when shape.Items is { } items:
                if (items.Kind is not (ValueKind.Array or ValueKind.Object))
                {
                    yield return ($"{path}[0]", items);
                }

                foreach (var place in Places(items, $"{path}[0]").Where(p => p.Shape.Kind != ValueKind.Array))
                {
                    yield return place;
                }

                break;
        }
    }

    /// <summary>
    /// The JSON text of a sample body, with the value at <paramref name="target"/> being <paramref name="raw"/>.
    /// <paramref name="onlyTarget"/> leaves out every other field (a PATCH changes only what it names), so that
    /// no other sample value is refused first and hides what the bad one does.
    /// </summary>
    public string Body(Shape shape, string? target = null, string? raw = null, bool onlyTarget = false)
    {
        var node = Build(shape, "", "", target, onlyTarget);
        var text = node?.ToJsonString() ?? "null";
        return raw is null ? text : text.Replace($"\"{Marker}\"", raw, StringComparison.Ordinal);
    }

    private JsonNode? Build(Shape shape, string name, string path, string? target, bool onlyTarget = false)
    {
        if (target is not null && path == target)
        {
            return JsonValue.Create(Marker);
        }

        if (path.Length > 0 && (target is null || !target.StartsWith(path, StringComparison.Ordinal)) && overrideAt?.Invoke(path) is { } given)
        {
            return given;
        }

        switch (shape.Kind)
        {
            case ValueKind.Object:
                var obj = new JsonObject();
                foreach (var field in shape.Properties)
                {
                    var inner = path.Length == 0 ? field.Name : $"{path}.{field.Name}";
                    if (onlyTarget && !(target ?? "").StartsWith(inner, StringComparison.Ordinal) && overrideAt?.Invoke(inner) is null)
                    {
                        continue;
                    }

                    if (Build(field.Shape, field.Name, inner, target, onlyTarget) is { } value)
                    {
                        obj[field.Name] = value;
                    }
                }

                return obj;
            case ValueKind.Array:
                // Empty unless the bad value goes inside: a sample item (a member id) may itself be refused.
                var itemPath = $"{path}[0]";
                return target is not null && target.StartsWith(itemPath, StringComparison.Ordinal) && shape.Items is { } items
                    ? new JsonArray(Build(items, name, itemPath, target, onlyTarget))
                    : new JsonArray();
            case ValueKind.String:
                return JsonValue.Create(SampleText(name, path, shape.Format));
            case ValueKind.Integer or ValueKind.Number:
                return JsonValue.Create(1);
            case ValueKind.Boolean:
                return JsonValue.Create(false);
            default:
                return null;
        }
    }

    private string SampleText(string name, string path, string? format)
    {
        var n = Interlocked.Increment(ref next);
        if (format == "uuid")
        {
            return Guid.NewGuid().ToString();
        }

        if (name.Contains("password", StringComparison.OrdinalIgnoreCase))
        {
            return $"Sample-Passw0rd-{n:D6}";
        }

        return name.Equals("userName", StringComparison.OrdinalIgnoreCase) || name.Equals("userPrincipalName", StringComparison.OrdinalIgnoreCase)
            || name.Equals("mail", StringComparison.OrdinalIgnoreCase) || path.EndsWith("emails[0].value", StringComparison.OrdinalIgnoreCase)
            ? $"sample{n}@{domain}"
            : $"sample {n}";
    }
}
