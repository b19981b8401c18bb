// Typed errors of the dataset layer. Every importer failure is a DatasetImportError with a stable
// `code` and one plain sentence in `message` (shown to the user as is); nothing else escapes an importer.

export type DatasetErrorCode =
  | 'not_found' // the source file or folder does not exist
  | 'bad_magic' // the file is not of the announced format
  | 'bad_header' // header fields are malformed (ndims, dims, dtype, ...)
  | 'size_mismatch' // byte count differs from what the header claims
  | 'count_mismatch' // images and labels disagree on the number of examples
  | 'label_range' // a label is outside the allowed class range
  | 'too_large' // a limit (bytes, pixels, columns, field size, examples) was exceeded
  | 'bad_image' // an image could not be decoded or has the wrong extension
  | 'bad_encoding' // text is not valid UTF-8 or contains NUL bytes
  | 'bad_csv' // CSV structure errors (ragged rows, unclosed quotes, missing columns)
  | 'bad_value' // a value could not be parsed (non-numeric feature, NaN, ...)
  | 'bad_option' // an importer option is invalid
  | 'empty' // the source holds no examples
  | 'unsupported' // a valid but unsupported variant (dtype, ndims, ...)
  | 'cancelled'
  | 'no_space' // the workspace's disk is full (or would be): the import needs more than is free
  | 'io'; // the OS refused a read

export class DatasetImportError extends Error {
  constructor(
    public readonly code: DatasetErrorCode,
    message: string,
    public readonly file?: string,
  ) {
    super(message);
    this.name = 'DatasetImportError';
  }
  toJSON() {
    return { code: this.code, message: this.message, file: this.file };
  }
}

/** Turn any thrown value from fs/zlib/sharp into a DatasetImportError with a plain message. */
export function asImportError(err: unknown, file?: string): DatasetImportError {
  if (err instanceof DatasetImportError) return err;
  const e = err as NodeJS.ErrnoException;
  const where = file ? ` (${file})` : '';
  if (e && typeof e === 'object' && typeof e.code === 'string') {
    // a full disk is the workspace's, never the source's (importDataset names the workspace and the size)
    if (e.code === 'ENOSPC' || e.code === 'EDQUOT') return new DatasetImportError('no_space', 'The disk of the workspace is full.');
    if (e.code === 'ENOENT') return new DatasetImportError('not_found', `File or folder not found${where}.`, file);
    if (e.code === 'EISDIR') return new DatasetImportError('io', `Expected a file but found a folder${where}.`, file);
    if (e.code === 'ENOTDIR') return new DatasetImportError('io', `Expected a folder but found a file${where}.`, file);
    if (e.code === 'EACCES' || e.code === 'EPERM') return new DatasetImportError('io', `Permission denied${where}.`, file);
    if (e.code === 'ABORT_ERR') return new DatasetImportError('cancelled', 'The import was cancelled.', file);
    if (e.code.startsWith('Z_') || e.code === 'ERR_BUFFER_TOO_LARGE')
      return new DatasetImportError('bad_header', `Corrupt gzip data${where}: ${e.message}.`, file);
  }
  if (e && typeof e === 'object' && (e as Error).name === 'AbortError')
    return new DatasetImportError('cancelled', 'The import was cancelled.', file);
  const msg = e instanceof Error ? e.message : String(err);
  return new DatasetImportError('io', `Could not read the source${where}: ${msg}`, file);
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new DatasetImportError('cancelled', 'The import was cancelled.');
}
