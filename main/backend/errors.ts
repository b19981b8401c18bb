// Coded errors: the API contract's ApiError (preload/api/common.ts) and the engine's EngineError
// (main/engine/errors.ts) carry the same code, message and details. Wherever the backend, the
// server or the CLI decides how to report an error by its code, it asks isCodedError, so an error
// the engine raised reaches the user exactly as an ApiError would.

import { ApiError } from '../../preload/api/common';
import { EngineError } from '../engine/errors';

export type CodedError = ApiError | EngineError;

export function isCodedError(e: unknown): e is CodedError {
  return e instanceof ApiError || e instanceof EngineError;
}

/** An EngineError as the ApiError with the same code, message and details; anything else unchanged. */
export function engineToApiError(e: unknown): unknown {
  return e instanceof EngineError ? new ApiError(e.code, e.message, e.details) : e;
}
