import * as z from 'zod';
import { exitWith, LOG_LEVELS } from './log.ts';
import { DEFAULT_SOCKET_PATH_DOC, defaultSocketPath } from './socketDir.ts';

/**
 * One environment variable: how to parse it, its default, what a user must give and what it means.
 * The default lives here and nowhere else; docs/configuration.md is generated from these fields.
 */
export interface EnvField<T> {
  readonly schema: z.ZodType<T>;
  readonly fallback: T | undefined;
  readonly expected: string;
  /** One line for the configuration table. */
  readonly doc: string;
  /** The default as the docs show it, when the value depends on the machine (host name, cores). */
  readonly shownDefault: string | undefined;
  /** A secret: set but empty is an error (it would otherwise turn authentication off in silence). */
  readonly rejectEmpty: boolean;
  /** The same field with its documentation line (and a machine-independent default text). */
  about(doc: string, shownDefault?: string): EnvField<T>;
}

export type EnvSpec = Record<string, EnvField<unknown>>;
export type ConfigOf<S extends EnvSpec> = { [K in keyof S]: S[K] extends EnvField<infer T> ? T : never };
/** A rule across variables; returns the one-line refusal, or undefined when the values agree. */
export type ConfigCheck<C> = (config: C) => string | undefined;

/** Thrown by `loadConfig`; its message is the single line an operator sees before the process exits. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function field<T>(
  schema: z.ZodType<T>,
  fallback: T | undefined,
  expected: string,
  extra: { shownDefault?: string; rejectEmpty?: boolean } = {},
): EnvField<T> {
  return {
    schema,
    fallback,
    expected,
    doc: '',
    shownDefault: extra.shownDefault,
    rejectEmpty: extra.rejectEmpty ?? false,
    about(doc, shown) {
      return { ...this, doc, shownDefault: shown ?? this.shownDefault };
    },
  };
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

const urlSchema = (protocols: readonly string[]) =>
  z.string().refine((s) => URL.canParse(s) && protocols.includes(new URL(s).protocol.slice(0, -1)));

/** A number of requests per window; `text` is how the operator wrote it. */
export interface Rate {
  readonly points: number;
  readonly seconds: number;
  readonly text: string;
}

const RATE_UNITS = { second: 1, minute: 60, hour: 3600, day: 86_400 } as const;
const rateSchema = z
  .string()
  .regex(/^\s*\d{1,9}\s*(\/|per)\s*(second|minute|hour|day)s?\s*$/i)
  .transform((s): Rate => {
    const [, n, , unit] = /(\d+)\s*(\/|per)\s*(second|minute|hour|day)/i.exec(s) as RegExpExecArray;
    return { points: Number(n), seconds: RATE_UNITS[(unit as string).toLowerCase() as keyof typeof RATE_UNITS], text: s.trim() };
  })
  .pipe(z.custom<Rate>((r) => (r as Rate).points >= 1));

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
  flag: (fallback = false) =>
    field(
      z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true'),
      fallback,
      '1 or 0',
      { shownDefault: fallback ? '1' : '0' },
    ),
  /** A request rate as the original service writes it: `60/minute`, `10 per second`, `1000/hour`, `5/day`. */
  rate: (fallback: string) =>
    field(rateSchema, rateSchema.parse(fallback), 'a rate such as 60/minute (per second, minute, hour or day)', {
      shownDefault: fallback,
    }),
  string: (fallback: string) => field(z.string().min(1), fallback, 'a non-empty string'),
  optionalString: () => field(z.string().min(1).optional(), undefined, 'a non-empty string or unset'),
  /** A secret (API key, token): unset turns the check off; set, it must not be empty. */
  secret: () => field(z.string().min(1).optional(), undefined, 'a non-empty secret, or unset', { rejectEmpty: true }),
  url: (fallback: string, protocols: readonly string[]) =>
    field(urlSchema(protocols), fallback, `a URL (${protocols.join(', ')})`),
  optionalUrl: (protocols: readonly string[]) =>
    field(urlSchema(protocols).optional() as z.ZodType<string | undefined>, undefined, `a URL (${protocols.join(', ')})`),
  fileMode: (fallback: number) =>
    field(
      z
        .string()
        .regex(/^0?[0-7]{3}$/)
        .transform((s) => Number.parseInt(s, 8)),
      fallback,
      'an octal file mode such as 0600',
      { shownDefault: `0${fallback.toString(8)}` },
    ),
};

