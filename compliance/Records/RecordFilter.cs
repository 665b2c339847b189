using System.Numerics;

namespace Gateway.Compliance;

/// <summary>
/// "Did this key receive record R on day D?": a scalable Bloom filter of the record ids (hashes) one writer delivered
/// to one key on one UTC day. It starts small (1.4 KiB) and adds slices as it fills: 1,024 ids at 0.5 %, then 8,192 at
/// 0.25 %, then 65,536 at 0.125 %, so a key that receives few records costs little memory and the false-positive rate
/// stays under <b>1 % up to <see cref="Capacity"/> (74,752) records per key, day and writer</b>. Past that the last slice
/// keeps taking ids and its rate rises; <see cref="FalsePositiveRate"/> always reports the rate from the bits actually
/// set. "Contains" means probably received; "not contained" is certain. Not thread-safe: its day cell locks.
/// </summary>
public sealed class RecordFilter
{
    /// <summary>Records per key, day and writer up to which the stated rate holds.</summary>
    public const int Capacity = 1_024 + 8_192 + 65_536;

    /// <summary>The stated false-positive rate at <see cref="Capacity"/>: 0.5 % + 0.25 % + 0.125 %, under 1 %.</summary>
    public const double StatedFalsePositiveRate = 0.01;

    /// <summary>Each slice: how many ids it takes, its bits (a multiple of 64) and its number of hash functions.</summary>
    private static readonly (int Capacity, int Bits, int Hashes)[] Shapes = [(1_024, 11_328, 8), (8_192, 102_208, 9), (65_536, 911_872, 10)];

    private readonly List<ulong[]> _slices = [];
    private int _inLast;

    public RecordFilter()
    {
    }

    private RecordFilter(List<ulong[]> slices, int inLast)
    {
        _slices = slices;
        _inLast = inLast;
    }

    /// <summary>Ids added (an id already contained is not added again).</summary>
    public long Count { get; private set; }

    public IReadOnlyList<ulong[]> Slices => _slices;

    public void Add(ulong hash)
    {
        if (Contains(hash))
        {
            return;
        }

        if (_slices.Count == 0 || (_inLast >= Shapes[_slices.Count - 1].Capacity && _slices.Count < Shapes.Length))
        {
            _slices.Add(new ulong[Shapes[_slices.Count].Bits / 64]);
            _inLast = 0;
        }

        var slice = _slices[^1];
        var (_, bits, hashes) = Shapes[_slices.Count - 1];
        var (h1, h2) = Split(hash);
        for (var i = 0; i < hashes; i++)
        {
            var bit = (h1 + ((ulong)i * h2)) % (ulong)bits;
            slice[bit >> 6] |= 1UL << (int)(bit & 63);
        }

        _inLast++;
        Count++;
    }

    public bool Contains(ulong hash)
    {
        var (h1, h2) = Split(hash);
        for (var s = 0; s < _slices.Count; s++)
        {
            if (SliceContains(_slices[s], Shapes[s].Bits, Shapes[s].Hashes, h1, h2))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The chance that an id never added is reported contained, from the bits set: 1 − Π(1 − fillᵢ^kᵢ).</summary>
    public double FalsePositiveRate()
    {
        var none = 1.0;
        for (var s = 0; s < _slices.Count; s++)
        {
            long set = 0;
            foreach (var word in _slices[s])
            {
                set += BitOperations.PopCount(word);
            }

            none *= 1 - Math.Pow((double)set / Shapes[s].Bits, Shapes[s].Hashes);
        }

        return 1 - none;
    }

    public RecordFilter Copy() => new([.. _slices.Select(s => (ulong[])s.Clone())], _inLast) { Count = Count };

    /// <summary>A filter as stored: its slices' words and the count (the last slice's fill is recomputed from the count).</summary>
    public static RecordFilter? FromSlices(IReadOnlyList<ulong[]> slices, long count)
    {
        if (slices.Count > Shapes.Length || slices.Where((s, i) => s.Length != Shapes[i].Bits / 64).Any())
        {
            return null;
        }

        var before = Shapes.Take(Math.Max(0, slices.Count - 1)).Sum(s => (long)s.Capacity);
        return new RecordFilter([.. slices], (int)Math.Min(int.MaxValue, Math.Max(0, count - before))) { Count = count };
    }

    private static bool SliceContains(ulong[] slice, int bits, int hashes, ulong h1, ulong h2)
    {
        for (var i = 0; i < hashes; i++)
        {
            var bit = (h1 + ((ulong)i * h2)) % (ulong)bits;
            if ((slice[bit >> 6] & (1UL << (int)(bit & 63))) == 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Two hash values from one (Kirsch–Mitzenmacher double hashing); the second is odd and mixed apart from the first.</summary>
    private static (ulong H1, ulong H2) Split(ulong hash) => (hash, ((hash * 0x9E3779B97F4A7C15UL) ^ (hash >> 29)) | 1);
}
