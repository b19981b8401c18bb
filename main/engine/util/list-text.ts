// Lists inside one-line messages: never the whole list (an archive can hold 100,000 entries, a CSV
// a million columns), only the first few and how many more, so every message stays one short line.

/** The first `max` items joined with ', ', then ' and N more' when there are more (N with thousands separators). */
export function listText(items: readonly string[], max = 10, sep = ', '): string {
  if (items.length === 0) return 'none';
  const shown = items.slice(0, max).join(sep);
  const more = items.length - Math.min(items.length, max);
  return more > 0 ? `${shown} and ${more.toLocaleString('en-US')} more` : shown;
}

/** A string cut to `max` characters with '…' (a value quoted inside a message). */
export function clip(s: string, max = 60): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
