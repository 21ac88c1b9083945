/**
 * A deploy environment for a real serial port with fixed extra observation features (e.g. a goal
 * the policy should reach, given once on the command line): see deploy-environment.ts. Import it by
 * URL: `{ module: FIXED_ENVIRONMENT, params: { path, extra: { layout, values } } }`.
 */
import type { DeployEnvironment } from './deploy-environment.ts';
import { DeployEnvironmentError } from './errors.ts';

export const FIXED_ENVIRONMENT = new URL('./fixed-environment.ts', import.meta.url).href;

export interface FixedEnvironmentParams {
  readonly path: string;
  readonly busTimeoutMs?: number;
  readonly extra?: { readonly layout: readonly { readonly name: string; readonly size: number }[]; readonly values: readonly number[] };
}

export async function createDeployEnvironment(raw: unknown): Promise<DeployEnvironment> {
  const p = raw as FixedEnvironmentParams;
  const values = p.extra ? Float64Array.from(p.extra.values) : undefined;
  const size = p.extra?.layout.reduce((n, f) => n + f.size, 0) ?? 0;
  if (p.extra && values!.length !== size) throw new DeployEnvironmentError(FIXED_ENVIRONMENT, `the fixed observation has ${values!.length} values for a layout of ${size} (${p.extra.layout.map((f) => `${f.name}[${f.size}]`).join(' + ')})`);
  return {
    path: p.path,
    busTimeoutMs: p.busTimeoutMs,
    transport: p.path,
    extra: p.extra && values ? { layout: p.extra.layout, read: () => values } : undefined,
    close: async () => undefined,
  };
}
