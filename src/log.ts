import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs. Secrets never reach a line: known secret-bearing fields are redacted by path,
 * and every URL or request path is written through redactUrl (below).
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      serializers: { err: serializeError, error: serializeError },
      hooks: {
        // pino makes an error's message the line's msg when none is given: give the safe one.
        logMethod(args, method) {
          const [first, second] = args as unknown[];
          if (first instanceof Error) {
            return method.apply(this, [{ err: first }, ...(typeof second === 'string' ? args.slice(1) : [safeErrorMessage(first)])] as Parameters<typeof method>);
          }
          const inner = first && typeof first === 'object' ? (first as { err?: unknown }).err : undefined;
          if (inner instanceof Error && typeof second !== 'string') {
            return method.apply(this, [first, safeErrorMessage(inner)] as Parameters<typeof method>);
          }
          return method.apply(this, args);
        },
      },
      redact: {
        paths: [
          '*.token',
          '*.secret',
          '*.appSecret',
          '*.encodingAesKey',
          '*.password',
          '*.accessToken',
          '*.access_token',
          '*.webhook',
          '*.url',
          'config.DATABASE_URL',
          'req.headers.authorization',
          'req.headers.cookie',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

/**
 * drizzle's query error puts the statement's parameters into its message ("Failed query: …\nparams: …")
 * and into `params`; postgres.js can attach `parameters`, and a server error's `detail` quotes values
 * ("Key (x)=(…) already exists"). Parameters carry whole payloads: webhook tokens, response_url codes,
 * robot secrets typed in a command. So an error's text keeps the statement, never its values.
 */
export function safeErrorMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const cut = message.search(/\n\s*params:/);
  return cut === -1 ? message : message.slice(0, cut);
}

interface SerializedError {
  type: string;
  message: string;
  code?: string;
  stack?: string;
  cause?: SerializedError;
}

/** The `err` serializer of every logger: name, message without parameters, code, stack, cause. */
export function serializeError(err: unknown, depth = 0): SerializedError {
  if (!(err instanceof Error)) {
    if (err && typeof err === 'object' && 'message' in err) {
      return { type: 'Object', message: safeErrorMessage(String((err as { message: unknown }).message)) };
    }
    return { type: typeof err, message: safeErrorMessage(err) };
  }
  const message = safeErrorMessage(err);
  const out: SerializedError = { type: err.constructor?.name ?? err.name, message };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') out.code = String(code);
  if (typeof err.stack === 'string') {
    // The stack repeats the message first; keep only the frames after it.
    const frames = err.stack.split('\n').filter((l) => /^\s+at /.test(l));
    out.stack = [`${err.name}: ${message}`, ...frames].join('\n');
  }
  const cause = (err as { cause?: unknown }).cause;
  if (cause !== undefined && depth < 3) out.cause = serializeError(cause, depth + 1);
  return out;
}

/** Routes whose next path segment is a signed link: the path is the credential (`GET /exports/<token>`). */
const LINK_PATHS = ['/exports/'];
/** A segment of this shape is a token wherever it appears (a signed link pasted under another path). */
const TOKEN_SEGMENT = /^[A-Za-z0-9_.~%-]{24,}$/;

function redactPath(pathname: string): string {
  const link = LINK_PATHS.find((p) => pathname.startsWith(p));
  const path = link ? `${link}***` : pathname;
  return path
    .split('/')
    .map((seg) => (TOKEN_SEGMENT.test(seg) ? '***' : seg))
    .join('/');
}

/**
 * The one way a URL reaches a log line (the request log, upstream errors): every query value becomes
 * `***` (names kept: `?k=***&dept=***`; query strings carry link keys, signatures and robot keys), the
 * segment after `/exports/` and any token-shaped segment become `***`. Takes an absolute URL or a
 * request's path with its query string (Koa's `ctx.url`).
 */
export function redactUrl(url: string): string {
  const relative = url.startsWith('/');
  let u: URL;
  try {
    u = new URL(url, relative ? 'http://relative.invalid' : undefined);
  } catch {
    return '(invalid url)';
  }
  for (const k of [...new Set(u.searchParams.keys())]) u.searchParams.set(k, '***');
  u.hash = '';
  u.pathname = redactPath(u.pathname);
  return relative ? `${u.pathname}${u.search}` : u.toString();
}
