// The one source of seeds for property tests (fast-check). Every property test runs from a FIXED seed,
// so CI is repeatable, prints it, and takes another from the environment to explore or to replay a
// failure:   LETHE_PROPERTY_SEED=<32-bit integer> npx vitest run <file>
// (LETHE_FC_SEED, the older name, is still read.) LETHE_PROPERTY_RUNS=<n> scales the number of runs.

/** The seed every property test uses unless LETHE_PROPERTY_SEED says otherwise. */
export const DEFAULT_PROPERTY_SEED = 20261124;

function envInteger(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const v = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(v) || v < -0x80000000 || v > 0xffffffff) {
    throw new Error(`${name} must be a 32-bit integer, got '${raw}'.`);
  }
  return v | 0;
}

/** The seed of property test `name`: fixed, printed, overridable by LETHE_PROPERTY_SEED. */
export function propertySeed(name: string): number {
  const override = envInteger('LETHE_PROPERTY_SEED') ?? envInteger('LETHE_FC_SEED');
  const seed = override ?? DEFAULT_PROPERTY_SEED;
  console.log(`[${name}] fast-check seed ${seed}${override === undefined ? ' (fixed)' : ' (from the environment)'}; replay or vary with LETHE_PROPERTY_SEED=<n>`);
  return seed;
}

/** fast-check parameters: the seed of `name` and `numRuns` (times LETHE_PROPERTY_RUNS / default, if set). */
export function propertyParams(name: string, numRuns: number): { seed: number; numRuns: number } {
  const runs = envInteger('LETHE_PROPERTY_RUNS');
  return { seed: propertySeed(name), numRuns: runs !== undefined && runs > 0 ? runs : numRuns };
}
