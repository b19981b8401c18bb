// Finding a TTF with Greek letters (DejaVu Sans) the way it is found on a user's machine: an explicit
// path (LETHE_REPORT_FONT_DIR), the common font folders of Linux, macOS and Windows, then fc-match.
// Without one the report falls back to pdfkit's built-in Helvetica and spells Greek letters out.

import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface ReportFonts {
  regular: string | null;
  bold: string | null;
  mono: string | null;
}

const FILES = { regular: 'DejaVuSans.ttf', bold: 'DejaVuSans-Bold.ttf', mono: 'DejaVuSansMono.ttf' };

export function fontDirs(): string[] {
  const home = homedir();
  const dirs = [
    process.env.LETHE_REPORT_FONT_DIR,
    '/usr/share/fonts/truetype/dejavu',
    '/usr/share/fonts/TTF',
    '/usr/share/fonts/dejavu',
    '/usr/share/fonts/dejavu-sans-fonts',
    '/usr/share/fonts/truetype',
    '/usr/local/share/fonts',
    join(home, '.fonts'),
    join(home, '.local/share/fonts'),
    '/Library/Fonts',
    join(home, 'Library/Fonts'),
    process.env.WINDIR ? join(process.env.WINDIR, 'Fonts') : undefined,
    process.env.LOCALAPPDATA ? join(process.env.LOCALAPPDATA, 'Microsoft/Windows/Fonts') : undefined,
  ];
  return dirs.filter((d): d is string => !!d);
}

function fcMatch(pattern: string): string | null {
  try {
    const r = spawnSync('fc-match', ['-f', '%{file}', pattern], { encoding: 'utf8', timeout: 5000 });
    const f = r.status === 0 ? r.stdout.trim() : '';
    return f && /dejavu/i.test(f) && /\.ttf$/i.test(f) && existsSync(f) ? f : null;
  } catch {
    return null;
  }
}

/** The DejaVu Sans files (regular, bold, mono) found on this machine; null where none. `disable` finds none (to test the fallback). */
export function findReportFonts(opts: { disable?: boolean } = {}): ReportFonts {
  if (opts.disable) return { regular: null, bold: null, mono: null };
  const find = (file: string): string | null => {
    for (const d of fontDirs()) if (existsSync(join(d, file))) return join(d, file);
    return null;
  };
  let regular = find(FILES.regular);
  if (!regular) regular = fcMatch('DejaVu Sans:style=Book');
  const near = (file: string) => (regular && existsSync(join(dirname(regular), file)) ? join(dirname(regular), file) : null);
  return {
    regular,
    bold: regular ? (near(FILES.bold) ?? find(FILES.bold) ?? fcMatch('DejaVu Sans:style=Bold')) : null,
    mono: regular ? (near(FILES.mono) ?? find(FILES.mono) ?? fcMatch('DejaVu Sans Mono')) : null,
  };
}

const SPELLED: Record<string, string> = {
  'ε': 'epsilon', 'δ': 'delta', 'θ': 'theta', 'φ': 'phi', 'Σ': 'Sum', 'Π': 'Prod', 'σ': 'sigma', 'μ': 'mu', 'λ': 'lambda', 'α': 'alpha', 'β': 'beta', 'γ': 'gamma',
  'ŷ': 'y^', '‖': '||', '≤': '<=', '≥': '>=', '−': '-', '×': 'x', '∈': 'in', '≈': '~', '≠': '!=', '⌊': 'floor(', '⌋': ')', '⌈': 'ceil(', '⌉': ')', 'ᵀ': '^T', '²': '^2',
  '→': '->', '…': '...', '√': 'sqrt', '∞': 'inf', '±': '+/-', '½': '1/2', '’': "'", '‘': "'", '“': '"', '”': '"', '–': '-', '—': '-', '·': '.',
};

/** For the built-in Helvetica (WinAnsi only): Greek letters and math signs spelled out; anything else outside Latin-1 becomes '?'. */
export function spellOut(text: string): string {
  let out = '';
  for (const ch of text) out += SPELLED[ch] ?? (ch.codePointAt(0)! > 0xff ? '?' : ch);
  return out;
}
