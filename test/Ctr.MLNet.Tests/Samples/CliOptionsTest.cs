using System;
using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Linq;
using Ctr.MLNet.Sample;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Samples;

/// <summary>Every option of every verb goes through the real System.CommandLine parser at least once, with a value.</summary>
[TestClass]
public sealed class CliOptionsTest
{
    // One command line or more per verb; together they give every option (parsing only: no file is read).
    private static readonly string[][] CommandLines =
    [
        ["quickstart", "--rows", "2000", "--out", "out/q", "--seed", "3", "--epochs", "2", "--threads", "1"],
        ["generate", "--rows", "100", "--seed", "2", "--out", "out/g", "--day", "1", "--test-fraction", "0.3"],
        ["train", "--train", "t.csv", "--valid", "v.csv", "--model", "m.zip", "--spec", "s.json", "--print-spec", "--label", "y", "--list-separator", ";",
            "--model-type", "deepfm", "--trees", "20", "--networks", "2", "--tree-leaf-dim", "2", "--target-encoding", "off", "--embedding-l2", "300", "--history-attributes", "brand,category", "--epochs", "3", "--batch-size", "64", "--threads", "2", "--seed", "4", "--checkpoint-dir", "ck", "--resume",
            "--plot", "c.png", "--bad-rows", "skip"],
        ["train", "--train", "t.csv", "--valid", "v.csv", "--model", "m.zip", "--init-model", "y.zip", "--list-separator", "|"],
        ["train", "--train", "shards", "--valid", "v.parquet", "--model", "m.zip", "--stats", "merged.bin"],
        ["fit-stats", "--spec", "s.json", "--data", "shards/part-0.parquet", "--out", "s0.bin", "--bad-rows", "skip"],
        ["merge-stats", "s0.bin", "s1.bin", "--out", "merged.bin"],
        ["evaluate", "--model", "m.zip", "--data", "d.csv", "--group-column", "user_id", "--bad-rows", "error"],
        ["predict", "--model", "m.zip", "--data", "d.csv", "--out", "p.csv", "--bad-rows", "skip"],
        ["serve", "--model", "ctr=m.zip", "--model", "b=n.zip", "--urls", "http://127.0.0.1:5080", "--max-body-bytes", "4096", "--max-rows", "10",
            "--max-batch-rows", "64", "--max-batch-wait-ms", "0.5", "--scoring-threads", "2", "--reload-interval-ms", "500", "--request-log"],
        ["demo", "--rows", "500", "--out", "out/d", "--seed", "5"],
        ["import-amazon", "--reviews", "r.json", "--meta", "m.json", "--out", "a.csv", "--negatives", "2", "--max-history", "20", "--seed", "6"],
    ];

    [TestMethod]
    public void CliOptionsTest_EveryOptionOfEveryVerbParses()
    {
        RootCommand root = Program.CreateRootCommand();
        ParseResult[] parsed = [.. CommandLines.Select(args => root.Parse(args))];

        for (int i = 0; i < parsed.Length; i++)
            Assert.IsEmpty(parsed[i].Errors, $"{string.Join(' ', CommandLines[i])}: {string.Join("; ", parsed[i].Errors.Select(e => e.Message))}");
        var missing = new List<string>();
        foreach (Command verb in root.Subcommands)
        {
            foreach (Option option in verb.Options.Where(o => o is not HelpOption and not VersionOption))
            {
                if (!parsed.Any(p => p.CommandResult.Command == verb && p.GetResult(option) is OptionResult { Implicit: false }))
                    missing.Add($"{verb.Name} {option.Name}");
            }
        }
        Assert.IsEmpty(missing, $"options no command line above gives: {string.Join(", ", missing)}");
    }

    [TestMethod]
    public void CliOptionsTest_ListSeparatorTakesOneCharacter()
    {
        RootCommand root = Program.CreateRootCommand();
        Command train = root.Subcommands.Single(c => c.Name == "train");
        var option = (Option<char>)train.Options.Single(o => o.Name == "--list-separator");
        string[] required = ["train", "--train", "t.csv", "--valid", "v.csv", "--model", "m.zip"];

        Assert.AreEqual(';', root.Parse([.. required, "--list-separator", ";"]).GetValue(option));
        Assert.AreEqual('|', root.Parse(required).GetValue(option), "the default");
        ParseResult tooLong = root.Parse([.. required, "--list-separator", "||"]);
        Assert.AreEqual("--list-separator must be one character, got '||'.", tooLong.Errors.Single().Message);
    }

