// Electron fuses of the packaged app: switches compiled into the Electron binary, flipped once at
// packaging time by scripts/fuses.ts (with @electron/fuses) and read back there to check they took.
// This is the one declaration of their values; test/electron/fuses.test.ts asserts each against the
// checklist (RELIABILITY.md S4) and flips a binary-shaped file with it. Every fuse of Electron 45's
// wire is set explicitly (strictlyRequireAllFuses), so a fuse added by a later Electron must be
// decided here before packaging works again.
//
// Names are @electron/fuses' FuseV1Options keys (kept as strings: this module has no dependency).

export const LETHE_FUSES = Object.freeze({
  /** ELECTRON_RUN_AS_NODE is ignored: the binary cannot be turned into a plain Node.js. Job workers run as Electron utility processes instead of child_process.fork (main/electron/utility-worker.ts). */
  RunAsNode: false,
  /** cookies on disk are encrypted with the OS keychain key */
  EnableCookieEncryption: true,
  /** NODE_OPTIONS / NODE_EXTRA_CA_CERTS from the environment are ignored */
  EnableNodeOptionsEnvironmentVariable: false,
  /** --inspect, --inspect-brk and friends on the command line are ignored */
  EnableNodeCliInspectArguments: false,
  /** the app.asar's header hash embedded at packaging is checked before it loads (macOS and Windows; a no-op elsewhere) */
  EnableEmbeddedAsarIntegrityValidation: true,
  /** the app loads only from app.asar, never from a loose app/ folder next to it */
  OnlyLoadAppFromAsar: true,
  /** one V8 snapshot for every process (the default) */
  LoadBrowserProcessSpecificV8Snapshot: false,
  /** file:// pages get no extra privileges: Lethe serves its pages from app:// */
  GrantFileProtocolExtraPrivileges: false,
  /** WebAssembly trap handlers stay on (Electron's default; faster bounds checks) */
  WasmTrapHandlers: true,
} as const);

export type LetheFuseName = keyof typeof LETHE_FUSES;

/** The @electron/fuses V1 config for LETHE_FUSES, given the library's FuseV1Options enum (name -> wire index). */
export function fuseConfig(fuseV1Options: Record<string, string | number>, version: string): Record<string, unknown> {
  const config: Record<string, unknown> = { version, strictlyRequireAllFuses: true, resetAdHocDarwinSignature: process.platform === 'darwin' };
  for (const [name, on] of Object.entries(LETHE_FUSES)) {
    const index = fuseV1Options[name];
    if (typeof index !== 'number') throw new Error(`@electron/fuses does not know the fuse ${name}; update scripts/fuses.ts and main/electron/fuses.ts together`);
    config[index] = on;
  }
  return config;
}
