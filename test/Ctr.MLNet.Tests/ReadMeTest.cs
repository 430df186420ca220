using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Ctr.MLNet.Sample;
using Ctr.MLNet.Sample.Commands;
using Ctr.MLNet.Sample.Serving;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests;

/// <summary>
/// Keeps README.md's examples honest. The "Quick example" is a whole Program.cs: <see cref="Packaging.PackagedConsumerTest"/>
/// compiles exactly that block against the packed packages and runs it. Every JSON spec loads and trains here, and every
/// curl body is posted to a server holding the model the README names.
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
        string readme = File.ReadAllText(FindUp("README.md")).Replace("\r", "");
        Assert.HasCount(1, Regex.Matches(readme, "```csharp\n"), "every C# block must run in a test; only the Quick example is compiled (PackagedConsumerTest)");
    }

    [TestMethod]
    public void ReadMeTest_EveryJsonSpecLoadsAndTrains()
    {
        string readme = File.ReadAllText(FindUp("README.md")).Replace("\r", "");
        string[] specs = [.. Regex.Matches(readme, "```json\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value)];
        Assert.IsNotEmpty(specs, "README.md shows a feature spec");
        using var directory = new TemporaryDirectory();
        foreach (string json in specs)
        {
            FeatureSpec sut = FeatureSpec.FromJson(json);

            var ml = new MLContext(seed: 1);
            IDataView train = sut.LoadCsv(ml, WriteCsvFor(sut, Path.Combine(directory.Path, "spec.csv"), rows: 600));
            using TransformerChain<TorchCtrTransformer> model = sut.BuildTrainingPipeline(ml, new TorchCtrTrainer.Options { Epochs = 1, BatchSize = 128, ValidationFraction = 0.2 }).Fit(train);
            Assert.IsFalse(double.IsNaN(model.LastTransformer.History[0].ValidAuc), json);
        }
    }

    [TestMethod]
    public async Task ReadMeTest_EveryCurlBodyGets200FromTheQuickstartModel()
    {
        string readme = File.ReadAllText(FindUp("README.md")).Replace("\r", "");
        string serving = Regex.Match(readme, "## Serving\n(.*?)\n## ", RegexOptions.Singleline).Groups[1].Value;
        StringAssert.Contains(serving, "serve --model ctr=out/quickstart/model.zip", "the test serves the model the README names");
        MatchCollection posts = Regex.Matches(serving, @"curl -s -X POST http://127\.0\.0\.1:5080(\S+) [^\n]*\\\n\s*-d '([^']*)'");
        Assert.HasCount(Regex.Matches(serving, "curl -s -X POST").Count, posts, "every POST example is understood by this test");
        Assert.IsNotEmpty(posts);
        using var directory = new TemporaryDirectory();
        string quickstart = Path.Combine(directory.Path, "quickstart");
        var log = new StringWriter();
        int code = Program.CreateRootCommand().Parse(["quickstart", "--rows", "2000", "--epochs", "1", "--out", quickstart]).Invoke(new InvocationConfiguration { Output = log, Error = log });
        Assert.AreEqual(0, code, log.ToString());

        ServeHandle server = await ServeCommand.StartAsync(new ServeSettings([new ModelSource("ctr", Path.Combine(quickstart, "model.zip"))], "http://127.0.0.1:0"), new StringWriter());
        try
        {
            using var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            Assert.AreEqual(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
            foreach (Match post in posts)
            {
                string path = post.Groups[1].Value, body = post.Groups[2].Value;
                using HttpResponseMessage response = await client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
                string answer = await response.Content.ReadAsStringAsync();

                Assert.AreEqual(HttpStatusCode.OK, response.StatusCode, $"{path} {body}: {answer}");
                using JsonDocument json = JsonDocument.Parse(answer);
                Assert.IsTrue(json.RootElement.GetProperty("probabilities").EnumerateArray().All(p => p.GetSingle() is > 0f and < 1f), answer);
            }
        }
        finally
        {
            await server.StopAsync();
        }
    }

    /// <summary>A CSV with every column <paramref name="spec"/> reads: ids, lists with weights, numbers, a learnable label.</summary>
    private static string WriteCsvFor(FeatureSpec spec, string path, int rows)
    {
        string[] weights = [.. spec.Features.Where(f => f.WeightCol is not null).Select(f => f.WeightCol!)];
        string[] header = [spec.Label, .. spec.Features.Select(f => f.Name), .. weights];
        var random = new Random(3);
        var csv = new StringBuilder(string.Join(',', header)).Append('\n');
        for (int row = 0; row < rows; row++)
        {
            int signal = random.Next(10);
            var fields = new System.Collections.Generic.List<string> { random.Next(10) < 2 + signal / 2 ? "1" : "0" };
            foreach (FeatureColumnSpec feature in spec.Features)
            {
                fields.Add(feature.IsNumeric ? (signal * 10 + random.NextDouble()).ToString("R", CultureInfo.InvariantCulture)
                    : feature.IsList ? string.Join(spec.ListSeparator, Enumerable.Range(0, 3).Select(i => $"v{(signal + i) % 12}"))
                    : $"v{signal}");
            }
            foreach (string _ in weights)
                fields.Add(string.Join(spec.ListSeparator, Enumerable.Range(0, 3).Select(i => (i + 1).ToString(CultureInfo.InvariantCulture))));
            csv.Append(string.Join(',', fields)).Append('\n');
        }
        File.WriteAllText(path, csv.ToString());
        return path;
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
