import { readFile } from 'node:fs/promises';
import { createFeatures } from './app';
import { createCalendarProvider } from './core/clocks/clock-store';
import { writeAudit } from './core/records';
import { createRegistry } from './core/registry';
import type { Database } from './db/client';
import { loadComplaintPlaybook } from './domain/complaints';
import type { Playbook } from './domain/playbooks';
import type { WorkingHours } from './domain/calendar';
import { applyNotice, previewNotice, type NoticeContext } from './features/clocks';
import { createOrderClocks } from './features/orders';

export interface CalendarCliOptions {
  database: Database;
  playbook: Playbook;
  timeZone: string;
  workingHours: WorkingHours;
  /** Who runs it, for the audit (`shell:<user>`). */
  userid: string;
  clock?: () => Date;
  out: (line: string) => void;
}

const USAGE =
  '用法：\n  npm run calendar -- import <通知文件.txt>   读取通知，列出放假和调休上班日期，得到编号（不生效）\n' +
  '  npm run calendar -- confirm <编号>         按编号导入，进行中的计时随之重算';

/**
 * `npm run calendar -- import notice.txt` / `confirm <编号>`: the same preview and apply as
 * `/日历 导入` in chat, on the configured database, each in one transaction. Returns the exit code.
 */
export async function runCalendarCli(argv: readonly string[], opts: CalendarCliOptions): Promise<number> {
  const [cmd, arg] = argv;
  if ((cmd !== 'import' && cmd !== 'confirm') || !arg) {
    opts.out(USAGE);
    return 2;
  }
  const clock = opts.clock ?? (() => new Date());
  const calendar = createCalendarProvider({ timeZone: opts.timeZone, workingHours: opts.workingHours });
  // The features' registry gives every timer's rule, as in the running bot.
  const features = createFeatures({ clocks: createOrderClocks({ playbook: opts.playbook, calendar }), complaintPlaybook: loadComplaintPlaybook(), calendar });
  const registry = createRegistry(features);
  const actor = { userid: opts.userid, person: null, isAdmin: true, displayName: opts.userid };
  const run = (f: (ctx: NoticeContext) => Promise<string>) =>
    opts.database.db.transaction(async (tx) => {
      const now = clock();
      const ctx: NoticeContext = {
        tx: tx as never,
        now,
        userid: opts.userid,
        audit: (action, subject, data) => writeAudit(tx as never, { at: now, actor, action, subject, data }),
        clocks: { calendar, ruleOf: registry.ruleOf, emit: registry.emit },
      };
      return f(ctx);
    });

  if (cmd === 'import') {
    let text: string;
    try {
      text = await readFile(arg, 'utf8');
    } catch {
      opts.out(`抱歉，读不到文件 ${arg}。`);
      return 1;
    }
    const reply = await run((ctx) => previewNotice(ctx, text));
    const id = /编号 (\d+)）/.exec(reply)?.[1];
    opts.out(id ? `${reply}\n在命令行确认：npm run calendar -- confirm ${id}` : reply);
    return id ? 0 : 1;
  }
  const id = Number(arg);
  if (!Number.isSafeInteger(id) || id <= 0) {
    opts.out(`抱歉，「${arg}」不是编号。\n${USAGE}`);
    return 2;
  }
  const reply = await run((ctx) => applyNotice(ctx, id));
  opts.out(reply);
  return reply.startsWith('已导入') ? 0 : 1;
}
