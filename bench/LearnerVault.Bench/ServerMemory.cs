using System.Globalization;

namespace LearnerVault.Bench;

/// <summary>Resident memory of the server process, from /proc/PID/status (Linux).</summary>
public sealed record ServerMemory(double RssMiB, double PeakRssMiB)
{
    public static ServerMemory? Read(int pid)
    {
        var path = $"/proc/{pid}/status";
        if (!File.Exists(path))
        {
            return null;
        }

        double? rss = null;
        double? peak = null;
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = KiB(line);
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                peak = KiB(line);
            }
        }

        return rss is null || peak is null ? null : new ServerMemory(rss.Value / 1024, peak.Value / 1024);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"VmRSS {RssMiB:F1} MiB, VmHWM (peak) {PeakRssMiB:F1} MiB");

    // "VmRSS:	  183240 kB"
    private static double KiB(string line) =>
        double.Parse(line.Split(':', 2)[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
}
