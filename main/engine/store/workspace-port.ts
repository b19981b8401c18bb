// The workspace port: the storage interface the engine reads and writes through. Implemented by the
// backend with plain files and atomic writes (main/backend/workspace/fs-store.ts);
// main/backend/workspace/types.ts re-exports these names. The engine depends only on this file,
// never on the backend. Kept behind this interface so it runs unchanged under Node 20 and inside Electron.

/** Record kinds, one folder each under records/ (created at open; 'comparisons' and 'sweeps' hold unlearning comparisons and sweeps). */
import type { TypedRef } from '../runs/contract-types';

export type { TypedRef };

export const RECORD_KINDS = ['datasets', 'models', 'forgetSets', 'runs', 'reports', 'jobs', 'comparisons', 'sweeps'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

export interface BlobRef {
  /** hex SHA-256 of the exact bytes */
  sha256: string;
  size: number;
}

/** Every record carries this envelope; `data` is the kind-specific manifest. */
export interface RecordEnvelope<T = unknown> {
  kind: RecordKind;
  id: string;
  /** monotonically increasing per record; bumped on every update */
  revision: number;
  createdAt: string;
  updatedAt: string;
  /** named blobs belonging to the record (e.g. { model: {...}, images: {...} }) */
  blobs: Record<string, BlobRef>;
  /**
   * typed references to other records, by role (e.g. { original: {kind:'models', id, sha256}, forgetSet:
   * {...} }): the chain deletion request -> forget set -> run -> model -> report, followed without
   * knowing any record's data layout; absent on records that refer to nothing
   */
  refs?: Record<string, TypedRef>;
  data: T;
  /** SHA-256 of the canonical JSON of everything above; verified on read */
  manifestSha256: string;
}

export interface Workspace {
  readonly root: string;
  /** store bytes content-addressed; returns its hash (idempotent for identical bytes) */
  putBlob(bytes: Uint8Array): Promise<BlobRef>;
  /** stream a file into the blob store without loading it whole */
  putBlobFromFile(path: string): Promise<BlobRef>;
  getBlob(sha256: string): Promise<Uint8Array>;
  /** absolute path of a blob for streaming/mmap-style reads; verified (streamed hash) once on first access */
  blobPath(sha256: string): Promise<string>;
  hasBlob(sha256: string): Promise<boolean>;

  /** atomically create or replace a record; resolves only when durable (fsync'd file and folder) */
  putRecord<T>(kind: RecordKind, id: string, data: T, blobs?: Record<string, BlobRef>, refs?: Record<string, TypedRef>): Promise<RecordEnvelope<T>>;
  getRecord<T>(kind: RecordKind, id: string): Promise<RecordEnvelope<T> | null>;
  listRecords<T>(kind: RecordKind): Promise<RecordEnvelope<T>[]>;
  deleteRecord(kind: RecordKind, id: string): Promise<void>;

  /** ids of the record files of a kind, sorted, without reading or verifying them */
  listRecordIds(kind: RecordKind): Promise<string[]>;
  /** every blob in the store (hash and size on disk), sorted by hash, without reading the bytes */
  listBlobs(): Promise<BlobRef[]>;
  /** re-hash a blob's bytes from disk now (ignores any earlier verification); false if missing or wrong */
  verifyBlob(sha256: string): Promise<boolean>;

  /** records found corrupt at open (or later on read), moved aside to quarantine/ */
  quarantined(): { kind: string; id: string; reason: string }[];
  close(): Promise<void>;
}
