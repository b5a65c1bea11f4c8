using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Stratus.Platform.Messaging;

/// <summary>
/// Names a message on the wire. Each service keeps its own copy of the records it consumes (no shared
/// contracts assembly); the name is what ties a publisher's record to a consumer's.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class MessageNameAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

public static class MessageNames
{
    private static readonly ConcurrentDictionary<Type, string> Names = new();

    public static string Of(Type type) => Names.GetOrAdd(type, static t =>
        t.GetCustomAttribute<MessageNameAttribute>()?.Name
        ?? throw new InvalidOperationException($"{t.FullName} needs [MessageName(\"service.event.v1\")] to be published or consumed."));

    public static string Of<TMessage>() => Of(typeof(TMessage));
}

public static class MessageJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };
}
