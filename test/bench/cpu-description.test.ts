// The benchmark names the CPU it ran on (issue 10: model and vector extensions); VMs often report a bare
// "AMD EPYC", so the family/model numbers are decoded to a microarchitecture.
import { describe, expect, it } from 'vitest';
import { cpuDescription, microarchitecture } from '../../bench/torch';

describe('CPU description of the benchmark', () => {
  it('decodes the server microarchitectures it is likely to meet', () => {
    expect(microarchitecture('AuthenticAMD', 25, 17)).toBe('Zen 4'); // this machine kind (Genoa)
    expect(microarchitecture('AuthenticAMD', 25, 1)).toBe('Zen 3'); // Milan
    expect(microarchitecture('AuthenticAMD', 25, 0xa0)).toBe('Zen 4'); // Bergamo
    expect(microarchitecture('AuthenticAMD', 23, 49)).toBe('Zen 2'); // Rome
    expect(microarchitecture('AuthenticAMD', 26, 2)).toBe('Zen 5');
    expect(microarchitecture('GenuineIntel', 6, 143)).toBe('Sapphire Rapids');
    expect(microarchitecture('GenuineIntel', 6, 207)).toBe('Emerald Rapids');
    expect(microarchitecture('GenuineIntel', 6, 85)).toBe('Skylake-SP / Cascade Lake');
    expect(microarchitecture('GenuineIntel', 6, 1)).toBeNull();
    expect(microarchitecture('CentaurHauls', 6, 15)).toBeNull();
  });
  it('names the model, the core count and the vector extensions', () => {
    const d = cpuDescription();
    expect(d).toMatch(/, \d+ cores \(/);
    expect(d).toMatch(/\((?:[a-z0-9_]+(?: [a-z0-9_]+)*|no AVX2\/AVX-512\/AMX|vector extensions unknown)\)$/);
  });
});
