using System.Text.Json;
using System.Text.Json.Nodes;
using Stratus.Identity.Accounts;
using Stratus.Identity.Users;

namespace Stratus.Identity.Scim;

/// <summary>
/// A user as SCIM sees it while a request changes it: the attributes Stratus keeps. Attributes it does not
/// keep (title, phoneNumbers, the enterprise extension, a password) are accepted and ignored, as identity
/// providers send them by default.
/// </summary>
public sealed class ScimUserDraft
{
    public string? UserName { get; set; }

    public string? ExternalId { get; set; }

    public string? DisplayName { get; set; }

    public string? GivenName { get; set; }

    public string? FamilyName { get; set; }

    public string? Mail { get; set; }

    public bool? Active { get; set; }

    public static ScimUserDraft From(Account user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return new()
        {
            UserName = user.UserName,
            ExternalId = user.ExternalId,
            DisplayName = user.DisplayName,
            GivenName = user.GivenName,
            FamilyName = user.Surname,
            Mail = user.Mail,
            Active = user.Enabled,
        };
    }

    /// <summary>Reads a whole user (POST, PUT); absent attributes stay null.</summary>
    public static ScimUserDraft? Parse(JsonElement body, out ScimError? error)
    {
        var draft = new ScimUserDraft();
        // Every attribute is read (some into the draft), and the first error wins.
        ScimError?[] errors =
        [
            ScimRequest.ReadSchemas(body, ScimSchemas.User),
            ScimRequest.ReadString(body.Attribute("userName"), "userName", out var userName),
            ScimRequest.ReadString(body.Attribute("externalId"), "externalId", out var externalId),
            ScimRequest.ReadString(body.Attribute("displayName"), "displayName", out var displayName),
            ScimRequest.ReadBoolean(body.Attribute("active"), "active", out var active),
            body.Attribute("name") is { } name ? draft.SetName(name) : null,
            body.Attribute("emails") is { } emails ? draft.SetEmails(ScimPatchOp.Replace, emails) : null,
        ];
        error = errors.FirstOrDefault(e => e is not null);
        if (error is not null)
        {
            return null;
        }

        draft.UserName = userName;
        draft.ExternalId = externalId;
        draft.DisplayName = displayName;
        draft.Active = active;
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

        foreach (var (attribute, value, error) in ScimPatch.Expand(operation.Value!.Value, ScimSchemas.User))
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

        if (path.Attribute is not ("name" or "emails") && (path.Filter is not null || path.SubAttribute is not null))
        {
            return path.Attribute is "username" or "displayname" or "externalid" or "active"
                ? ScimError.BadRequest(ScimErrorTypes.InvalidPath, $"'{path.Attribute}' is a simple attribute: it has no sub-attributes or values to filter.")
                : null;
        }

        string? text;
        switch (path.Attribute)
        {
            case "id" or "meta" or "groups":
                return ScimError.BadRequest(ScimErrorTypes.Mutability, $"'{path.Attribute}' is read-only.");
            case "username":
                if (op == ScimPatchOp.Remove)
                {
                    return ScimError.InvalidValue("'userName' is required: it cannot be removed.");
                }

                return ScimRequest.ReadString(value, "userName", out text) ?? Set(() => UserName = text);
            case "displayname":
                return op == ScimPatchOp.Remove ? Set(() => DisplayName = null) : ScimRequest.ReadString(value, "displayName", out text) ?? Set(() => DisplayName = text);
            case "externalid":
                return op == ScimPatchOp.Remove ? Set(() => ExternalId = null) : ScimRequest.ReadString(value, "externalId", out text) ?? Set(() => ExternalId = text);
            case "active":
                if (op == ScimPatchOp.Remove)
                {
                    return ScimError.InvalidValue("'active' cannot be removed: replace it with true or false.");
                }

                return ScimRequest.ReadBoolean(value, "active", out var active) ?? Set(() => Active = active);
            case "name":
                return path.Filter is not null
                    ? ScimError.BadRequest(ScimErrorTypes.InvalidPath, "'name' is not multi-valued: it has no values to filter.")
                    : SetNamePart(op, path.SubAttribute, value);
            case "emails":
                return SetEmail(op, path, value);
            default:
                return null;
        }
    }

    private ScimError? SetNamePart(ScimPatchOp op, string? part, JsonElement? value)
    {
        if (part is null)
        {
            return op == ScimPatchOp.Remove ? Set(() => GivenName = FamilyName = null) : SetName(value!.Value);
        }

        string? text = null;
        var error = op == ScimPatchOp.Remove ? null : ScimRequest.ReadString(value, "name." + part, out text);
        return error ?? part switch
        {
            "givenname" => Set(() => GivenName = text),
            "familyname" => Set(() => FamilyName = text),
            _ => null,
        };
    }

