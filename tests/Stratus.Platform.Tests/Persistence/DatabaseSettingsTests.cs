using Npgsql;
using Stratus.Platform.Persistence;

namespace Stratus.Platform.Tests.Persistence;

public sealed class DatabaseSettingsTests
{
    [Fact]
    public void Parse_SqliteFolder_UsesItsFullPath()
    {
        var settings = DatabaseSettings.Parse("sqlite:./data/db");

        Assert.Equal(DatabaseProvider.Sqlite, settings.Provider);
        Assert.Equal(Path.GetFullPath("./data/db"), settings.Target);
    }

    [Fact]
    public void Parse_SqlitePrefixInAnyCaseWithSpaces_IsSqlite()
    {
        var settings = DatabaseSettings.Parse("  SQLite:/var/lib/stratus/db  ");

        Assert.Equal(DatabaseProvider.Sqlite, settings.Provider);
        Assert.Equal("/var/lib/stratus/db", settings.Target);
    }

    [Fact]
    public void ConnectionStringFor_Sqlite_IsOneFilePerSchema()
    {
        var settings = DatabaseSettings.Parse("sqlite:/srv/db");

        Assert.Contains("Data Source=/srv/db/identity.db;", settings.ConnectionStringFor("identity"), StringComparison.Ordinal);
        Assert.Contains("Data Source=/srv/db/platform.db;", settings.ConnectionStringFor("platform"), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SqliteWithoutFolder_ThrowsConfigurationException()
    {
        var error = Assert.Throws<ConfigurationException>(() => DatabaseSettings.Parse("sqlite:"));

        Assert.Contains("needs a folder", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void Parse_Empty_ThrowsConfigurationExceptionWithAnExample(string value)
    {
        var error = Assert.Throws<ConfigurationException>(() => DatabaseSettings.Parse(value));

        Assert.Contains("empty", error.Message, StringComparison.Ordinal);
        Assert.Contains("sqlite:FOLDER", error.Message, StringComparison.Ordinal);
        Assert.Contains("Host=", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_KeywordConnectionString_IsPostgresWithFiveSecondTimeout()
    {
        var settings = DatabaseSettings.Parse("Host=db.internal;Port=5433;Database=stratus;Username=stratus;Password=secret");

        Assert.Equal(DatabaseProvider.Postgres, settings.Provider);
        var builder = new NpgsqlConnectionStringBuilder(settings.Target);
        Assert.Equal("db.internal", builder.Host);
        Assert.Equal(5433, builder.Port);
        Assert.Equal("stratus", builder.Database);
        Assert.Equal("stratus", builder.Username);
        Assert.Equal("secret", builder.Password);
        Assert.Equal(5, builder.Timeout);
        Assert.Equal(settings.Target, settings.ConnectionStringFor("identity"));
    }

    [Fact]
    public void Parse_ExplicitTimeout_IsKept()
    {
        var settings = DatabaseSettings.Parse("Host=db;Database=stratus;Timeout=30");

        Assert.Equal(30, new NpgsqlConnectionStringBuilder(settings.Target).Timeout);
    }

    [Theory]
    [InlineData("Host=db;Database=stratus;Command Timeout=60")]
    [InlineData("Host=db;Database=stratus;Password=notimeout")]
    public void Parse_TimeoutOnlyInAnotherValue_StillAddsTheConnectTimeout(string value)
    {
        var settings = DatabaseSettings.Parse(value);

        Assert.Equal(5, new NpgsqlConnectionStringBuilder(settings.Target).Timeout);
    }

    [Fact]
    public void Parse_PostgresUri_BecomesKeywordsWithEscapesUndone()
    {
        var settings = DatabaseSettings.Parse("postgres://stratus:p%40ss%3Aword@db.example.org:6543/stratus_prod");

        Assert.Equal(DatabaseProvider.Postgres, settings.Provider);
        var builder = new NpgsqlConnectionStringBuilder(settings.Target);
        Assert.Equal("db.example.org", builder.Host);
        Assert.Equal(6543, builder.Port);
        Assert.Equal("stratus_prod", builder.Database);
        Assert.Equal("stratus", builder.Username);
        Assert.Equal("p@ss:word", builder.Password);
        Assert.Equal(5, builder.Timeout);
    }

    [Fact]
    public void Parse_PostgresqlUriWithoutPortOrPassword_UsesTheDefaultPort()
    {
        var settings = DatabaseSettings.Parse("postgresql://stratus@127.0.0.1/stratus");

        var builder = new NpgsqlConnectionStringBuilder(settings.Target);
        Assert.Equal("127.0.0.1", builder.Host);
        Assert.Equal(5432, builder.Port);
        Assert.Equal("stratus", builder.Username);
        Assert.Null(builder.Password);
    }

    [Fact]
    public void Parse_PostgresUriWithIpv6HostAndEscapedDatabase_GivesNpgsqlPlainValues()
    {
        var settings = DatabaseSettings.Parse("postgres://stratus@[::1]:5433/stratus%20test");

        var builder = new NpgsqlConnectionStringBuilder(settings.Target);
        Assert.Equal("::1", builder.Host);
        Assert.Equal(5433, builder.Port);
        Assert.Equal("stratus test", builder.Database);
    }

    [Fact]
    public void Parse_PostgresUriWithParameters_KeepsThem()
    {
        var settings = DatabaseSettings.Parse("postgres://stratus@db/stratus?sslmode=require&Timeout=12");

        var builder = new NpgsqlConnectionStringBuilder(settings.Target);
        Assert.Equal(SslMode.Require, builder.SslMode);
        Assert.Equal(12, builder.Timeout);
    }

    [Fact]
    public void Parse_PostgresUriWithUnknownParameter_ThrowsConfigurationExceptionNamingIt()
    {
        var error = Assert.Throws<ConfigurationException>(() => DatabaseSettings.Parse("postgres://stratus@db/stratus?frobnicate=yes"));

        Assert.Contains("'frobnicate'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not a connection string")]
    [InlineData("Flavour=vanilla")]
    [InlineData("Host=db;Port=notanumber")]
    public void Parse_Garbage_ThrowsConfigurationExceptionNamingBothForms(string value)
    {
        var error = Assert.Throws<ConfigurationException>(() => DatabaseSettings.Parse(value));

        Assert.Contains("neither sqlite:FOLDER nor a valid PostgreSQL connection string", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgres://")]
    [InlineData("postgres://user:pass@:5432/db")]
    public void Parse_MalformedUri_ThrowsConfigurationException(string value)
    {
        var error = Assert.Throws<ConfigurationException>(() => DatabaseSettings.Parse(value));

        Assert.Contains("--database", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Database=stratus;Username=stratus")]
    [InlineData("Host= ;Database=stratus")]
    public void Parse_MissingHost_ThrowsConfigurationExceptionWithAnExample(string value)
    {
        var error = Assert.Throws<ConfigurationException>(() => DatabaseSettings.Parse(value));

        Assert.Contains("has no Host", error.Message, StringComparison.Ordinal);
        Assert.Contains("Host=127.0.0.1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_Postgres_LeavesThePasswordOut()
    {
        var settings = DatabaseSettings.Parse("Host=db;Port=5433;Database=stratus;Username=stratus;Password=hunter2");

        var description = settings.Describe();

        Assert.Equal("PostgreSQL at db:5433/stratus", description);
        Assert.DoesNotContain("hunter2", description, StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_Sqlite_NamesTheFolder()
    {
        Assert.Equal("SQLite in /srv/db", DatabaseSettings.Parse("sqlite:/srv/db").Describe());
    }
}
