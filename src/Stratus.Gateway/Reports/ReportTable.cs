using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Stratus.Platform.Http;

namespace Stratus.Gateway.Reports;

/// <summary>One column of a report: its name in JSON, $filter, $orderby and the CSV header, and how to read it from a row.</summary>
public sealed record ReportColumn<T>(string Name, Func<T, object?> Value, bool Filterable = false);

/// <summary>What a report's query asks for, read from the query string; an error names the parameter at fault.</summary>
public sealed record ReportQuery(string? Filter, string? OrderBy, int? Top, int? Skip, bool Csv)
{
    public static ReportQuery From(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var query = request.Query;
        var csv = string.Equals(query["format"], "csv", StringComparison.OrdinalIgnoreCase)
            || request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/csv", StringComparison.OrdinalIgnoreCase));
        return new(query["$filter"], query["$orderby"], ParseInt(query["$top"]), ParseInt(query["$skip"]), csv)
        {
            BadNumber = new[] { "$top", "$skip" }.FirstOrDefault(p => query[p].Count > 0 && ParseInt(query[p]) is null),
        };
    }

    /// <summary>A $top or $skip that is not a whole number.</summary>
    public string? BadNumber { get; init; }

    private static int? ParseInt(string? value) => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;
}

/// <summary>
/// Filters, orders, pages and renders (JSON or CSV) the rows of a tenant's report: the small, safe subset of OData
/// the reports answer, eq on named columns, rather than anything half-understood.
/// </summary>
public sealed class ReportTable<T>(string name, IReadOnlyList<ReportColumn<T>> columns)
{
    public IResult Answer(IEnumerable<T> rows, ReportQuery query)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(query);
        if (query.BadNumber is { } bad)
        {
            return Problems.Validation(bad, $"'{bad}' must be a whole number.");
        }

        if (Paging.Validate(query.Top, query.Skip) is { } paging)
        {
            return paging;
        }

        var selected = rows;
        if (!string.IsNullOrWhiteSpace(query.Filter))
        {
            var filterable = columns.Where(c => c.Filterable).Select(c => c.Name).ToArray();
            var filter = ODataFilter.Parse(query.Filter, filterable);
            if (filter.Error is { } error)
            {
                return Problems.Validation("$filter", $"'$filter' {error}");
            }

            foreach (var (property, value) in filter.Conditions)
            {
                var column = columns.Single(c => c.Name == property);
                selected = selected.Where(r => string.Equals(Text(column.Value(r)), value, StringComparison.OrdinalIgnoreCase));
            }
        }

        if (!string.IsNullOrWhiteSpace(query.OrderBy))
        {
            var parts = query.OrderBy.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var column = columns.FirstOrDefault(c => c.Name.Equals(parts[0], StringComparison.OrdinalIgnoreCase));
            if (column is null || parts.Length > 2 || (parts.Length == 2 && parts[1].ToLowerInvariant() is not ("asc" or "desc")))
            {
                return Problems.Validation("$orderby", $"'$orderby' must be one of {string.Join(", ", columns.Select(c => c.Name))}, optionally followed by asc or desc.");
            }

            selected = parts.Length == 2 && parts[1].Equals("desc", StringComparison.OrdinalIgnoreCase)
                ? selected.OrderByDescending(column.Value, Comparer<object?>.Default)
                : selected.OrderBy(column.Value, Comparer<object?>.Default);
        }

        var all = selected.ToList();
        var page = all.Skip(query.Skip ?? 0).Take(query.Top ?? Paging.DefaultTop).ToList();
        return query.Csv
            ? TypedResults.Text(Csv(page), "text/csv; charset=utf-8")
            : TypedResults.Ok(new PagedResult<T>(page, all.Count));
    }

    /// <summary>RFC 4180: a header of the column names, one line per row, fields quoted where they must be.</summary>
    private string Csv(IEnumerable<T> rows)
    {
        var csv = new StringBuilder();
        csv.AppendJoin(',', columns.Select(c => Field(c.Name))).Append("\r\n");
        foreach (var row in rows)
        {
            csv.AppendJoin(',', columns.Select(c => Field(Text(c.Value(row))))).Append("\r\n");
        }

        return csv.ToString();
    }

    private static string Field(string text) =>
        text.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? $"\"{text.Replace("\"", "\"\"", StringComparison.Ordinal)}\""
        // A leading =, +, - or @ makes a spreadsheet run the field as a formula: quote it as text.
        : text.Length > 0 && text[0] is '=' or '+' or '@' || (text.Length > 0 && text[0] == '-' && !double.TryParse(text, CultureInfo.InvariantCulture, out _)) ? $"'{text}"
        : text;

    private static string Text(object? value) => value switch
    {
        null => "",
        DateTimeOffset at => at.ToString("O", CultureInfo.InvariantCulture),
        DateOnly day => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    public override string ToString() => name;
}
