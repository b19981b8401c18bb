// Storage interface of the workspace. Implemented with plain files and atomic writes (fs-store.ts).
// The interface itself is the engine's port (main/engine/store/workspace-port.ts), defined there
// once so the engine imports nothing from the backend; re-exported here for the backend's callers.

export { RECORD_KINDS, type RecordKind, type BlobRef, type RecordEnvelope, type TypedRef, type Workspace } from '../../engine/store/workspace-port';
