// The system's open dialog for 'app.pickPath' (Electron glue: the backend stays Electron-free and gets
// this function injected). A pure adapter over Electron's `dialog.showOpenDialog`, unit-tested with a
// fake dialog.

import type { PickPathArgs } from '../../preload/api/app';

/** The slice of Electron's dialog module used here. */
export interface OpenDialogPort<W> {
  showOpenDialog(
    window: W,
    options: { title?: string; properties: ('openFile' | 'openDirectory' | 'dontAddToRecent')[]; filters?: { name: string; extensions: string[] }[] },
  ): Promise<{ canceled: boolean; filePaths: string[] }>;
}

export function makePickPath<W>(dialog: OpenDialogPort<W>, parentWindow: () => W | null): (args: PickPathArgs) => Promise<string[]> {
  return async (args) => {
    const win = parentWindow();
    if (!win) return [];
    const r = await dialog.showOpenDialog(win, {
      title: args.title ?? (args.mode === 'folder' ? 'Choose a folder' : 'Choose a file'),
      properties: [args.mode === 'folder' ? 'openDirectory' : 'openFile', 'dontAddToRecent'],
      ...(args.mode === 'file' && args.filters?.length ? { filters: [...args.filters, { name: 'All files', extensions: ['*'] }] } : {}),
    });
    return r.canceled ? [] : r.filePaths.slice(0, 1);
  };
}
