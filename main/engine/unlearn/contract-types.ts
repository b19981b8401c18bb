// Unlearning-method shapes shared by the engine and the API contract: a method's description and the
// form/flag description of each of its parameters (derived from its zod schema by params.ts). Defined
// here, once, because the engine may not import the contract; preload/api/unlearning.ts re-exports
// them. Types only: no runtime code and no imports, so the renderer's program can include this file.

export type ParamType = 'number' | 'integer' | 'boolean' | 'enum';

/** One parameter of a method, as the UI form and the CLI see it (JSON-serialisable). */
export interface ParamSpec {
  name: string;
  type: ParamType;
  default: number | boolean | string;
  description: string;
  min?: number;
  max?: number;
  /** the bound is exclusive */
  minExclusive?: boolean;
  maxExclusive?: boolean;
  options?: string[];
}

/** What the API and the UI get for each method. */
export interface MethodInfo {
  id: string;
  name: string;
  exact: boolean;
  scope: 'any' | 'class';
  description: string;
  source: string;
  gradientBased: boolean;
  params: ParamSpec[];
}
