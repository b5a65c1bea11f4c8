using System.Text;

namespace Stratus.IntegrationTests.BadInput;

internal enum Expect
{
    /// <summary>A 4xx problem, nothing stored, nothing audited.</summary>
    Refused,

    /// <summary>Input a server may accept (a null field of a PATCH, a negative count): never a 5xx, and a 4xx is a problem.</summary>
    NoServerError,
}

/// <summary>One request to send. <see cref="Body"/> null sends none; <see cref="WithToken"/> false sends no Authorization header.</summary>
internal sealed record BadCase(string Name, Expect Expect, string Method, string Path, string? Body, string? ContentType, bool WithToken = true)
{
    /// <summary>Bytes to send instead of <see cref="Body"/>, for bodies that are not UTF-8 text.</summary>
    public byte[]? RawBody { get; init; }

    public override string ToString() => $"{Method} {Path[..Math.Min(Path.Length, 160)]} [{Name}]{(WithToken ? "" : " without token")}";
}

/// <summary>
/// The bad requests for an operation of a document: deterministic cases for each body, field, path and query
/// parameter, then <c>randomCount</c> drawn from <paramref name="random"/> (a fixed seed, printed on failure).
/// </summary>
internal sealed class BadCases(Func<Operation, Samples> samplesFor, Func<Operation, Parameter, string> existingId, Random random, int randomCount)
{
    private Samples samples = null!;

    public const int HundredKb = 100 * 1024;
    public const int FiveMb = 5 * 1024 * 1024;

    /// <summary>
    /// Ids no route should follow, escaped as they go in the URL. Kestrel's request line takes 8 KiB, so a long id is
    /// 4,000 characters. ("%2E%2E" alone is not among them: the client removes it as a dot segment before sending.)
    /// </summary>
    public static readonly string[] BadIds =
    [
        "..%2F..%2F..%2Fetc%2Fpasswd", "..%5C..%5Cwindows", ".%2E%2F.%2E%2Fetc", "a%00b", "%1B%5B31m", "%E2%80%AEgnp.exe",
        "'%20or%20'1'%3D'1", new string('x', 4000),
    ];

    /// <summary>Numbers where an id goes: never a GUID, but a name (a gallery image's) may be one.</summary>
    public static readonly string[] NumericIds = ["-1", "99999999999999999999"];

    /// <summary>$filter (and $orderby, SCIM's filter) values that are not expressions.</summary>
    public static readonly string[] OddFilters =
    [
        "'", "displayName eq", "displayName eq 'x", "((((((((((((((((((((((((((((((((", "displayName eq 'x' or 1 eq 1; DROP TABLE users",
        "startswith(displayName,", "id eq 99999999999999999999", "displayName eq 'a\u0000b'", "displayName eq 'a\u202Eb'", "nosuchattribute eq 'x'",
        "displayName eq 'x' and (" + string.Concat(Enumerable.Repeat("not (", 500)), "userName pr pr", "$",
    ];

    public IEnumerable<BadCase> For(Operation operation)
    {
        samples = samplesFor(operation);
        foreach (var c in BodyCases(operation))
        {
            yield return c;
        }

        foreach (var c in PathCases(operation))
        {
            yield return c;
        }

        foreach (var c in QueryCases(operation))
        {
            yield return c;
        }

        foreach (var c in RandomCases(operation))
        {
            yield return c;
        }

        // Without a token: the same kinds of input, refused before or after authentication, never a 5xx.
        if (operation.IsWrite && operation.Method != "DELETE")
        {
            yield return Request(operation, "malformed JSON", Expect.Refused, "{\"a\":", withToken: false);
            yield return Request(operation, "NUL in a field", Expect.Refused, "{\"displayName\":\"a\\u0000b\",\"userName\":\"a\\u0000b\"}", withToken: false);
        }

        if (operation.Parameters.FirstOrDefault(p => p.In == ParameterPlace.Path) is { } first)
        {
            yield return Request(operation, "traversal id", Expect.Refused, SampleBodyOrNone(operation), withToken: false, path: Path(operation, first, BadIds[0]));
        }
    }

