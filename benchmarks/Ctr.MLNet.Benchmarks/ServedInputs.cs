using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json.Nodes;
using Ctr.MLNet.Sample.Models;
using Ctr.MLNet.Sample.Serving;
using Microsoft.ML;

namespace Ctr.MLNet.Benchmarks;

/// <summary>
/// What the serving benchmarks (serving-stages, serving-pool, tree-walk) start from: the model as <c>serve</c> loads
/// it, its chain as offline scoring loads it, a server's settings, and the first 1,000 rows of the data as request rows.
/// </summary>
internal sealed record ServedInputs(ServedModel Model, ITransformer Chain, ServeSettings Settings, List<Dictionary<string, JsonNode?>> Rows) : IDisposable
{
    public static ServedInputs Load(string modelPath, string dataPath)
    {
        if (!File.Exists(modelPath) || !File.Exists(dataPath))
            throw new ArgumentException($"'{modelPath}' or '{dataPath}' is missing: run benchmarks/serve-wrk.sh once, which makes both.");
        ServedModel model = ServedModel.Load("ctr", modelPath);
        return new ServedInputs(model, ModelFiles.Load(new MLContext(seed: 1), modelPath).Model,
            new ServeSettings([new ModelSource("ctr", modelPath)], "http://127.0.0.1:0"), ServingStagesBenchmark.ReadRows(dataPath, model, 1000));
    }

    public void Dispose() => Model.Dispose();
}
