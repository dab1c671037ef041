import { loadConfig, ConfigError } from './config';
import { startApp } from './app';
import { createLogger, safeErrorMessage } from './log';

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.LOG_LEVEL);
  const app = await startApp({ config, log });
  log.info(
    { url: app.url, database: app.database.kind, sandbox: config.sandboxEnabled },
    `服务助手已启动 / bot started on ${app.url}`,
  );
  for (const p of app.callbackPaths) {
    log.info(`回调地址 / callback URL: ${config.PUBLIC_URL ?? app.url}${p}`);
  }
  if (config.sandboxEnabled) {
    log.info(`沙盒群聊：在浏览器打开 ${app.url}/sandbox/ ${app.seeded ? '（已写入演示组织：选择“刘经理”等身份，发送 /帮助 试试）' : ''}`);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const hard = setTimeout(() => {
      log.error('shutdown took longer than 5 s; exiting');
      process.exit(1);
    }, 5_000);
    hard.unref();
    await app.close();
    clearTimeout(hard);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
}

main().catch((err) => {
  // Without query parameters: a database error's message can carry them (and with them secrets).
  console.error('启动失败 / failed to start:', safeErrorMessage(err));
  process.exit(1);
});
