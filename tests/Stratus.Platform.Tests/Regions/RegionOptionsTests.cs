using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Stratus.Platform.Regions;

namespace Stratus.Platform.Tests.Regions;

/// <summary>Stratus:Region as an operator writes it: one environment variable or indexed entries, mistakes reported at once.</summary>
public sealed class RegionOptionsTests
{
    [Fact]
    public void Options_CommaSeparatedValue_IsEveryFrontDoor()
    {
        var options = Bind(new() { ["Stratus:Region:Name"] = "B", ["Stratus:Region:FrontDoorUrls"] = "http://127.0.0.1:7001, https://frontdoor.example:7002" });

        Assert.True(options.IsConfigured);
        Assert.Equal([new Uri("http://127.0.0.1:7001"), new Uri("https://frontdoor.example:7002")], options.FrontDoors());
    }

    [Fact]
    public void Options_IndexedEntries_AreEveryFrontDoor()
    {
        var options = Bind(new() { ["Stratus:Region:Name"] = "B", ["Stratus:Region:FrontDoorUrls:0"] = "http://a:1", ["Stratus:Region:FrontDoorUrls:1"] = "http://b:2" });

        Assert.Equal([new Uri("http://a:1"), new Uri("http://b:2")], options.FrontDoors());
    }

    [Fact]
    public void Options_NothingSet_IsASingleRegion()
    {
        var options = Bind([]);

        Assert.False(options.IsConfigured);
        Assert.Empty(options.FrontDoors());
    }

    [Fact]
    public void Options_Mistakes_AreEachNamedAtStart()
    {
        var noName = Assert.Throws<OptionsValidationException>(() => Bind(new() { ["Stratus:Region:FrontDoorUrls"] = "ftp://frontdoor,not a url", ["Stratus:Region:RetryInterval"] = "00:00:00" }));
        Assert.Contains(noName.Failures, f => f.Contains("Stratus:Region:Name is required", StringComparison.Ordinal));
        Assert.Contains(noName.Failures, f => f.Contains("'ftp://frontdoor' is not an absolute http or https URL", StringComparison.Ordinal));
        Assert.Contains(noName.Failures, f => f.Contains("'not a url' is not an absolute http or https URL", StringComparison.Ordinal));
        Assert.Contains(noName.Failures, f => f.Contains("Stratus:Region:RetryInterval must be positive", StringComparison.Ordinal));

        var noFrontDoor = Assert.Throws<OptionsValidationException>(() => Bind(new() { ["Stratus:Region:Name"] = "A" }));
        Assert.Equal(["Stratus:Region:FrontDoorUrls is required when Stratus:Region:Name is set: the front door's URLs, comma-separated."], noFrontDoor.Failures);
    }

    private static RegionOptions Bind(Dictionary<string, string?> values)
    {
        var services = new ServiceCollection();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddStratusRegion(configuration);
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<RegionOptions>>().Value;
    }
}
