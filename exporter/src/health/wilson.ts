/**
 * The Wilson score interval of a share: `successes` of `n` trials at `z` (1.96 for 95 %). Unlike
 * the plain share it stays wide on small samples, so 1 failure in 3 requests is no evidence of a
 * 1 % failure rate, while 10 in 200 is. Wilson (1927); used for the health score's small samples.
 */
export function wilsonInterval(successes: number, n: number, z: number): { low: number; high: number } {
  if (n <= 0) return { low: 0, high: 1 };
  const p = successes / n;
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const margin = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  const denominator = 1 + z2 / n;
  return { low: Math.max(0, (centre - margin) / denominator), high: Math.min(1, (centre + margin) / denominator) };
}