    private ScimError? SetName(JsonElement name)
    {
        if (name.ValueKind != JsonValueKind.Object)
        {
            return ScimError.InvalidValue("'name' must be an object such as {\"givenName\": \"Alice\", \"familyName\": \"Smith\"}.");
        }

        // Sub-attributes that are not given are left as they are (RFC 7644 section 3.5.2.3).
        string? family = null;
        var error = ScimRequest.ReadString(name.Attribute("givenName"), "name.givenName", out var given)
            ?? ScimRequest.ReadString(name.Attribute("familyName"), "name.familyName", out family);
        if (error is null)
        {
            GivenName = name.Attribute("givenName") is null ? GivenName : given;
            FamilyName = name.Attribute("familyName") is null ? FamilyName : family;
        }

        return error;
    }

    /// <summary>
    /// Stratus keeps one e-mail address: the work (primary) one. A path that selects it (type eq "work",
    /// primary eq true, or its value) changes it; other types (home) are not kept and are ignored.
    /// </summary>
    private ScimError? SetEmail(ScimPatchOp op, ScimPath path, JsonElement? value)
    {
        if (path.Filter is { } filter && !SelectsMail(filter))
        {
            var selectsValue = filter.Any(c => c.Attribute == "value");
            return op != ScimPatchOp.Remove && selectsValue
                ? ScimError.BadRequest(ScimErrorTypes.NoTarget, $"No e-mail address of this user has the value the path selects ({filter.First(c => c.Attribute == "value").Value}).")
                : null;
        }

        if (path.SubAttribute is { } sub && sub != "value")
        {
            return null;
        }

        if (op == ScimPatchOp.Remove)
        {
            if (path.Filter is null && path.SubAttribute is null && value is { ValueKind: JsonValueKind.Array } listed)
            {
                var values = listed.EnumerateArray().Select(e => e.Attribute("value")?.ToString()).ToList();
                return values.Any(v => string.Equals(v, Mail, StringComparison.OrdinalIgnoreCase)) ? Set(() => Mail = null) : null;
            }

            return Set(() => Mail = null);
        }

        if (path.SubAttribute is not null || (path.Filter is not null && value is { ValueKind: JsonValueKind.String }))
        {
            return ScimRequest.ReadString(value, "emails.value", out var text) ?? Set(() => Mail = text);
        }

        return SetEmails(op, value!.Value);
    }

    private ScimError? SetEmails(ScimPatchOp op, JsonElement emails)
    {
        var list = emails.ValueKind switch
        {
            JsonValueKind.Array => emails.EnumerateArray().ToList(),
            JsonValueKind.Object => [emails],
            _ => null,
        };
        // Each sub-attribute has its type (RFC 7643 section 4.1.2): value and type strings, primary a boolean.
        if (list is null || list.Any(e => e.ValueKind != JsonValueKind.Object || e.Attribute("value") is not { ValueKind: JsonValueKind.String }
            || e.Attribute("type") is { ValueKind: not JsonValueKind.String } || ScimRequest.ReadBoolean(e.Attribute("primary"), "primary", out _) is not null))
        {
            return ScimError.InvalidValue("'emails' must be a list of objects with a string 'value' (and a string 'type', a boolean 'primary'), such as [{\"value\": \"alice@contoso.example\", \"type\": \"work\", \"primary\": true}].");
        }

        // The primary address, else the work one, else the first: the one Stratus keeps.
        var chosen = list.FirstOrDefault(e => e.Attribute("primary") is { } p && ScimRequest.ReadBoolean(p, "primary", out var primary) is null && primary == true);
        if (chosen.ValueKind == JsonValueKind.Undefined)
        {
            chosen = list.FirstOrDefault(e => string.Equals(e.Attribute("type")?.GetString(), "work", StringComparison.OrdinalIgnoreCase));
        }

        if (chosen.ValueKind == JsonValueKind.Undefined)
        {
            chosen = list.FirstOrDefault();
        }

        if (chosen.ValueKind == JsonValueKind.Undefined)
        {
            return op == ScimPatchOp.Replace ? Set(() => Mail = null) : null;
        }

        Mail = chosen.Attribute("value")!.Value.GetString();
        return null;
    }

    private bool SelectsMail(IReadOnlyList<ScimCondition> filter) => filter.All(c => c.Attribute == "value"
        ? c.IsString(out var value) && Mail is not null && value.Equals(Mail, StringComparison.OrdinalIgnoreCase)
        : PicksWorkMail(c));

