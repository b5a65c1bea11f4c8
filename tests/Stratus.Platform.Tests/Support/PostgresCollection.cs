using Stratus.Testing;

namespace Stratus.Platform.Tests.Support;

/// <summary>
/// One PostgreSQL server for every test that stores data; each test creates a database of its own on it.
/// The SQLite half of each theory runs in the same collection, so that a storage test is one class.
/// </summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "PostgreSQL";
}