    private IEnumerable<BadCase> BodyCases(Operation operation)
    {
        if (!operation.IsWrite || operation.Method == "DELETE")
        {
            yield break;
        }

        // Each is bad whatever the endpoint: it does not parse, or it is too big or too deep to read.
        yield return Request(operation, "malformed JSON", Expect.Refused, "{\"a\":");
        yield return Request(operation, "truncated JSON", Expect.Refused, "{");
        yield return Request(operation, "trailing comma", Expect.Refused, "{\"a\":1,}");
        yield return Request(operation, "invalid UTF-8", Expect.Refused, "{\"a\":\"\u00ff\"}", contentBytes: [.. "{\"a\":\""u8, 0xff, 0xfe, .. "\"}"u8]);
        yield return Request(operation, "10,000 deep", Expect.Refused, Deep(10_000));
        yield return Request(operation, "10,000 deep in a field", Expect.Refused, "{\"displayName\":" + Deep(10_000) + "}");
        yield return Request(operation, "5 MB string", Expect.Refused, "{\"displayName\":\"" + new string('a', FiveMb) + "\"}");
        yield return Request(operation, "NUL in a property name", Expect.Refused, "{\"a\\u0000\":1}");
        if (operation.Body is not { } body)
        {
            yield break;
        }

        // What a body must be: an object, and there.
        if (body.Kind == ValueKind.Object)
        {
            yield return Request(operation, "no body", Expect.Refused, null);
            yield return Request(operation, "empty body", Expect.Refused, "");
            yield return Request(operation, "array body", Expect.Refused, "[]");
            yield return Request(operation, "array of the body", Expect.Refused, "[" + samples.Body(body) + "]");
            yield return Request(operation, "null body", Expect.Refused, "null");
            yield return Request(operation, "string body", Expect.Refused, "\"x\"");
            yield return Request(operation, "number body", Expect.Refused, "-1");
        }

        foreach (var (place, shape) in Samples.Places(body))
        {
            foreach (var (name, expect, raw) in BadValues(place, shape))
            {
                yield return Request(operation, $"{place}: {name}", expect, samples.Body(body, place, raw, onlyTarget: operation.Method == "PATCH"));
            }
        }
    }

    /// <summary>The bad values for one place, by its kind.</summary>
    private static IEnumerable<(string Name, Expect Expect, string Raw)> BadValues(string place, Shape shape)
    {
        var leaf = place[(place.LastIndexOf('.') + 1)..];
        var secret = leaf.Contains("password", StringComparison.OrdinalIgnoreCase);
        yield return ("null", Expect.NoServerError, "null");
        switch (shape.Kind)
        {
            case ValueKind.String:
                yield return ("wrong type (object)", Expect.Refused, "{\"a\":1}");
                yield return ("wrong type (number)", Expect.Refused, "12345");
                yield return ("wrong type (array)", Expect.Refused, "[\"a\"]");
                yield return ("NUL", Expect.Refused, "\"a\\u0000b\"");
                yield return ("escape sequence", Expect.Refused, "\"a\\u001b[31mred\"");
                yield return ("C1 control", Expect.Refused, "\"a\\u0085b\"");
                yield return ("right-to-left override", secret ? Expect.NoServerError : Expect.Refused, "\"evil\\u202Egnp.exe\"");
                yield return ("bidi isolate", secret ? Expect.NoServerError : Expect.Refused, "\"a\\u2066b\\u2069\"");
                yield return ("lone surrogate", Expect.Refused, "\"a\\ud800b\"");
                yield return ("100 KB", Expect.Refused, "\"" + new string('a', HundredKb) + "\"");
                yield return ("path traversal", shape.Format == "uuid" ? Expect.Refused : Expect.NoServerError, "\"../../../etc/passwd\"");
                break;
            case ValueKind.Integer:
                yield return ("wrong type (boolean)", Expect.Refused, "true");
                yield return ("wrong type (text)", Expect.Refused, "\"abc\"");
                yield return ("huge", Expect.Refused, "99999999999999999999999");
                yield return ("fraction", Expect.Refused, "1.5");
                yield return ("negative", Expect.NoServerError, "-1");
                yield return ("most negative", Expect.NoServerError, "-2147483648");
                break;
            case ValueKind.Number:
                yield return ("wrong type (boolean)", Expect.Refused, "true");
                yield return ("negative", Expect.NoServerError, "-1");
                yield return ("huge", Expect.NoServerError, "1e308");
                break;
            case ValueKind.Boolean:
                yield return ("wrong type (text)", Expect.Refused, "\"yes\"");
                yield return ("wrong type (number)", Expect.Refused, "2");
                yield return ("wrong type (object)", Expect.Refused, "{}");
                break;
            case ValueKind.Array:
                yield return ("wrong type (object)", Expect.Refused, "{\"a\":1}");
                yield return ("wrong type (text)", Expect.Refused, "\"a\"");
                break;
            case ValueKind.Object:
                yield return ("wrong type (text)", Expect.Refused, "\"a\"");
                yield return ("wrong type (array)", Expect.Refused, "[1]");
                break;
        }
    }

    private IEnumerable<BadCase> PathCases(Operation operation)
    {
        foreach (var parameter in operation.Parameters.Where(p => p.In == ParameterPlace.Path))
        {
            var numeric = parameter.Shape.Format == "uuid" ? Expect.Refused : Expect.NoServerError;
            foreach (var (id, expect) in BadIds.Select(id => (id, Expect.Refused)).Concat(NumericIds.Select(id => (id, numeric))))
            {
                var shown = Uri.UnescapeDataString(id);
                yield return Request(operation, $"{{{parameter.Name}}} = {shown[..Math.Min(shown.Length, 30)]}", expect,
                    SampleBodyOrNone(operation), path: Path(operation, parameter, id));
            }
        }
    }