    [TestMethod]
    public void CliOptionsTest_BatchSizeIsAutomaticUnlessGiven()
    {
        RootCommand root = Program.CreateRootCommand();
        Command train = root.Subcommands.Single(c => c.Name == "train");
        var option = (Option<int?>)train.Options.Single(o => o.Name == "--batch-size");
        string[] required = ["train", "--train", "t.csv", "--valid", "v.csv", "--model", "m.zip"];

        Assert.IsNull(root.Parse(required).GetValue(option), "absent: the trainer's automatic size");
        Assert.AreEqual(256, root.Parse([.. required, "--batch-size", "256"]).GetValue(option));
        Assert.AreEqual("--batch-size must be between 2 and 262144, got 1.", root.Parse([.. required, "--batch-size", "1"]).Errors.Single().Message);
        // Not the trainer's "StreamingBlockRows (262144) must be at least BatchSize", after the pipeline was fitted.
        Assert.AreEqual("--batch-size must be between 2 and 262144, got 100000000.", root.Parse([.. required, "--batch-size", "100000000"]).Errors.Single().Message);
        // Not a CLR type name ('System.Nullable`1[System.Int32]'): what the option takes, and how to get the automatic size.
        Assert.AreEqual("--batch-size must be a whole number of rows, got 'auto'; leave it out for the automatic size.",
            root.Parse([.. required, "--batch-size", "auto"]).Errors.Single().Message);
        Assert.AreEqual("--batch-size must be a whole number of rows, got '2147483648'; leave it out for the automatic size.",
            root.Parse([.. required, "--batch-size", "2147483648"]).Errors.Single().Message);
    }

    [TestMethod]
    public void CliOptionsTest_ThreadsNamesWhatItTakes()
    {
        RootCommand root = Program.CreateRootCommand();
        string[][] verbs = [["train", "--train", "t.csv", "--valid", "v.csv", "--model", "m.zip"], ["quickstart", "--rows", "2000", "--out", "out/q"]];
        foreach (string[] required in verbs)
        {
            var option = (Option<int?>)root.Subcommands.Single(c => c.Name == required[0]).Options.Single(o => o.Name == "--threads");
            Assert.IsNull(root.Parse(required).GetValue(option), $"{required[0]}: absent, the trainer's default");
            Assert.AreEqual(2, root.Parse([.. required, "--threads", "2"]).GetValue(option));
            Assert.AreEqual("--threads must be between 1 and 256, got 0.", root.Parse([.. required, "--threads", "0"]).Errors.Single().Message);
            // libtorch would start them all: 100,000 started threads instead of training.
            Assert.AreEqual("--threads must be between 1 and 256, got 100000.", root.Parse([.. required, "--threads", "100000"]).Errors.Single().Message);
            Assert.AreEqual("--threads must be a whole number of threads, got 'abc'; leave it out for the default of 1.",
                root.Parse([.. required, "--threads", "abc"]).Errors.Single().Message, required[0]);
        }
    }

    [TestMethod]
    public void CliOptionsTest_NumbersReadTheInvariantCultureAndNameWhatTheyTake()
    {
        CultureInfo previous = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE"); // where "0.3" is 3 and "0,3" is 0.3
        try
        {
            RootCommand root = Program.CreateRootCommand();
            string[] generate = ["generate", "--rows", "100", "--out", "o"];
            var fraction = (Option<double>)root.Subcommands.Single(c => c.Name == "generate").Options.Single(o => o.Name == "--test-fraction");
            Assert.AreEqual(0.3, root.Parse([.. generate, "--test-fraction", "0.3"]).GetValue(fraction));
            Assert.AreEqual("--test-fraction must be a number such as 0.5, got '0,3'.", root.Parse([.. generate, "--test-fraction", "0,3"]).Errors.Single().Message);

            string[] train = ["train", "--train", "t.csv", "--valid", "v.csv", "--model", "m.zip"];
            Assert.AreEqual("--trees must be a whole number, got 'abc'.", root.Parse([.. train, "--trees", "abc"]).Errors.Single().Message);
            Assert.AreEqual("--tree-leaf-dim must be at least 0, got -1.", root.Parse([.. train, "--tree-leaf-dim", "-1"]).Errors.Single().Message, "a number still meets its check");
            var encoding = (Option<string>)root.Subcommands.Single(c => c.Name == "train").Options.Single(o => o.Name == "--target-encoding");
            Assert.AreEqual("off", root.Parse([.. train, "--target-encoding", "off"]).GetValue(encoding));
            Assert.AreEqual("on", root.Parse(train).GetValue(encoding), "on by default");
            Assert.AreEqual("--target-encoding must be on or off, got 'maybe'.", root.Parse([.. train, "--target-encoding", "maybe"]).Errors.Single().Message);
            string[] serve = ["serve", "--model", "m.zip"];
            Assert.AreEqual("--max-body-bytes must be a whole number, got '1e6'.", root.Parse([.. serve, "--max-body-bytes", "1e6"]).Errors.Single().Message);
            var wait = (Option<double>)root.Subcommands.Single(c => c.Name == "serve").Options.Single(o => o.Name == "--max-batch-wait-ms");
            Assert.AreEqual(0.25, root.Parse([.. serve, "--max-batch-wait-ms", "0.25"]).GetValue(wait));
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }
}
