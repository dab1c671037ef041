import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs. Secrets never reach a line: known secret-bearing fields are redacted by path,
 * and URLs with keys in them are redacted at the call site (errors.redactUrl).
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
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
