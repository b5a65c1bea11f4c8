using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;

namespace Stratus.Platform.Http;

/// <summary>
/// Reads every JSON body and query string once, before any endpoint sees them, and refuses what no endpoint
/// should have to: JSON that does not parse or nests deeper than <see cref="MaxDepth"/> (400 bad-request), and
/// text that breaks <see cref="TextRules"/> in any string value or property name (400 validation, naming the
/// field by its JSON path). In one place so that no endpoint, SCIM's own reader included, can forget it, and a
/// refused request runs no handler: nothing is stored or audited. See docs/adr/0014-request-text-rules.md.
/// </summary>
internal sealed class RequestTextMiddleware(RequestDelegate next)
{
    /// <summary>No request of Stratus nests deeper than a few levels; a SCIM PATCH is the deepest, at four.</summary>
    public const int MaxDepth = 32;

    /// <summary>
    /// The longest text value any request may hold, whatever its field: a backstop above every field's own limit
    /// (a name's 256, a description's 1,024, a certificate's few KiB), so that no field without one stores a novel.
    /// </summary>
    public const int MaxTextLength = 32 * 1024;

    /// <summary>Reported fields: enough to correct a request, not an answer as big as a hostile one.</summary>
    private const int MaxReported = 20;

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint() is null)
        {
            await next(context);
            return;
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var (name, values) in context.Request.Query)
        {
            Check(errors, name, name, allowLineBreaks: false, allowBidi: false);
            foreach (var value in values)
            {
                Check(errors, name, value ?? "", allowLineBreaks: false, allowBidi: false);
            }
        }

        foreach (var (name, value) in context.Request.RouteValues)
        {
            if (value is string text)
            {
                Check(errors, name, text, allowLineBreaks: false, allowBidi: false);
            }
        }

        if (IsJson(context.Request.ContentType) && context.Request.ContentLength != 0)
        {
            context.Request.EnableBuffering();
            JsonDocument document;
            try
            {
                document = await JsonDocument.ParseAsync(context.Request.Body, new JsonDocumentOptions { MaxDepth = MaxDepth }, context.RequestAborted);
            }
            catch (JsonException e)
            {
                await ProblemWriter.WriteAsync(context, StatusCodes.Status400BadRequest, "bad-request", "The request cannot be read",
                    $"The request body is not valid JSON (nested at most {MaxDepth} deep): {e.Message}");
                return;
            }

            using (document)
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object && TakesJsonObject(context.GetEndpoint()!))
                {
                    await ProblemWriter.WriteAsync(context, StatusCodes.Status400BadRequest, "bad-request", "The request cannot be read",
                        $"The request body must be a JSON object, not {document.RootElement.ValueKind.ToString().ToLowerInvariant()}.");
                    return;
                }

                Walk(errors, document.RootElement, "", allowLineBreaks: false, allowBidi: false);
            }

            context.Request.Body.Position = 0;
        }

        if (errors.Count > 0)
        {
            await ProblemWriter.WriteValidationAsync(context, errors);
            return;
        }

        await next(context);
    }

    /// <summary>
    /// An endpoint whose body binds to a record: a JSON null would reach its handler as a null request, which each
    /// handler would have to refuse again. (SCIM reads its bodies itself, and refuses what is not an object.)
    /// </summary>
    private static bool TakesJsonObject(Endpoint endpoint) =>
        endpoint.Metadata.GetMetadata<IAcceptsMetadata>() is { RequestType: { } type }
        && type != typeof(JsonElement) && type != typeof(string) && !typeof(System.Collections.IEnumerable).IsAssignableFrom(type);

    private static bool IsJson(string? contentType) =>
        contentType is not null && Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media)
        && (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.MediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));

    private static void Walk(Dictionary<string, string[]> errors, JsonElement element, string path, bool allowLineBreaks, bool allowBidi)
    {
        if (errors.Count >= MaxReported)
        {
            return;
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    var name = ReadName(property, out var unreadable);
                    var field = path.Length == 0 ? name : $"{path}.{name}";
                    if (unreadable is not null)
                    {
                        errors.TryAdd(path.Length == 0 ? "$" : path, [$"A property name {unreadable}"]);
                        continue;
                    }

                    Check(errors, field, name, allowLineBreaks: false, allowBidi: false);
                    Walk(errors, property.Value, field, TextRules.IsFreeText(name), allowBidi || TextRules.IsSecret(name));
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Walk(errors, item, $"{path}[{index++}]", allowLineBreaks, allowBidi);
                }

                break;
            case JsonValueKind.String:
                string? text;
                try
                {
                    text = element.GetString();
                }
                catch (InvalidOperationException)
                {
                    // An escaped lone surrogate ("\ud800") parses as JSON but is no UTF-16 text.
                    errors.TryAdd(Field(path), [$"'{Field(path)}' is not valid Unicode text (a lone surrogate or invalid UTF-8)."]);
                    return;
                }

                Check(errors, Field(path), text ?? "", allowLineBreaks, allowBidi);
                break;
        }
    }

    private static string ReadName(JsonProperty property, out string? unreadable)
    {
        unreadable = null;
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            unreadable = "is not valid Unicode text (a lone surrogate or invalid UTF-8).";
            return "";
        }
    }

    private static string Field(string path) => path.Length == 0 ? "$" : path;

    private static void Check(Dictionary<string, string[]> errors, string field, string text, bool allowLineBreaks, bool allowBidi)
    {
        var reason = text.Length > MaxTextLength ? $"must be at most {MaxTextLength} characters." : TextRules.Violation(text, allowLineBreaks, allowBidi);
        if (errors.Count < MaxReported && reason is not null)
        {
            // The field name itself may be the offender: it is shown escaped, so the answer holds no control character.
            var shown = JsonEncodedText.Encode(field).ToString();
            errors.TryAdd(shown, [$"'{shown}' {reason}"]);
        }
    }
}