/**
 * Parses every variable of `spec` from `source`, then applies the cross-variable `checks`. Empty
 * strings count as unset. The first bad value throws a ConfigError naming the variable, the value
 * and what was expected.
 */
export function loadConfig<S extends EnvSpec>(
  spec: S,
  source: Record<string, string | undefined>,
  checks: readonly ConfigCheck<ConfigOf<S>>[] = [],
): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(spec)) {
    const raw = source[name];
    if (raw === '' && f.rejectEmpty) {
      throw new ConfigError(
        `Invalid configuration: ${name}="": an empty secret would turn authentication off; unset it or give a secret`,
      );
    }
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
  const config = out as ConfigOf<S>;
  for (const check of checks) {
    const problem = check(config);
    if (problem) throw new ConfigError(`Invalid configuration: ${problem}`);
  }
  return config;
}

/** For `main.ts` only: loads the configuration or logs the one-line reason (a JSON line on stderr) and exits with 1. */
export function loadConfigOrExit<C>(service: string, load: () => C): C {
  try {
    return load();
  } catch (err) {
    exitWith(service, err instanceof ConfigError ? err.message : String(err));
  }
}

/** Read by both processes. */
export const logEnv = {
  LOG_LEVEL: env.oneOf(LOG_LEVELS, 'info').about('least severe log level written (JSON lines on stdout); `silent` for none'),
};

/**
 * The event transport's variables, read by both processes, and the rule between them. Spread into
 * each process's spec, so the two cannot disagree on a default.
 */
export const transportEnv = {
  EVENTS_TRANSPORT: env
    .oneOf(['socket', 'redis', 'off'] as const, 'socket')
    .about('`socket`, `redis` (a Redis stream; needs `REDIS_URL`), or `off` (no telemetry at all; the overhead baseline)'),
  EVENTS_SOCKET: env
    .string(defaultSocketPath())
    .about(
      'unix socket path of the event transport; its directory must belong to the user both processes run as and be closed to others (mode 700); the exporter creates it',
      DEFAULT_SOCKET_PATH_DOC,
    ),
  EVENTS_STREAM: env.string('downloader:events').about('Redis stream name (redis transport)'),
  EVENTS_ACK_MS: env
    .int(100, 1, 1000)
    .about(
      "the exporter acknowledges a socket connection's events within this long of reading them, with the read of a later batch when one comes (so at most twice in this time); the downloader's buffer check counts on it",
    ),
  REDIS_URL: env
    .optionalUrl(['redis', 'rediss'])
    .about('Redis for jobs, cache and the event stream (downloader); INFO poll and stream (exporter)'),
};

/** Longest unix socket path: sun_path holds 108 bytes on Linux (104 on macOS), the terminating NUL included. */
const MAX_SOCKET_PATH_BYTES = process.platform === 'linux' ? 107 : 103;

export const transportChecks: readonly ConfigCheck<ConfigOf<typeof transportEnv>>[] = [
  (c) =>
    c.EVENTS_TRANSPORT === 'redis' && !c.REDIS_URL ? 'EVENTS_TRANSPORT="redis" needs REDIS_URL (a redis:// URL)' : undefined,
  (c) =>
    c.EVENTS_TRANSPORT === 'socket' && Buffer.byteLength(c.EVENTS_SOCKET) > MAX_SOCKET_PATH_BYTES
      ? `EVENTS_SOCKET is ${Buffer.byteLength(c.EVENTS_SOCKET)} bytes long; a unix socket path holds at most ${MAX_SOCKET_PATH_BYTES}`
      : undefined,
];
