import { createServer } from 'node:net';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable, isRowDataError, sqlStateOf } from '../../src/db/errors';
import { TEST_DATABASE_URL } from '../helpers/databases';

/**
 * The one classifier every route answers 503 by (src/db/errors.ts): a database that cannot take the
 * request now, whatever the request. Errors are built in the shapes the drivers throw (a PostgresError
 * with its SQLSTATE, a Node system error, postgres.js's connection errors, drizzle's wrapper with the
 * driver's error as `cause`), and the real ones are produced against a closed port and the test server.
 */

const pgError = (code: string, message = 'server said no') => Object.assign(new Error(message), { name: 'PostgresError', code, severity: 'FATAL' });
const nodeError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, errno: -1, syscall: 'connect' });
/** drizzle's DrizzleQueryError: "Failed query: …\nparams: …" with the driver's error as its cause. */
const drizzleWrapped = (cause: unknown) => Object.assign(new Error('Failed query: select 1\nparams: '), { name: 'DrizzleQueryError', cause });

describe('isDatabaseUnavailable', () => {
  const unavailable: [string, string][] = [
    ['08000', 'connection exception'],
    ['08001', 'client unable to establish connection'],
    ['08006', 'connection failure'],
    ['08P01', 'protocol violation'],
    ['57P01', 'admin shutdown (pg_terminate_backend)'],
    ['57P02', 'crash shutdown'],
    ['57P03', 'cannot connect now (starting up)'],
    ['57P04', 'database dropped'],
    ['53000', 'insufficient resources'],
    ['53100', 'disk full'],
    ['53200', 'out of memory'],
    ['53300', 'too many connections'],
    ['28000', 'invalid authorization'],
    ['28P01', 'invalid password'],
    ['3D000', 'database does not exist'],
    ['55000', 'database is not accepting connections'],
    ['25006', 'read-only transaction'],
  ];
  it.each(unavailable)('SQLSTATE %s (%s) is unavailable, bare and wrapped by drizzle', (code) => {
    expect(isDatabaseUnavailable(pgError(code))).toBe(true);
    expect(isDatabaseUnavailable(drizzleWrapped(pgError(code)))).toBe(true);
  });

  const codes = ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED'];
  it.each(codes)('connection error %s is unavailable, bare and wrapped', (code) => {
    expect(isDatabaseUnavailable(nodeError(code))).toBe(true);
    expect(isDatabaseUnavailable(drizzleWrapped(nodeError(code)))).toBe(true);
  });

  it('EPIPE has the shape of a SQLSTATE but is not read as one', () => {
    expect(sqlStateOf(nodeError('EPIPE'))).toBeNull();
    expect(sqlStateOf(drizzleWrapped(pgError('23505')))).toBe('23505');
    expect(isRowDataError(nodeError('EPIPE'))).toBe(false);
  });

  it('pool and connect timeouts said in words count too', () => {
    expect(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(isDatabaseUnavailable(drizzleWrapped(new Error('Timed out while acquiring a connection from the pool')))).toBe(true);
  });

  const available: [string, string][] = [
    ['23505', 'unique violation'],
    ['22P02', 'invalid text representation'],
    ['42P01', 'undefined table'],
    ['40001', 'serialization failure'],
    ['57014', 'query canceled (statement timeout)'],
    ['55P03', 'lock not available'],
    ['25P02', 'in failed transaction'],
  ];
  it.each(available)('SQLSTATE %s (%s) is a request error, not an outage', (code) => {
    expect(isDatabaseUnavailable(drizzleWrapped(pgError(code)))).toBe(false);
  });

  it('an error without a database code is not an outage', () => {
    expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
    expect(isDatabaseUnavailable(new TypeError('x is undefined'))).toBe(false);
    expect(isDatabaseUnavailable(null)).toBe(false);
    expect(isDatabaseUnavailable('ECONNREFUSED')).toBe(false);
  });

  it('a real refused connection (nothing listens on the port) is unavailable', async () => {
    // A port that was just free: bind, read it, close.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const sql = postgres(`postgres://nobody@127.0.0.1:${port}/none`, { max: 1, connect_timeout: 2, onnotice: () => {} });
    const err = await sql`select 1`.then(() => null, (e: unknown) => e);
    await sql.end({ timeout: 1 });
    expect(err).toBeInstanceOf(Error);
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  it.runIf(TEST_DATABASE_URL)('real server refusals: no such database (3D000), no such role (28xxx)', async () => {
    const noDb = new URL(TEST_DATABASE_URL!);
    noDb.pathname = '/no_such_database_for_this_test';
    const noRole = new URL(TEST_DATABASE_URL!);
    noRole.username = 'no_such_role_for_this_test';
    for (const [url, state] of [
      [noDb, /^3D000$/],
      [noRole, /^28/],
    ] as const) {
      const sql = postgres(url.toString(), { max: 1, connect_timeout: 2, onnotice: () => {} });
      const err = await sql`select 1`.then(() => null, (e: unknown) => e);
      await sql.end({ timeout: 1 });
      expect(sqlStateOf(err)).toMatch(state);
      expect(isDatabaseUnavailable(err)).toBe(true);
    }
  });
});
