using System.Numerics;

namespace Gateway.Compliance;

/// <summary>
/// Distinct records, estimated: a HyperLogLog sketch of 2^12 one-byte registers (4 KiB), relative standard error
/// 1.04/√4096 ≈ 1.6 % (linear counting below 2.5 × 4096, where it is far closer). Fed the 64-bit hashes of record ids;
/// two sketches merge by taking each register's maximum, so writers' and hours' sketches unite without double
/// counting. Not thread-safe: the evidence cell that holds it locks.
/// </summary>
public sealed class RecordSketch
{
    public const int Precision = 12;
    public const int Registers = 1 << Precision;

    /// <summary>The sketch's relative standard error, as stated to users.</summary>
    public const double StandardError = 1.04 / 64; // 1.04 / sqrt(4096)

    private readonly byte[] _registers;

    public RecordSketch() => _registers = new byte[Registers];

    private RecordSketch(byte[] registers) => _registers = registers;

    public void Add(ulong hash)
    {
        var index = (int)(hash >> (64 - Precision));
        // Rank of the remaining bits: leading zeros + 1 (a guard bit bounds it at 64 - Precision + 1).
        var rank = (byte)(BitOperations.LeadingZeroCount((hash << Precision) | (1UL << (Precision - 1))) + 1);
        if (rank > _registers[index])
        {
            _registers[index] = rank;
        }
    }

    /// <summary>The estimated number of distinct ids added.</summary>
    public long Estimate()
    {
        const double m = Registers;
        double sum = 0;
        var zeros = 0;
        foreach (var r in _registers)
        {
            sum += 1.0 / (1UL << r);
            if (r == 0)
            {
                zeros++;
            }
        }

        var estimate = 0.7213 / (1 + (1.079 / m)) * m * m / sum;
        if (estimate <= 2.5 * m && zeros > 0)
        {
            estimate = m * Math.Log(m / zeros);
        }

        return (long)Math.Round(estimate);
    }

    /// <summary>Takes in <paramref name="other"/>'s ids (the union of both).</summary>
    public void Merge(RecordSketch other)
    {
        for (var i = 0; i < Registers; i++)
        {
            if (other._registers[i] > _registers[i])
            {
                _registers[i] = other._registers[i];
            }
        }
    }

    public RecordSketch Copy() => new((byte[])_registers.Clone());

    /// <summary>The registers, as the evidence row stores them (4 KiB).</summary>
    public byte[] ToBytes() => (byte[])_registers.Clone();

    public static RecordSketch? FromBytes(byte[]? bytes) => bytes is { Length: Registers } ? new RecordSketch((byte[])bytes.Clone()) : null;
}
