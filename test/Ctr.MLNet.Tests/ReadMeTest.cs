using System;
using System.IO;
using System.Text.RegularExpressions;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests;

/// <summary>
/// Keeps README.md's examples honest. The "Quick example" is a whole Program.cs: <see cref="Packaging.PackagedConsumerTest"/>
/// compiles exactly that block against the packed packages and runs it.
/// </summary>
[TestClass]
public sealed class ReadMeTest
{
    /// <summary>The C# block of the README's "Quick example" section.</summary>
    public static string QuickExample(string readme)
    {
        Match section = Regex.Match(readme.Replace("\r", ""), "## Quick example\n(.*?)\n## ", RegexOptions.Singleline);
        Assert.IsTrue(section.Success, "README.md has no '## Quick example' section");
        Match code = Regex.Match(section.Groups[1].Value, "```csharp\n(.*?)```", RegexOptions.Singleline);
        Assert.IsTrue(code.Success, "README.md's Quick example has no csharp block");
        return code.Groups[1].Value;
    }

    [TestMethod]
    public void ReadMeTest_QuickExampleIsAWholeProgram()
    {
        string sut = QuickExample(File.ReadAllText(FindUp("README.md")));

        StringAssert.Contains(sut, "using Ctr.MLNet.Torch;");
        StringAssert.Contains(sut, "CreatePredictionEngine<Input, Prediction>");
        StringAssert.Contains(sut, "public sealed class Input");
    }

    public static string FindUp(string relative)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, relative);
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException($"{relative} not found above {AppContext.BaseDirectory}.");
    }
}
