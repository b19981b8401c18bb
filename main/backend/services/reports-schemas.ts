// Argument schemas of reports.* (spread into validation.ts); apart from the handlers so validation.ts
// does not import the report service (which imports services/app.ts, which imports validation.ts).

import { z } from 'zod';
import type { ReportMethods } from '../../../preload/api/reports';

const recordId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must contain only letters, digits, ".", "_" and "-", starting with a letter or digit');

export const reportArgSchemas = {
  'reports.create': z.object({ comparison: recordId, sign: z.string().min(1).max(4096).optional(), operator: z.string().min(1).max(200).optional() }).strict(),
  'reports.list': z.object({ comparison: recordId.optional() }).strict(),
  'reports.verify': z.object({ id: recordId }).strict(),
  'reports.file': z.object({ id: recordId, file: z.enum(['pdf', 'manifest', 'signature', 'publicKey']) }).strict(),
} satisfies { [M in keyof ReportMethods]: z.ZodType<ReportMethods[M]['args'], z.ZodTypeDef, unknown> };
