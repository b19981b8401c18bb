// Shared shapes of the Lethe API contract. Types only (plus tiny constants): imported by main,
// preload and renderer. Each domain has its own file; index.ts combines them.

export type Unsubscribe = () => void;

export type ApiErrorCode =
  | 'invalid_argument' // the caller sent something malformed (schema failure, bad value)
  | 'not_found' // the named record does not exist
  | 'conflict' // e.g. forget set already used by a run, name taken
  | 'forbidden' // sender or token refused
  | 'cancelled'
  | 'unavailable' // e.g. execution provider missing
  | 'internal';

/** What every transport delivers on failure: `code` is stable, `message` is one plain sentence for the user. */
export interface ApiErrorShape {
  code: ApiErrorCode;
  message: string;
  details?: unknown;
}

export class ApiError extends Error implements ApiErrorShape {
  constructor(
    public code: ApiErrorCode,
    message: string,
    public details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
  toJSON(): ApiErrorShape {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** A method entry: argument object and result type. */
export interface MethodDef<A, R> {
  args: A;
  result: R;
}
