import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A loopback TCP proxy in front of a server, to take it away as a network outage would:
 * `blackhole()` keeps every connection open but passes nothing (a partition: requests hang),
 * `refuse()` closes the port and every connection (connection refused), `restore()` forwards again.
 */
export async function startTcpProxy(target: { host: string; port: number }) {
  let mode: 'forward' | 'blackhole' | 'refused' = 'forward';
  const sockets = new Set<Socket>();
  let server: Server;
  let port = 0;

  function listen(): Promise<void> {
    server = createServer((client) => {
      const upstream = connect(target.port, target.host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.on('data', (d) => mode === 'forward' && upstream.write(d));
      upstream.on('data', (d) => mode === 'forward' && client.write(d));
      client.on('end', () => upstream.end());
      upstream.on('end', () => client.end());
    });
    return new Promise((resolve) => server.listen(port, '127.0.0.1', () => {
      port = (server.address() as AddressInfo).port;
      resolve();
    }));
  }
  await listen();

  const dropAll = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    get port() {
      return port;
    },
    blackhole() {
      mode = 'blackhole';
    },
    async refuse() {
      mode = 'refused';
      dropAll();
      await new Promise<void>((r) => server.close(() => r()));
    },
    async restore() {
      if (mode === 'refused') await listen();
      else dropAll(); // connections that lost bytes while black-holed are of no use
      mode = 'forward';
    },
    async close() {
      mode = 'refused';
      dropAll();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
