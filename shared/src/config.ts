import { z } from 'zod';

/** One environment variable: how to parse it, its default, and what a user must give. */
export interface EnvField<T> {
  readonly schema: z.ZodType<T>;
  readonly fallback: T | undefined;
  readonly expected: string;
}

export type EnvSpec = Record<string, EnvField<unknown>>;
export type ConfigOf<S extends EnvSpec> = { [K in keyof S]: S[K] extends EnvField<infer T> ? T : never };

/** Thrown by `loadConfig`; its message is the single line an operator sees before the process exits. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function field<T>(schema: z.ZodType<T>, fallback: T | undefined, expected: string): EnvField<T> {
  return { schema, fallback, expected };
}

const intString = (min: number, max: number) =>
  z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(min).max(max));

const decimal = (fallback: number, min: number, max: number, expected: string) =>
  field(
    z
      .string()
      .regex(/^\d+(\.\d+)?$/)
      .transform(Number)
      .pipe(z.number().min(min).max(max)),
    fallback,
    expected,
  );

/** Builders for the environment variables this project reads. */
export const env = {
  port: (fallback: number) => field(intString(1, 65_535), fallback, 'a TCP port between 1 and 65535'),
  int: (fallback: number, min: number, max: number) =>
    field(intString(min, max), fallback, `an integer between ${min} and ${max}`),
  seconds: (fallback: number, min: number, max: number) =>
    decimal(fallback, min, max, `a number of seconds between ${min} and ${max}`),
  number: (fallback: number, min: number, max: number) => decimal(fallback, min, max, `a number between ${min} and ${max}`),
  oneOf: <const T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) =>
    field(z.enum(values) as unknown as z.ZodType<T[number]>, fallback, `one of ${values.join(', ')}`),
  flag: () =>
    field(
      z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true'),
      false,
      '1 or 0',
    ),
  string: (fallback: string) => field(z.string().min(1), fallback, 'a non-empty string'),
  optionalString: () => field(z.string().min(1).optional(), undefined, 'a non-empty string or unset'),
  url: (fallback: string | undefined, protocols: readonly string[]) =>
    field(
      z
        .string()
        .refine((s) => URL.canParse(s) && protocols.includes(new URL(s).protocol.slice(0, -1)))
        .optional() as z.ZodType<string | undefined>,
      fallback,
      `a URL (${protocols.join(', ')})`,
    ),
  fileMode: (fallback: number) =>
    field(
      z
        .string()
        .regex(/^0?[0-7]{3}$/)
        .transform((s) => Number.parseInt(s, 8)),
      fallback,
      'an octal file mode such as 0600',
    ),
};

/**
 * Parses every variable of `spec` from `source`. Empty strings count as unset. The first bad value
 * throws a ConfigError naming the variable, the value and what was expected.
 */
export function loadConfig<S extends EnvSpec>(spec: S, source: Record<string, string | undefined>): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(spec)) {
    const raw = source[name];
    if (raw === undefined || raw === '') {
      out[name] = f.fallback;
      continue;
    }
    const parsed = f.schema.safeParse(raw);
    if (!parsed.success) {
      throw new ConfigError(`Invalid configuration: ${name}=${JSON.stringify(raw)}: expected ${f.expected}`);
    }
    out[name] = parsed.data;
  }
  return out as ConfigOf<S>;
}

/**
 * For `main.ts` only: loads the configuration or prints the one-line reason and exits with 1.
 * `check` may refuse a combination of values with its own one-line message.
 */
export function loadConfigOrExit<S extends EnvSpec>(
  spec: S,
  source: Record<string, string | undefined>,
  check: (config: ConfigOf<S>) => string | undefined = () => undefined,
): ConfigOf<S> {
  try {
    const config = loadConfig(spec, source);
    const problem = check(config);
    if (problem) throw new ConfigError(problem);
    return config;
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : String(err));
    process.exit(1);
  }
}
