import { z } from 'zod';
import { configuredPlatforms, platformConfigProblems, platformEnvShape } from './platforms/config-schema';

/**
 * The one place that reads the environment (STYLE.md #9). Everything else receives a Config.
 * A wrong value throws ConfigError naming every wrong variable and how to fix it.
 */

const csv = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

const onOff = (fallback: 'on' | 'off' | 'auto') =>
  z
    .enum(['on', 'off', 'auto', 'true', 'false', '1', '0'])
    .default(fallback)
    .transform((v) => (v === 'true' || v === '1' ? 'on' : v === 'false' || v === '0' ? 'off' : v));

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() ? v.trim() : undefined));

const url = (fallback: string) => z.string().url().default(fallback);

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  /** Public base URL, shown in log lines and the README setup steps. */
  PUBLIC_URL: optionalString,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  /** postgres://… selects a PostgreSQL server; empty means embedded PGlite in DATA_DIR. */
  DATABASE_URL: optionalString.refine((v) => !v || /^postgres(ql)?:\/\//.test(v), {
    message: 'must start with postgres:// or postgresql://',
  }),
  DATA_DIR: z.string().default('./data/pg'),

  /** Userids that are administrators from the start (they can add members). */
  ADMIN_USERIDS: csv,
  /** on | off | auto (auto: on when no WeCom/DingTalk credentials are configured). */
  SANDBOX: onOff('auto'),
  /** Seed a demo organisation into an empty database when the sandbox is on. */
  DEMO_SEED: onOff('on'),
  /** Largest accepted request body, in bytes. */
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
  TIMEZONE: z.string().default('Asia/Shanghai'),

  /** Working hours on working days (reminders to staff wait for them). */
  WORKING_HOURS: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, 'must look like 09:00-18:00')
    .default('09:00-18:00'),
  /** A JSON file whose rules override the built-in playbooks (numbers can change without code). */
  PLAYBOOK_FILE: optionalString,
  /** A JSON file overriding the complaint playbook (levels, clocks, rate threshold, fee split). */
  COMPLAINT_PLAYBOOK_FILE: optionalString,
  /** node-cron pattern of the scheduler tick (6 fields: with seconds). */
  SCHEDULER_CRON: z.string().default('*/5 * * * * *'),
  /** Conversations one instance sends to at once (1: a crash duplicates at most one message). */
  OUTBOX_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  /** How often the outbox worker looks for messages to deliver, in milliseconds. */
  OUTBOX_POLL_MS: z.coerce.number().int().min(10).default(1000),
  /** Messages one robot may send per minute, counted across all instances (WeCom and DingTalk allow 20). */
  OUTBOX_RATE_PER_MINUTE: z.coerce.number().int().min(1).max(1000).default(20),

  /** WeCom / DingTalk credentials, base URLs and paths (src/platforms/config-schema.ts). */
  ...platformEnvShape,
});

export type Config = z.infer<typeof configSchema> & {
  sandboxEnabled: boolean;
};

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`配置有误 / invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.') || '(environment)';
      return `${name}: ${issue.message} (current value: ${describeValue(name, env[name])})`;
    });
    throw new ConfigError(problems);
  }
  const c = parsed.data;
  const platformProblems = platformConfigProblems(c);
  if (platformProblems.length > 0) throw new ConfigError(platformProblems);
  const p = configuredPlatforms(c);
  const platformConfigured = p.wecom || p.dingtalk;
  const sandboxEnabled = c.SANDBOX === 'on' || (c.SANDBOX === 'auto' && !platformConfigured);
  return { ...c, sandboxEnabled };
}

const SECRET_NAME = /SECRET|TOKEN|KEY|PASSWORD|DATABASE_URL/i;

/** Never echo a secret back, even in an error message. */
function describeValue(name: string, value: string | undefined): string {
  if (value === undefined) return 'not set';
  if (SECRET_NAME.test(name)) return '(hidden)';
  return JSON.stringify(value);
}
