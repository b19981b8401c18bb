// Offers bytes the backend handed over (base64) as a file to save: an object URL on a download link.
// The browser build saves it to the downloads folder (or asks, per the browser's setting); the desktop
// app shows its save dialog for every download. Works the same over either transport: the bytes came
// through the one API contract.

export function base64Bytes(base64: string): Uint8Array {
  const bin = atob(base64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function saveBytes(name: string, mime: string, bytes: Uint8Array): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  // the download has started from the URL by now; a minute leaves slow dialogs time
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
