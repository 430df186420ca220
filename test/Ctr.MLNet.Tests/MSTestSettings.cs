using Microsoft.VisualStudio.TestTools.UnitTesting;

// Tests are independent, but libtorch and ML.NET both use every core already; running classes side by side
// on a 2-core machine only adds noise.
[assembly: DoNotParallelize]
