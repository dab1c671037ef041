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
  /** A GET (看板, exports, sandbox reads) not answered by then is answered 503: the database did not answer. */
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(200).max(120_000).default(8000),
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
  /**
   * HMAC key of the signed links the bot hands out in chat (看板, exports); at least 32 characters.
   * Unset: a random key is created once and kept in the database (every instance shares it).
   */
  LINK_SECRET: optionalString.refine((v) => !v || v.length >= 32, { message: 'LINK_SECRET must have at least 32 characters' }),
  /** How long a `/看板` link works, in hours (default 12). */
  KANBAN_LINK_HOURS: z.coerce.number().min(0.1).max(24 * 30).default(12),

  /**
   * An OpenAI-compatible model for complaint triage, free-text orders and drafts (src/llm). Empty: the
   * rule-based triage and parsers do the same jobs; nothing is sent anywhere.
   */
  LLM_BASE_URL: optionalString.refine((v) => !v || /^https?:\/\//.test(v), { message: 'must start with http:// or https://' }),
  LLM_API_KEY: optionalString,
  LLM_MODEL: z.string().default('deepseek-chat'),
  /** One model exchange (retries and the repair attempt included), in milliseconds. */
  LLM_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(8000),
  /** on: client and person names are replaced with placeholders in prompts and restored after. */
  LLM_PRIVACY: onOff('on'),

  /**
   * GET /metrics (Prometheus text format): served to `Authorization: Bearer <METRICS_TOKEN>` when the
   * token is set (at least 16 characters), and, with METRICS_LOOPBACK=on, to requests from this machine
   * that no proxy relayed. Neither: /metrics answers 404.
   */
  METRICS_TOKEN: optionalString.refine((v) => !v || v.length >= 16, { message: 'METRICS_TOKEN must have at least 16 characters' }),
  METRICS_LOOPBACK: z
    .enum(['on', 'off', 'true', 'false', '1', '0'])
    .default('off')
    .transform((v) => v === 'on' || v === 'true' || v === '1'),

  /** WeCom / DingTalk credentials, base URLs and paths (src/platforms/config-schema.ts). */
  ...platformEnvShape,
});

