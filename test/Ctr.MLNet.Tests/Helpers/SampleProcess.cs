using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Text;
using System.Threading;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Helpers;

/// <summary>
/// The sample CLI (Ctr.MLNet.Sample.dll, as users run it) in a child process, its output collected line by line,
/// so a test can wait for a line, kill the process (SIGKILL on Unix) and look at what it left behind.
/// </summary>
public sealed class SampleProcess : IDisposable
{
    /// <summary>Longest a child may run before the test calls it hung and fails: a guard, not a measurement.</summary>
    public static readonly TimeSpan HangTimeout = TimeSpan.FromMinutes(3);

    private readonly Process _process;
    private readonly BlockingCollection<string> _lines = [];
    private readonly StringBuilder _output = new();
    private int _open = 2;

    private SampleProcess(string[] args, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(ChildProcess.DotnetHost(), [typeof(Ctr.MLNet.Sample.Program).Assembly.Location, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Receive(e.Data, toLines: true);
        _process.ErrorDataReceived += (_, e) => Receive(e.Data, toLines: false);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public static SampleProcess Start(params string[] args) => new(args, environment: null);

    /// <summary>Runs the sample to its end and returns its exit code and output (standard output and error).</summary>
    public static (int ExitCode, string Output) Run(params string[] args) => RunWith(new Dictionary<string, string>(), args);

    /// <summary>As <see cref="Run"/>, with <paramref name="environment"/> added to the test's own variables.</summary>
    public static (int ExitCode, string Output) RunWith(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        using var run = new SampleProcess(args, environment);
        int code = run.WaitForExit();
        return (code, run.Output);
    }

    public int Id => _process.Id;

    /// <summary>Standard output and error so far, in arrival order.</summary>
    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    /// <summary>Waits for a line of standard output that <paramref name="match"/> accepts; false if the output ends first.</summary>
    public bool WaitForLine(Func<string, bool> match)
    {
        using var timeout = new CancellationTokenSource(HangTimeout);
        try
        {
            foreach (string line in _lines.GetConsumingEnumerable(timeout.Token))
            {
                if (match(line))
                    return true;
            }
        }
        catch (OperationCanceledException)
        {
            Kill();
            Assert.Fail($"no matching line within {HangTimeout}; output:\n{Output}");
        }
        return false;
    }

    /// <summary>SIGKILL on Unix, TerminateProcess on Windows: the process gets no chance to clean up.</summary>
    public void Kill() => _process.Kill();

    /// <summary>Waits for the process to end and returns its exit code; a process that hangs fails the test.</summary>
    public int WaitForExit()
    {
        if (!_process.WaitForExit(HangTimeout))
        {
            _process.Kill();
            Assert.Fail($"the sample did not end within {HangTimeout}; output:\n{Output}");
        }
        _process.WaitForExit(); // drains the redirected output
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
        _lines.Dispose();
    }

    private void Receive(string? line, bool toLines)
    {
        if (line is null)
        {
            if (Interlocked.Decrement(ref _open) == 0)
                _lines.CompleteAdding();
            return;
        }
        lock (_output)
            _output.AppendLine(line);
        if (toLines)
            _lines.Add(line);
    }
}
