// What a path that is not a regular file really is, in words: so /dev/zero is called a device (not
// "a folder", not "empty") and a FIFO a named pipe, wherever a file was expected.

import type { Stats } from 'node:fs';

/** 'a folder', 'a device', 'a named pipe (FIFO)', 'a socket', or null for a regular file. */
export function specialFileKind(st: Stats): string | null {
  if (st.isFile()) return null;
  if (st.isDirectory()) return 'a folder';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}