export type Config = z.infer<typeof configSchema> & {
  sandboxEnabled: boolean;
};

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`配置有误，请按下面的说明修改环境变量后重新启动：\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    // One line per variable (a bad URL fails two checks).
    const firstPerName = parsed.error.issues.filter((i, n, all) => all.findIndex((j) => j.path.join('.') === i.path.join('.')) === n);
    const problems = firstPerName.map((issue) => {
      const name = issue.path.join('.') || '（环境变量）';
      return `${name}：${issueInChinese(issue)}（当前值：${describeValue(name, env[name])}）。${HINTS[name] ?? ''}`;
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

const SECRET_NAME = /SECRET|TOKEN|KEY|PASSWORD/i;

/** Never echo a secret back, even in an error message: a database URL keeps all but its password. */
export function describeValue(name: string, value: string | undefined): string {
  if (value === undefined) return '未设置';
  if (name === 'DATABASE_URL') return `「${value.replace(/^([^:/]+:\/\/[^:/@]*):[^@]*@/, '$1:***@')}」`;
  if (SECRET_NAME.test(name)) return `已隐藏，共 ${[...value].length} 个字符`;
  return `「${value}」`;
}

/** What was wrong, in Chinese, from the zod issue (its English message is for developers). */
function issueInChinese(issue: z.core.$ZodIssue): string {
  const i = issue as z.core.$ZodIssue & { expected?: string; values?: unknown[]; minimum?: number | bigint; maximum?: number | bigint; format?: string };
  switch (i.code) {
    case 'invalid_type':
      return i.expected === 'number' || i.expected === 'int' ? '不是数字' : '格式不对';
    case 'invalid_value':
      return `只能是 ${(i.values ?? []).map(String).join('、')} 之一`;
    case 'too_small':
      return `太小，最小为 ${String(i.minimum)}`;
    case 'too_big':
      return `太大，最大为 ${String(i.maximum)}`;
    case 'invalid_format':
      return i.format === 'url' ? '不是有效的网址' : '格式不对';
    default:
      return '格式不对';
  }
}

/** How to write each variable, with an example (README: 配置). */
const HINTS: Record<string, string> = {
  NODE_ENV: '改法：development、production 或 test，例如 NODE_ENV=production',
  PORT: '改法：0–65535 的整数端口号，例如 PORT=3000',
  LOG_LEVEL: '改法：日志级别，例如 LOG_LEVEL=info',
  DATABASE_URL: '改法：以 postgres:// 或 postgresql:// 开头的连接串，例如 DATABASE_URL=postgres://用户:密码@主机:5432/数据库；不填则使用内嵌 PGlite',
  SANDBOX: '改法：on、off 或 auto，例如 SANDBOX=off',
  DEMO_SEED: '改法：on 或 off，例如 DEMO_SEED=off',
  BODY_LIMIT_BYTES: '改法：不小于 1024 的整数（字节），例如 BODY_LIMIT_BYTES=1048576',
  REQUEST_TIMEOUT_MS: '改法：200–120000 的整数（毫秒），例如 REQUEST_TIMEOUT_MS=8000',
  WORKING_HOURS: '改法：写成「开始-结束」的 24 小时制时间，例如 WORKING_HOURS=09:00-18:00',
  OUTBOX_CONCURRENCY: '改法：1–64 的整数，例如 OUTBOX_CONCURRENCY=1',
  OUTBOX_POLL_MS: '改法：不小于 10 的整数（毫秒），例如 OUTBOX_POLL_MS=1000',
  OUTBOX_RATE_PER_MINUTE: '改法：1–1000 的整数，例如 OUTBOX_RATE_PER_MINUTE=20',
  WECOM_API_BASE: '改法：http:// 或 https:// 开头的地址，例如 WECOM_API_BASE=https://qyapi.weixin.qq.com',
  WECOM_ENCODING_AES_KEY: '改法：企业微信后台「接收消息」页面随机获取的 43 位 EncodingAESKey（字母和数字），原样粘贴',
  WECOM_AIBOT_ENCODING_AES_KEY: '改法：智能机器人「接收消息」页面随机获取的 43 位 EncodingAESKey（字母和数字），原样粘贴',
  WECOM_CALLBACK_PATH: '改法：以 / 开头的路径，例如 WECOM_CALLBACK_PATH=/wecom/callback',
  WECOM_AIBOT_PATH: '改法：以 / 开头的路径，例如 WECOM_AIBOT_PATH=/wecom/aibot',
  DINGTALK_OAPI_BASE: '改法：http:// 或 https:// 开头的地址，例如 DINGTALK_OAPI_BASE=https://oapi.dingtalk.com',
  DINGTALK_API_BASE: '改法：http:// 或 https:// 开头的地址，例如 DINGTALK_API_BASE=https://api.dingtalk.com',
  DINGTALK_MODE: '改法：http 或 stream，例如 DINGTALK_MODE=stream',
  DINGTALK_CALLBACK_PATH: '改法：以 / 开头的路径，例如 DINGTALK_CALLBACK_PATH=/dingtalk/callback',
  DINGTALK_SIGN_WINDOW_SECONDS: '改法：30–3600 的整数（秒），例如 DINGTALK_SIGN_WINDOW_SECONDS=300；服务器时钟请用 NTP 校准',
  DINGTALK_EVENT_AES_KEY: '改法：钉钉开发者后台「事件订阅」页面的加密 aes_key（43 位），原样粘贴',
  DINGTALK_EVENT_PATH: '改法：以 / 开头的路径，例如 DINGTALK_EVENT_PATH=/dingtalk/events',
  METRICS_TOKEN: '改法：至少 16 个字符的随机字符串，例如用 openssl rand -hex 24 生成；Prometheus 以 Authorization: Bearer <令牌> 抓取',
  METRICS_LOOPBACK: '改法：on 或 off，例如 METRICS_LOOPBACK=on（只允许本机、未经代理转发的请求读取 /metrics）',
  PLATFORM_HTTP_TIMEOUT_MS: '改法：100–120000 的整数（毫秒），例如 PLATFORM_HTTP_TIMEOUT_MS=10000',
};
