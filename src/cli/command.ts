/**
 * Commands are declared as data: a zod schema for the options is the single source of the flags,
 * their types, defaults and help text (and of docs/cli.md, see `armbridge help --markdown`).
 */
import { parseArgs } from 'node:util';
import type { z } from 'zod';
import { ArmbridgeError } from '../errors.ts';

export interface CommandContext {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Where prompts read the person's answers (Enter); default process.stdin. */
  readonly stdin?: NodeJS.ReadableStream;
  /** Aborted on SIGINT / SIGTERM: long-running commands stop cleanly. */
  readonly signal: AbortSignal;
}

export interface Command<S extends z.ZodObject = z.ZodObject> {
  readonly name: string;
  readonly summary: string;
  readonly options: S;
  /** The option that a bare argument fills (`armbridge inspect FILE` = `--file FILE`). */
  readonly positional?: string;
  /** Bare arguments are a list, joined with commas into the positional option (shell globs). */
  readonly variadic?: boolean;
  readonly examples?: readonly string[];
  run(options: z.infer<S>, ctx: CommandContext): Promise<number>;
}

export class UsageError extends ArmbridgeError {
  constructor(message: string, options?: ErrorOptions) {
    super('USAGE', message, options);
  }
}

interface FieldInfo {
  readonly key: string;
  readonly flag: string;
  readonly kind: 'boolean' | 'value';
  readonly description: string;
  readonly defaultValue: unknown;
  readonly required: boolean;
  readonly choices: readonly string[] | undefined;
}

type Def = { type: string; innerType?: { _zod: { def: Def } }; defaultValue?: unknown; entries?: Record<string, string>; in?: { _zod: { def: Def } } };

function defOf(schema: unknown): Def {
  return (schema as { _zod: { def: Def } })._zod.def;
}

/** Describes each option of a command's schema (flag name, kind, default, help). */
export function fieldsOf(schema: z.ZodObject): FieldInfo[] {
  return Object.entries(schema.shape).map(([key, field]) => {
    let def = defOf(field);
    let defaultValue: unknown;
    let required = true;
    for (;;) {
      if (def.type === 'default') {
        defaultValue = def.defaultValue;
        required = false;
      } else if (def.type === 'optional') required = false;
      else break;
      def = def.innerType!._zod.def;
    }
    if (def.type === 'pipe' && def.in) def = def.in._zod.def;
    return {
      key,
      flag: key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
      kind: def.type === 'boolean' ? 'boolean' : 'value',
      description: (field as { description?: string }).description ?? '',
      defaultValue,
      required,
      choices: def.type === 'enum' && def.entries ? Object.values(def.entries) : undefined,
    };
  });
}

export function parseOptions<S extends z.ZodObject>(command: Command<S>, argv: readonly string[]): z.infer<S> {
  const fields = fieldsOf(command.options);
  const spec: Record<string, { type: 'boolean' | 'string' }> = {};
  for (const f of fields) spec[f.flag] = { type: f.kind === 'boolean' ? 'boolean' : 'string' };
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...argv], options: spec, allowPositionals: command.positional !== undefined, strict: true }) as {
      values: Record<string, string | boolean | undefined>;
      positionals: string[];
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}; see \`armbridge ${command.name} --help\``, { cause: e });
  }
  const raw: Record<string, unknown> = {};
  for (const f of fields) if (values[f.flag] !== undefined) raw[f.key] = values[f.flag];
  if (command.variadic && command.positional && positionals.length > 0) {
    raw[command.positional] = [raw[command.positional], ...positionals].filter((v) => v !== undefined).join(',');
    positionals = [];
  }
  if (positionals.length > 1 || (positionals.length === 1 && command.positional && raw[command.positional] !== undefined)) {
    throw new UsageError(`unexpected argument "${positionals[positionals.length - 1]}"; see \`armbridge ${command.name} --help\``);
  }
  if (positionals.length === 1 && command.positional) raw[command.positional] = positionals[0];
  const parsed = command.options.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => {
      const f = fields.find((x) => x.key === i.path[0]);
      return `--${f?.flag ?? String(i.path[0])}: ${i.message}`;
    });
    throw new UsageError(`${issues.join('; ')}; see \`armbridge ${command.name} --help\``);
  }
  return parsed.data as z.infer<S>;
}

export function commandHelp(command: Command, markdown = false): string {
  const fields = fieldsOf(command.options);
  const fmtDefault = (f: FieldInfo) =>
    f.defaultValue === undefined ? (f.required ? ' (required)' : '') : ` (default: ${JSON.stringify(f.defaultValue)})`;
  if (markdown) {
    const rows = fields.map((f) => {
      const choices = f.choices ? ` One of ${f.choices.map((c) => `\`${c}\``).join(', ')}.` : '';
      return `| \`--${f.flag}\` | ${f.description}${choices} | ${f.defaultValue === undefined ? (f.required ? 'required' : '') : `\`${JSON.stringify(f.defaultValue)}\``} |`;
    });
    const usage = command.positional ? `armbridge ${command.name} <${command.positional}> [options]` : `armbridge ${command.name} [options]`;
    return [`### \`armbridge ${command.name}\``, '', `${command.summary}. Usage: \`${usage}\`.`, '', '| option | meaning | default |', '|---|---|---|', ...rows, ''].join('\n');
  }
  const usage = command.positional ? `armbridge ${command.name} <${command.positional}> [options]` : `armbridge ${command.name} [options]`;
  const lines = [`armbridge ${command.name}: ${command.summary}`, '', `Usage: ${usage}`, '', 'Options:'];
  for (const f of fields) {
    const choices = f.choices ? ` [${f.choices.join('|')}]` : '';
    lines.push(`  --${f.flag}${f.kind === 'value' ? ' <value>' : ''}${choices}`);
    lines.push(`      ${f.description}${fmtDefault(f)}`);
  }
  if (command.examples?.length) lines.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}
