// The engine's EngineError is reported exactly like the contract's ApiError: by the backend's
// serialiser (toErrorShape, what both transports send), by the dataset/forget-set handlers' wrapper
// (toApiError) and by the CLI (exit code 2 for invalid_argument, else 1; the message as is).

import { describe, expect, it } from 'vitest';
import { ApiError } from '../../preload/api/common';
import { EngineError } from '../../main/engine/errors';
import { engineToApiError, isCodedError } from '../../main/backend/errors';
import { toErrorShape } from '../../main/backend/service';
import { toApiError } from '../../main/backend/services/datasets';
import { runCli } from '../../main/cli/index';
import type { CliCommand } from '../../main/cli/types';

describe('coded errors', () => {
  it('isCodedError accepts ApiError and EngineError only', () => {
    expect(isCodedError(new ApiError('conflict', 'a'))).toBe(true);
    expect(isCodedError(new EngineError('conflict', 'a'))).toBe(true);
    expect(isCodedError(new Error('a'))).toBe(false);
    expect(isCodedError({ code: 'conflict', message: 'a' })).toBe(false);
  });

  it('toErrorShape serialises an EngineError as it does an ApiError', () => {
    const log = () => {};
    for (const code of ['invalid_argument', 'not_found', 'conflict', 'cancelled', 'unavailable', 'internal'] as const) {
      const e = toErrorShape(new EngineError(code, `It failed: ${code}.`, { step: 2 }), 'forgetSets.preview', log);
      const a = toErrorShape(new ApiError(code, `It failed: ${code}.`, { step: 2 }), 'forgetSets.preview', log);
      expect(e).toEqual(a);
      expect(e).toEqual({ code, message: `It failed: ${code}.`, details: { step: 2 } });
    }
    expect(toErrorShape(new EngineError('not_found', 'Gone.'), 'm', log)).toEqual({ code: 'not_found', message: 'Gone.' });
    // anything else is still an internal error with a plain message
    expect(toErrorShape(new Error('secret stack'), 'm', log).code).toBe('internal');
  });

  it('the handlers hand EngineErrors on as the ApiError of the same code, message and details', () => {
    const out = toApiError(new EngineError('conflict', 'Locked.', { by: 'r1' }));
    expect(out).toBeInstanceOf(ApiError);
    expect(out).toMatchObject({ code: 'conflict', message: 'Locked.', details: { by: 'r1' } });
    const plain = new Error('x');
    expect(engineToApiError(plain)).toBe(plain);
  });

  it('the CLI prints an EngineError like an ApiError (exit 2 for invalid_argument, else 1)', async () => {
    const thrower = (err: Error): CliCommand => ({ name: 'probe', summary: 'throws', options: {}, run: async () => Promise.reject(err) });
    for (const [err, code] of [
      [new EngineError('invalid_argument', 'The forget-set rule needs a kind.'), 2],
      [new ApiError('invalid_argument', 'The forget-set rule needs a kind.'), 2],
      [new EngineError('conflict', "Forget set 'a' is used by run r1 and cannot be deleted."), 1],
      [new ApiError('conflict', "Forget set 'a' is used by run r1 and cannot be deleted."), 1],
    ] as const) {
      let stderr = '';
      const exit = await runCli(['probe'], { stdout: () => {}, stderr: (t) => (stderr += t), env: {} }, [thrower(err)]);
      expect(exit, err.message).toBe(code);
      expect(stderr).toContain(err.message);
      expect(stderr).not.toMatch(/at .*\.ts:\d+/);
    }
  });
});
