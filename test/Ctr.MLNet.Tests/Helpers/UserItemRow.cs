namespace Ctr.MLNet.Tests.Helpers;

/// <summary>A click row with two ids and two numbers: the input of the hybrid and tree-scoring tests.</summary>
public sealed class UserItemRow
{
    public bool Label { get; set; }

    public string User { get; set; } = "";

    public string Item { get; set; } = "";

    public float X1 { get; set; }

    public float X2 { get; set; }
}
