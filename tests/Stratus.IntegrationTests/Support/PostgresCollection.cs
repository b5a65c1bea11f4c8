using Stratus.Testing;

namespace Stratus.IntegrationTests.Support;

/// <summary>The tests that share one real PostgreSQL server; each takes a database of its own.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "PostgreSQL";
}
