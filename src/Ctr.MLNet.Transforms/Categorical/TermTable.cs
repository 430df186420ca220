using System;
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Ctr.MLNet.Transforms.Categorical;

/// <summary>
/// Read-only map from distinct terms to their positions in a list, built once per fitted vocabulary for the
/// lookup of every value it maps. Open addressing with linear probing over a power-of-two table at most half full;
/// a slot holds the term's hash, position, and where its chars sit in one array of all terms' chars. A hit usually
/// touches one slot and one run of chars, where a <c>Dictionary&lt;string, int&gt;</c> touches a bucket, an entry and a
/// string object behind interface calls to its comparer; the stored hash skips the compare of nearly every other term.
/// </summary>
/// <remarks>
/// The hash is fixed, not randomized per process. Randomized hashing defends a table that its attacker fills; this
/// one is filled once from the training data and never from requests. A request only probes it, and the probe runs
/// it can hit are the ones the training terms made.
/// </remarks>
internal sealed class TermTable
{
    private readonly Slot[] _slots;
    private readonly int _mask;
    private readonly char[] _chars;

    /// <param name="terms">Distinct terms; term <c>i</c> is found at position <c>i</c>.</param>
    public TermTable(ImmutableArray<string> terms)
    {
        int charCount = 0;
        foreach (string term in terms)
            charCount = checked(charCount + term.Length);
        _chars = new char[charCount];
        int capacity = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(2, 2 * terms.Length));
        _slots = new Slot[capacity];
        _mask = capacity - 1;

        int start = 0;
        for (int position = 0; position < terms.Length; position++)
        {
            string term = terms[position];
            uint hash = Hash(term);
            int i = (int)hash & _mask;
            for (; _slots[i].Term != 0; i = (i + 1) & _mask)
            {
                if (Matches(_slots[i], hash, term))
                    throw new ArgumentException($"Term '{term}' is listed twice (positions {_slots[i].Term - 1} and {position}); a vocabulary's terms must be distinct.", nameof(terms));
            }
            term.CopyTo(_chars.AsSpan(start));
            _slots[i] = new Slot(hash, position + 1, start, term.Length);
            start += term.Length;
        }
    }

    /// <summary>Position of <paramref name="term"/>, or -1 when it is not in the table.</summary>
    public int IndexOf(ReadOnlySpan<char> term)
    {
        uint hash = Hash(term);
        Slot[] slots = _slots;
        for (int i = (int)hash & _mask; ; i = (i + 1) & _mask)
        {
            ref readonly Slot slot = ref slots[i];
            if (slot.Term == 0)
                return -1;
            if (Matches(slot, hash, term))
                return slot.Term - 1;
        }
    }

    private bool Matches(in Slot slot, uint hash, ReadOnlySpan<char> term) =>
        slot.Hash == hash && slot.Length == term.Length && _chars.AsSpan(slot.Start, slot.Length).SequenceEqual(term);

    /// <summary>
    /// 64-bit multiply-rotate over 8-byte blocks of the chars, then MurmurHash3's 64-bit finalizer, folded to 32 bits.
    /// Internal for tests that need two terms with one hash.
    /// </summary>
    internal static uint Hash(ReadOnlySpan<char> term)
    {
        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(term);
        ulong h = (ulong)bytes.Length * 0x9E3779B97F4A7C15;
        for (; bytes.Length >= 8; bytes = bytes[8..])
            h = Step(h, BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        ulong tail = bytes.Length switch
        {
            2 => BinaryPrimitives.ReadUInt16LittleEndian(bytes),
            4 => BinaryPrimitives.ReadUInt32LittleEndian(bytes),
            6 => BinaryPrimitives.ReadUInt32LittleEndian(bytes) | ((ulong)BinaryPrimitives.ReadUInt16LittleEndian(bytes[4..]) << 32),
            _ => 0,
        };
        h = Step(h, tail);
        h = (h ^ (h >> 33)) * 0xFF51AFD7ED558CCD;
        h = (h ^ (h >> 33)) * 0xC4CEB9FE1A85EC53;
        h ^= h >> 33;
        return (uint)h ^ (uint)(h >> 32);
    }

    private static ulong Step(ulong h, ulong block) => BitOperations.RotateLeft((h ^ block) * 0x87C37B91114253D5, 31);

    /// <param name="Hash">The term's <see cref="Hash"/>.</param>
    /// <param name="Term">Position of the term + 1; 0 marks an empty slot.</param>
    /// <param name="Start">Where the term's chars begin in <see cref="_chars"/>.</param>
    /// <param name="Length">Number of chars of the term.</param>
    private readonly record struct Slot(uint Hash, int Term, int Start, int Length);
}
