using static TorchSharp.torch;

namespace Ctr.MLNet.Torch;

/// <summary>
/// The pairwise term of a factorization machine: for field embeddings <c>v_1 … v_F</c> of one row, the sum over
/// field pairs <c>i &lt; j</c> of the dot products <c>⟨v_i, v_j⟩</c>, computed in O(F·dim) as
/// <c>½ Σ_d ((Σ_i v_id)² − Σ_i v_id²)</c>. It has no weights of its own.
/// </summary>
public sealed class FactorizationMachine : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    public FactorizationMachine()
        : base(nameof(FactorizationMachine))
    {
        RegisterComponents();
    }

    /// <summary>Maps stacked field embeddings [rows, fields, dim] to the pairwise interaction [rows].</summary>
    public override Tensor forward(Tensor fields)
    {
        using var scope = NewDisposeScope();
        Tensor squareOfSum = fields.sum(1).square();
        Tensor sumOfSquares = fields.square().sum(1);
        using TorchSharp.Scalar half = 0.5; // disposed after use, not by a finalizer that may run during the call (CtrBatch.MeanOf)
        Tensor pairwise = (squareOfSum - sumOfSquares).sum(1).mul(half);
        return pairwise.MoveToOuterDisposeScope();
    }
}
