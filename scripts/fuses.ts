// Packaging step: flip the Electron fuses of a packaged Lethe to main/electron/fuses.ts's values and
// read them back. Run it on the packaged Electron binary (Linux/Windows: the executable; macOS: the
// .app bundle) after packaging and before signing:
//   npm run fuses -- <path to the packaged binary or .app>
// Exit code 0 and one line per fuse when every fuse reads back as declared; 1 with the reason otherwise.
// (An Electron packager's afterPack hook can call applyLetheFuses() the same way.)

import { FuseState, FuseV1Options, FuseVersion, flipFuses, getCurrentFuseWire } from '@electron/fuses';
import { pathToFileURL } from 'node:url';
import { LETHE_FUSES, fuseConfig, type LetheFuseName } from '../main/electron/fuses';

const STATE_NAMES: Record<number, string> = { [FuseState.ENABLE]: 'on', [FuseState.DISABLE]: 'off', [FuseState.REMOVED]: 'removed', [FuseState.INHERIT]: 'inherited' };

/** The fuses of `binary` as read from its fuse wire: true (on), false (off) or the raw state's name. */
export async function readLetheFuses(binary: string): Promise<Record<LetheFuseName, boolean | string>> {
  const wire = (await getCurrentFuseWire(binary)) as unknown as Record<number, number>;
  const out = {} as Record<LetheFuseName, boolean | string>;
  for (const name of Object.keys(LETHE_FUSES) as LetheFuseName[]) {
    const state = wire[FuseV1Options[name]];
    out[name] = state === FuseState.ENABLE ? true : state === FuseState.DISABLE ? false : (STATE_NAMES[state] ?? 'absent');
  }
  return out;
}

/** Flip every fuse to its declared value, then check each one reads back as declared. */
export async function applyLetheFuses(binary: string): Promise<Record<LetheFuseName, boolean>> {
  await flipFuses(binary, fuseConfig(FuseV1Options as unknown as Record<string, number>, FuseVersion.V1) as unknown as Parameters<typeof flipFuses>[1]);
  const got = await readLetheFuses(binary);
  const wrong = (Object.keys(LETHE_FUSES) as LetheFuseName[]).filter((n) => got[n] !== LETHE_FUSES[n]);
  if (wrong.length) throw new Error(`fuses not as declared after flipping: ${wrong.map((n) => `${n} is ${String(got[n])}, expected ${LETHE_FUSES[n] ? 'on' : 'off'}`).join('; ')}`);
  return got as Record<LetheFuseName, boolean>;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const binary = process.argv[2];
  if (!binary) {
    console.error('usage: npm run fuses -- <path to the packaged Electron binary or .app>');
    process.exit(2);
  }
  applyLetheFuses(binary).then(
    (fuses) => {
      for (const [n, on] of Object.entries(fuses)) console.log(`${n.padEnd(40)} ${on ? 'on' : 'off'}`);
    },
    (e: unknown) => {
      console.error(`lethe fuses: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
