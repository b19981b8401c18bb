// Job parameters are checked with a zod schema before a job is queued; the first problem becomes one
// plain sentence naming the kind and the parameter ("model.train: 'epochs' expected number.").

import type { z } from 'zod';
import { ApiError } from '../../../../preload/api/common';

export function parseJobParams<S extends z.ZodTypeAny>(kind: string, schema: S, params: unknown): z.output<S> {
  const r = schema.safeParse(params);
  if (!r.success) {
    const issue = r.error.issues[0];
    const msg = issue.message.charAt(0).toLowerCase() + issue.message.slice(1);
    throw new ApiError('invalid_argument', `${kind}: '${issue.path.join('.') || 'params'}' ${msg}.`);
  }
  return r.data;
}
