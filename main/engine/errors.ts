// The engine's coded error. Engine code that refuses a request (a bad argument, a missing record, a
// conflict such as a locked forget set) throws an EngineError with a stable `code` and one plain
// sentence in `message` for the user. It has the same shape as the API contract's ApiError
// (preload/api/common.ts), which the engine may not import: the backend reports both the same way
// (isCodedError in main/backend/errors.ts), so the code and the message reach the user unchanged.

export type EngineErrorCode = 'invalid_argument' | 'not_found' | 'conflict' | 'cancelled' | 'unavailable' | 'internal';

export class EngineError extends Error {
  constructor(
    public code: EngineErrorCode,
    message: string,
    public details?: unknown,
  ) {
    super(message);
    this.name = 'EngineError';
  }
  toJSON(): { code: EngineErrorCode; message: string; details?: unknown } {
    return { code: this.code, message: this.message, details: this.details };
  }
}
