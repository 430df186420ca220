using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Transforms;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests;

[TestClass]
public sealed class AtomicFileTest
{
    [TestMethod]
    public void AtomicFileTest_AFailedWriteKeepsTheOldFileAndLeavesNoTemporaryFile()
    {
        using var directory = new TemporaryDirectory();
        string path = Path.Combine(directory.Path, "model.zip");
        AtomicFile.Write(path, stream => stream.Write("old"u8));

        Assert.ThrowsExactly<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write("half of the n"u8);
            throw new InvalidOperationException("disk full");
        }));
        AtomicFile.Write(Path.Combine(directory.Path, "sub", "new.bin"), stream => stream.Write("new"u8));

        Assert.AreEqual("old", File.ReadAllText(path));
        Assert.AreEqual("new", File.ReadAllText(Path.Combine(directory.Path, "sub", "new.bin")), "a missing directory is created");
        CollectionAssert.AreEquivalent(new[] { "model.zip", "sub" }, Directory.EnumerateFileSystemEntries(directory.Path).Select(Path.GetFileName).ToArray());
    }

    [TestMethod]
    public void AtomicFileTest_APendingFileTakesItsPathOnlyWhenCommitted()
    {
        using var directory = new TemporaryDirectory();
        string path = Path.Combine(directory.Path, "train.csv");
        File.WriteAllText(path, "old");

        using (AtomicFile.Pending abandoned = AtomicFile.Begin(path))
            abandoned.Stream.Write("half of the n"u8);
        string whileWriting;
        using (AtomicFile.Pending file = AtomicFile.Begin(path))
        {
            file.Stream.Write("new"u8);
            whileWriting = File.ReadAllText(path);
            file.Commit();
        }

        Assert.AreEqual("old", whileWriting, "the path keeps the old file until the commit");
        Assert.AreEqual("new", File.ReadAllText(path));
        CollectionAssert.AreEqual(new[] { "train.csv" }, Directory.EnumerateFileSystemEntries(directory.Path).Select(Path.GetFileName).ToArray(), "no temporary file is left");
    }

    [TestMethod]
    public void AtomicFileTest_TemporaryFilesOfKilledWritersAreRemovedThoseOfRunningOnesKept()
    {
        using var directory = new TemporaryDirectory();
        string path = Path.Combine(directory.Path, "checkpoint.ctr");
        using var exited = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        exited.WaitForExit();
        string abandoned = AtomicFile.TemporaryPath(path, exited.Id);
        string running = AtomicFile.TemporaryPath(path, 1); // init: always running
        string otherFile = AtomicFile.TemporaryPath(Path.Combine(directory.Path, "other.ctr"), exited.Id);
        foreach (string file in new[] { abandoned, running, otherFile })
            File.WriteAllText(file, "partial");

        AtomicFile.Write(path, stream => stream.Write("whole"u8));

        Assert.IsFalse(File.Exists(abandoned), "the temporary file of a writer that is gone");
        Assert.IsTrue(File.Exists(running), "a writer that still runs keeps its temporary file");
        Assert.IsTrue(File.Exists(otherFile), "temporary files of other paths are left alone");
        Assert.AreEqual("whole", File.ReadAllText(path));
    }
}
