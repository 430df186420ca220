using System;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Helpers;

public static class Errors
{
    /// <summary>
    /// Runs <paramref name="action"/> and returns the <typeparamref name="T"/> it threw, looking through the
    /// wrappers ML.NET's parallel cursors put around an exception raised on a worker thread.
    /// </summary>
    public static T Find<T>(Action action) where T : Exception
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            // The innermost match: the wrapper can be of the same type as the error it wraps.
            T? found = null;
            for (Exception? inner = e; inner is not null; inner = inner.InnerException)
            {
                if (inner.GetType() == typeof(T))
                    found = (T)inner;
            }
            if (found is not null)
                return found;
            Assert.Fail($"Expected {typeof(T).Name}, got {e}");
        }
        Assert.Fail($"Expected {typeof(T).Name}, nothing was thrown.");
        return null!;
    }
}