    private IEnumerable<BadCase> QueryCases(Operation operation)
    {
        foreach (var parameter in operation.Parameters.Where(p => p.In == ParameterPlace.Query))
        {
            var values = new List<(string, Expect)>
            {
                ("a\u0000b", Expect.Refused), ("a\u001bb", Expect.Refused), ("a\u202Eb", Expect.Refused), (new string('x', 4000), Expect.NoServerError),
            };
            if (parameter.Shape.Kind == ValueKind.Integer)
            {
                values.AddRange([("abc", Expect.Refused), ("99999999999999999999", Expect.Refused), ("1.5", Expect.Refused), ("-1", Expect.NoServerError)]);
            }
            else if (parameter.Shape.Format == "uuid")
            {
                values.AddRange([("not-a-guid", Expect.Refused), ("../../etc/passwd", Expect.Refused)]);
            }
            else if (parameter.Name.TrimStart('$') is "filter" or "orderby")
            {
                values.AddRange(OddFilters.Select(f => (f, Expect.Refused)));
            }

            foreach (var (value, expect) in values)
            {
                var shown = value.Length > 30 ? value[..30] + "…" : value;
                yield return Request(operation, $"?{parameter.Name}={shown}", expect, SampleBodyOrNone(operation),
                    path: Path(operation, null, null) + "?" + Uri.EscapeDataString(parameter.Name) + "=" + Uri.EscapeDataString(value));
            }
        }
    }

    /// <summary>Random text with at least one control or bidirectional character, in a random place of the body or query.</summary>
    private IEnumerable<BadCase> RandomCases(Operation operation)
    {
        var places = operation.Body is { } body
            ? Samples.Places(body).Where(p => p.Shape.Kind == ValueKind.String && !p.Path.Contains("password", StringComparison.OrdinalIgnoreCase)).ToList()
            : [];
        var queries = operation.Parameters.Where(p => p.In == ParameterPlace.Query).ToList();
        for (var i = 0; i < randomCount && (places.Count > 0 || queries.Count > 0); i++)
        {
            var text = RandomBadText();
            if (places.Count > 0 && (queries.Count == 0 || random.Next(2) == 0))
            {
                var (place, _) = places[random.Next(places.Count)];
                yield return Request(operation, $"{place}: random {Escape(text)}", Expect.Refused,
                    samples.Body(operation.Body!, place, System.Text.Json.JsonSerializer.Serialize(text)));
            }
            else
            {
                var parameter = queries[random.Next(queries.Count)];
                yield return Request(operation, $"?{parameter.Name}: random {Escape(text)}", Expect.Refused, SampleBodyOrNone(operation),
                    path: Path(operation, null, null) + "?" + Uri.EscapeDataString(parameter.Name) + "=" + Uri.EscapeDataString(text));
            }
        }
    }

    private string RandomBadText()
    {
        var text = new StringBuilder();
        var length = random.Next(0, 40);
        for (var i = 0; i < length; i++)
        {
            text.Append(random.Next(4) switch
            {
                0 => (char)random.Next(0x20, 0x7f),
                1 => (char)random.Next(0xa0, 0x2000),
                2 => (char)random.Next(0x4e00, 0x9fff),
                _ => (char)random.Next('a', 'z' + 1),
            });
        }

        char[] bad = ['\u0000', '\u0001', '\u0007', '\u0008', '\u000b', '\u000c', '\u001b', '\u001f', '\u007f', '\u0080', '\u0085', '\u009f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'];
        return text.Insert(random.Next(text.Length + 1), bad[random.Next(bad.Length)]).ToString();
    }

    private static string Escape(string text) => System.Text.Json.JsonSerializer.Serialize(text);

    private static string Deep(int depth) => new string('[', depth) + new string(']', depth);

    private string? SampleBodyOrNone(Operation operation) => operation.Body is { } body ? samples.Body(body) : null;

    private string Path(Operation operation, Parameter? bad, string? badValue)
    {
        var path = operation.PathTemplate;
        foreach (var parameter in operation.Parameters.Where(p => p.In == ParameterPlace.Path))
        {
            var value = parameter == bad ? badValue! : Uri.EscapeDataString(existingId(operation, parameter));
            path = path.Replace("{" + parameter.Name + "}", value, StringComparison.Ordinal);
        }

        return path;
    }

    private BadCase Request(Operation operation, string name, Expect expect, string? body, bool withToken = true, string? path = null, byte[]? contentBytes = null) =>
        new(name, expect, operation.Method, path ?? Path(operation, null, null), body, body is null ? null : operation.BodyMediaType, withToken)
        {
            RawBody = contentBytes,
        };
}