    /// <summary>A condition in emails[...] that picks the one address Stratus keeps: the work (and primary) one.</summary>
    public static bool PicksWorkMail(ScimCondition condition) => condition.Attribute switch
    {
        "type" => condition.IsString(out var type) && type.Equals("work", StringComparison.OrdinalIgnoreCase),
        "primary" => condition.Kind == ScimValueKind.Boolean && condition.Value == "true",
        _ => false,
    };

    private static ScimError? Set(Action assign)
    {
        assign();
        return null;
    }

    /// <summary>Checks the user as it would be saved; the user principal name must be in the tenant's domain.</summary>
    public ScimError? Validate(string domain, out string userPrincipalName)
    {
        userPrincipalName = "";
        if (string.IsNullOrWhiteSpace(UserName))
        {
            return ScimError.InvalidValue($"'userName' is required: the user principal name, name@{domain}.");
        }

        if (!UserName.Contains('@', StringComparison.Ordinal))
        {
            return ScimError.InvalidValue($"'userName' must be a user principal name ending with @{domain}, the tenant's domain.");
        }

        if (UserPrincipalNames.Check(UserName, domain, out userPrincipalName) is { } upnError)
        {
            return ScimError.InvalidValue($"'userName' {upnError}");
        }

        if (DisplayName is { Length: > 256 })
        {
            return ScimError.InvalidValue("'displayName' must be at most 256 characters.");
        }

        if (GivenName is { Length: > 64 } || FamilyName is { Length: > 64 })
        {
            return ScimError.InvalidValue("'name.givenName' and 'name.familyName' must be at most 64 characters.");
        }

        if (Mail is not null && (Mail.Length > 256 || !System.Net.Mail.MailAddress.TryCreate(Mail, out _)))
        {
            return ScimError.InvalidValue($"'emails' value '{Mail}' is not an e-mail address.");
        }

        return ExternalId is { Length: > 512 } ? ScimError.InvalidValue("'externalId' must be at most 512 characters.") : null;
    }

    /// <summary>The display name to keep: the given one, else the name, else the user principal name.</summary>
    public string DisplayNameOr(string userPrincipalName)
    {
        if (!string.IsNullOrWhiteSpace(DisplayName))
        {
            return DisplayName.Trim();
        }

        var name = $"{GivenName} {FamilyName}".Trim();
        return name.Length > 0 ? name : userPrincipalName;
    }

    /// <summary>Writes the draft into the account; true when anything changed.</summary>
    public bool ApplyTo(Account user, string userPrincipalName)
    {
        ArgumentNullException.ThrowIfNull(user);
        var before = (user.UserName, user.ExternalId, user.DisplayName, user.GivenName, user.Surname, user.Mail, user.Enabled);
        user.UserName = userPrincipalName;
        user.NormalizedUserName = Account.Normalize(userPrincipalName);
        user.ExternalId = ExternalId;
        user.DisplayName = DisplayNameOr(userPrincipalName);
        user.GivenName = GivenName;
        user.Surname = FamilyName;
        user.Mail = Mail;
        user.Enabled = Active ?? user.Enabled;
        return before != (user.UserName, user.ExternalId, user.DisplayName, user.GivenName, user.Surname, user.Mail, user.Enabled);
    }
}

public static class ScimUserResource
{
    public static JsonObject ToScim(Account user, string location)
    {
        ArgumentNullException.ThrowIfNull(user);
        var resource = new JsonObject
        {
            ["schemas"] = new JsonArray(ScimSchemas.User),
            ["id"] = user.Id.ToString(),
        };
        if (user.ExternalId is not null)
        {
            resource["externalId"] = user.ExternalId;
        }

        resource["userName"] = user.UserName;
        if (user.GivenName is not null || user.Surname is not null)
        {
            var name = new JsonObject();
            if (user.GivenName is not null)
            {
                name["givenName"] = user.GivenName;
            }

            if (user.Surname is not null)
            {
                name["familyName"] = user.Surname;
            }

            name["formatted"] = $"{user.GivenName} {user.Surname}".Trim();
            resource["name"] = name;
        }

        resource["displayName"] = user.DisplayName;
        if (user.Mail is not null)
        {
            resource["emails"] = new JsonArray(new JsonObject { ["value"] = user.Mail, ["type"] = "work", ["primary"] = true });
        }

        resource["active"] = user.Enabled;
        resource["meta"] = new JsonObject
        {
            ["resourceType"] = "User",
            ["created"] = user.CreatedAt,
            ["lastModified"] = user.UpdatedAt,
            ["location"] = location,
        };
        return resource;
    }
}
