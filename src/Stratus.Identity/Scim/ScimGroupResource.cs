using System.Text.Json;
using System.Text.Json.Nodes;
using Stratus.Identity.Groups;

namespace Stratus.Identity.Scim;

public sealed record ScimMember(Guid UserId, string Display);

/// <summary>A group as SCIM sees it while a request changes it: its name, external id and the set of member users.</summary>
public sealed class ScimGroupDraft
{
    public string? DisplayName { get; set; }

    public string? ExternalId { get; set; }

    public HashSet<Guid> Members { get; private set; } = [];

    public static ScimGroupDraft From(Group group, IEnumerable<Guid> members)
    {
        ArgumentNullException.ThrowIfNull(group);
        return new() { DisplayName = group.DisplayName, ExternalId = group.ExternalId, Members = [.. members] };
    }

    /// <summary>Reads a whole group (POST, PUT); members left out means no members.</summary>
    public static ScimGroupDraft? Parse(JsonElement body, out ScimError? error)
    {
        var draft = new ScimGroupDraft();
        var members = new List<Guid>();
        ScimError?[] errors =
        [
            ScimRequest.ReadSchemas(body, ScimSchemas.Group),
            ScimRequest.ReadString(body.Attribute("displayName"), "displayName", out var displayName),
            ScimRequest.ReadString(body.Attribute("externalId"), "externalId", out var externalId),
            body.Attribute("members") is { } list ? ReadMembers(list, out members) : null,
        ];
        error = errors.FirstOrDefault(e => e is not null);
        if (error is not null)
        {
            return null;
        }

        draft.DisplayName = displayName;
        draft.ExternalId = externalId;
        draft.Members = [.. members];
        return draft;
    }

    /// <summary>Applies one PATCH operation; an error means the whole PATCH is refused.</summary>
    public ScimError? Apply(ScimPatchOperation operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        if (operation.Path is { } path)
        {
            return Apply(operation.Op, path, operation.Value);
        }

        foreach (var (attribute, value, error) in ScimPatch.Expand(operation.Value!.Value, ScimSchemas.Group))
        {
            if ((error ?? Apply(operation.Op, attribute!, value)) is { } failure)
            {
                return failure;
            }
        }

        return null;
    }

    private ScimError? Apply(ScimPatchOp op, ScimPath path, JsonElement? value)
    {
        if (path.IsExtension)
        {
            return null;
        }

        if (path.Attribute == "members")
        {
            return ApplyMembers(op, path, value);
        }

        if (path.Filter is not null || path.SubAttribute is not null)
        {
            return path.Attribute is "displayname" or "externalid"
                ? ScimError.BadRequest(ScimErrorTypes.InvalidPath, $"'{path.Attribute}' is a simple attribute: it has no sub-attributes or values to filter.")
                : null;
        }

        string? text;
        switch (path.Attribute)
        {
            case "id" or "meta":
                return ScimError.BadRequest(ScimErrorTypes.Mutability, $"'{path.Attribute}' is read-only.");
            case "displayname":
                if (op == ScimPatchOp.Remove)
                {
                    return ScimError.InvalidValue("'displayName' is required: it cannot be removed.");
                }

                return ScimRequest.ReadString(value, "displayName", out text) ?? Set(() => DisplayName = text);
            case "externalid":
                return op == ScimPatchOp.Remove ? Set(() => ExternalId = null) : ScimRequest.ReadString(value, "externalId", out text) ?? Set(() => ExternalId = text);
            default:
                return null;
        }
    }

    private ScimError? ApplyMembers(ScimPatchOp op, ScimPath path, JsonElement? value)
    {
        if (path.SubAttribute is not null)
        {
            return ScimError.BadRequest(ScimErrorTypes.InvalidPath, "Members are changed as a whole: use the path 'members' or 'members[value eq \"<user id>\"]'.");
        }

        if (path.Filter is { } filter)
        {
            if (filter is not [{ Attribute: "value", Kind: ScimValueKind.String } selected])
            {
                return ScimError.BadRequest(ScimErrorTypes.InvalidFilter, "Members are selected by their id only: members[value eq \"<user id>\"].");
            }

            if (op != ScimPatchOp.Remove)
            {
                return ScimError.BadRequest(ScimErrorTypes.InvalidPath, "To add members, use add with the path 'members' and a list of {\"value\": \"<user id>\"}.");
            }

            // A user that is not a member (or not an id at all) is not removed: the result is the same.
            return Guid.TryParse(selected.Value, out var id) ? Set(() => Members.Remove(id)) : null;
        }

        if (op == ScimPatchOp.Remove && value is null)
        {
            return Set(Members.Clear);
        }

        if (ReadMembers(value!.Value, out var ids) is { } error)
        {
            return error;
        }

        switch (op)
        {
            case ScimPatchOp.Add:
                Members.UnionWith(ids);
                break;
            case ScimPatchOp.Replace:
                Members = [.. ids];
                break;
            case ScimPatchOp.Remove:
                Members.ExceptWith(ids);
                break;
        }

        return null;
    }

    private static ScimError? ReadMembers(JsonElement value, out List<Guid> ids)
    {
        ids = [];
        var list = value.ValueKind switch
        {
            JsonValueKind.Array => value.EnumerateArray().ToList(),
            JsonValueKind.Object => [value],
            _ => null,
        };
        if (list is null)
        {
            return ScimError.InvalidValue("'members' must be a list of {\"value\": \"<user id>\"}.");
        }

        foreach (var member in list)
        {
            if (member.Attribute("value") is not { ValueKind: JsonValueKind.String } id)
            {
                return ScimError.InvalidValue("Each member must be an object with the user's id in 'value': {\"value\": \"<user id>\"}.");
            }

            if (!Guid.TryParse(id.GetString(), out var userId))
            {
                return ScimError.InvalidValue($"The member '{id.GetString()}' is not the id of a user of this tenant.");
            }

            ids.Add(userId);
        }

        return null;
    }

    private static ScimError? Set(Action assign)
    {
        assign();
        return null;
    }

    private static ScimError? Set(Func<bool> assign)
    {
        assign();
        return null;
    }

    public ScimError? Validate()
    {
        if (string.IsNullOrWhiteSpace(DisplayName) || DisplayName.Trim().Length > 256)
        {
            return ScimError.InvalidValue("'displayName' is required: 1 to 256 characters.");
        }

        return ExternalId is { Length: > 512 } ? ScimError.InvalidValue("'externalId' must be at most 512 characters.") : null;
    }
}

public static class ScimGroupResource
{
    public static JsonObject ToScim(Group group, IReadOnlyList<ScimMember>? members, string location, Func<Guid, string> userLocation)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(userLocation);
        var resource = new JsonObject
        {
            ["schemas"] = new JsonArray(ScimSchemas.Group),
            ["id"] = group.Id.ToString(),
        };
        if (group.ExternalId is not null)
        {
            resource["externalId"] = group.ExternalId;
        }

        resource["displayName"] = group.DisplayName;
        if (members is not null)
        {
            resource["members"] = new JsonArray([.. members.Select(m => new JsonObject
            {
                ["value"] = m.UserId.ToString(),
                ["display"] = m.Display,
                ["type"] = "User",
                ["$ref"] = userLocation(m.UserId),
            })]);
        }

        resource["meta"] = new JsonObject
        {
            ["resourceType"] = "Group",
            ["created"] = group.CreatedAt,
            ["location"] = location,
        };
        return resource;
    }
}
