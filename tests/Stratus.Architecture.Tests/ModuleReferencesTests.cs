using System.Reflection;
using System.Xml.Linq;

namespace Stratus.Architecture.Tests;

/// <summary>
/// The map of docs/architecture.md, checked on the compiled assemblies: a module depends only on
/// Stratus.Platform, so that each can be deployed, changed and reasoned about on its own. The compiler records
/// an assembly reference only for what the code uses, so a project reference that nothing uses passes, and a
/// single use of another module's type fails.
/// </summary>
public sealed class ModuleReferencesTests
{
    private const string Platform = "Stratus.Platform";

    /// <summary>
    /// The one assembly that may reference modules: the executable composes them all. The portal calls the
    /// services over HTTP and the host agent talks to compute over HTTP, so both are held to the rule.
    /// </summary>
    private const string Executable = "stratus";

    public static TheoryData<string> Modules()
    {
        var data = new TheoryData<string>();
        foreach (var name in SourceAssemblies().Where(n => n != Executable))
        {
            data.Add(name);
        }

        return data;
    }

    [Fact]
    public void EveryProjectOfSrcIsInspected()
    {
        // A module added to src/ without a reference from the executable would escape the check.
        var projects = Directory.EnumerateFiles(Path.Combine(RepositoryRoot(), "src"), "*.csproj", SearchOption.AllDirectories)
            .Select(AssemblyNameOf).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(projects, SourceAssemblies());
    }

    [Theory]
    [MemberData(nameof(Modules))]
    public void Module_ReferencesNoOtherModule(string module)
    {
        var stratusReferences = Assembly.Load(module).GetReferencedAssemblies()
            .Select(r => r.Name!)
            .Where(IsStratus)
            .ToList();
        var allowed = module == Platform ? [] : new[] { Platform };
        var forbidden = stratusReferences.Except(allowed).ToList();
        Assert.True(forbidden.Count == 0,
            $"{module} references {string.Join(", ", forbidden)}: modules depend only on {Platform}. Call the other service's public API "
            + "(ServiceCalls) or consume its events instead, and read shared configuration without its types.");
    }

    [Fact]
    public void TheCheckSeesAReference()
    {
        // The check above must be able to fail: the executable's own references are read the same way.
        var references = Assembly.Load(Executable).GetReferencedAssemblies().Select(r => r.Name!).Where(IsStratus).ToList();
        Assert.Contains("Stratus.Images", references);
        Assert.Contains(Platform, references);
    }

    private static bool IsStratus(string name) => name == Executable || name.StartsWith("Stratus.", StringComparison.Ordinal);

    /// <summary>The assemblies built from src/: every Stratus assembly beside the tests except the tests' own.</summary>
    private static List<string> SourceAssemblies() =>
        Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll")
            .Select(Path.GetFileNameWithoutExtension).OfType<string>()
            .Where(IsStratus)
            .Where(n => !n.EndsWith(".Tests", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>The project's AssemblyName when it sets one (the executable's is "stratus"), else its file name.</summary>
    private static string AssemblyNameOf(string project)
    {
        var name = XDocument.Load(project).Descendants("AssemblyName").Select(e => e.Value.Trim()).FirstOrDefault();
        return string.IsNullOrEmpty(name) ? Path.GetFileNameWithoutExtension(project) : name;
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Stratus.slnx")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No Stratus.slnx above {AppContext.BaseDirectory}.");
    }
}
