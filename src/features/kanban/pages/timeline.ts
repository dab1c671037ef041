import { and, asc, eq, like, or } from 'drizzle-orm';
import { events, people, timers } from '../../../db/schema';
import { LADDER_STEP_NAMES } from '../../../domain/playbooks/ladder-step-names';
import { ladder } from '../../../domain/timers';
import { fromRow } from '../../../core/clocks/clock-store';
import { ruleOf } from '../data';
import type { Table } from '../html';
import { sortTime, when, type PageCtx } from './shared';

/** The clocks and the full timeline of one subject, shared by the 分配单 and 投诉 detail pages. */

const STATE_NAMES: Record<string, string> = { running: '进行中', paused: '暂停中', done: '已完成', cancelled: '已停止' };
const TIMER_EVENT_NAMES: Record<string, string> = {
  'timer.started': '开始计时',
  'timer.completed': '计时完成',
  'timer.cancelled': '停止计时',
  'timer.paused': '计时暂停',
  'timer.resumed': '计时恢复',
  'timer.restarted': '重新计时',
};


export async function timerTable(p: PageCtx, id: string, subject: string): Promise<Table> {
  const rows = await p.tx.select().from(timers).where(eq(timers.subject, subject)).orderBy(asc(timers.id));
  return {
    id,
    title: '计时与提醒阶梯',
    columns: ['步骤', '条款', '状态', '开始', '期限', '提醒阶梯'],
    rows: rows.map((row) => {
      const rule = ruleOf(p.rules, row.ruleId, row.subject);
      const t = fromRow(row);
      const late = row.state === 'running' && row.dueAt.getTime() < p.now.getTime();
      const live = row.state === 'running' || row.state === 'paused';
      const steps = rule
        ? ladder(t, rule, p.cal)
            .filter((s) => live || t.stepsSent.includes(s.step))
            .map((s) => `${LADDER_STEP_NAMES[s.step]} ${when(p, s.at)}${t.stepsSent.includes(s.step) ? ' ✓已发' : ''}`)
            .join('\n')
        : '';
      return [
        rule?.step ?? row.ruleId,
        rule?.clause ?? '',
        late ? { text: '已超时', cls: 'late' } : t.endedWithOrder ? '随单结束' : (STATE_NAMES[row.state] ?? row.state),
        { text: when(p, t.startedAt), sort: sortTime(t.startedAt) },
        { text: when(p, row.dueAt), sort: sortTime(row.dueAt), ...(late ? { cls: 'late' as const } : {}) },
        { text: steps, cls: 'wrap' },
      ];
    }),
    empty: '没有计时。',
  };
}

export type TimelineItem = { at: Date; who: string; what: string; note: string; clause: string };

/**
 * A subject's full timeline in the order things happened: its own events (order_events or
 * complaint_events: who, what, the note) interleaved with the clock changes of the audit trail (which
 * rule, its clause, the due time). Both are written in the same transaction, each own event with an
 * audit row `<prefix>.<kind>`; walking the audit trail in id order places every clock change right after
 * the command that caused it. Own events without an audit row keep their time order at the end.
 */
export async function subjectTimeline(p: PageCtx, subject: string, prefix: string, own: (TimelineItem & { kind: string })[]): Promise<TimelineItem[]> {
  const audit = await p.tx
    .select({ e: events, actor: people.name })
    .from(events)
    .leftJoin(people, eq(people.id, events.actorId))
    .where(and(eq(events.subject, subject), or(like(events.action, 'timer.%'), like(events.action, `${prefix}.%`))))
    .orderBy(asc(events.id));
  const pending = [...own];
  const out: TimelineItem[] = [];
  for (const { e, actor } of audit) {
    if (e.action.startsWith('timer.')) {
      const rule = typeof e.data.rule === 'string' ? ruleOf(p.rules, e.data.rule) : undefined;
      const due = typeof e.data.dueAt === 'string' ? new Date(e.data.dueAt) : null;
      out.push({
        at: e.at,
        who: actor ?? '系统',
        what: TIMER_EVENT_NAMES[e.action] ?? e.action,
        note: `${rule?.step ?? String(e.data.rule ?? '')}${due ? `，期限 ${when(p, due)}` : ''}`,
        clause: typeof e.data.clause === 'string' ? e.data.clause : (rule?.clause ?? ''),
      });
      continue;
    }
    const kind = e.action.slice(prefix.length + 1);
    const i = pending.findIndex((x) => x.kind === kind);
    if (i >= 0) out.push(pending.splice(i, 1)[0]!);
  }
  return [...out, ...pending];
}

export function timelineTable(p: PageCtx, id: string, items: TimelineItem[]): Table {
  return {
    id,
    title: `全部记录（${items.length}）`,
    columns: ['时间', '谁', '事件', '内容', '条款'],
    rows: items.map((x) => [{ text: when(p, x.at), sort: sortTime(x.at) }, x.who, x.what, { text: x.note, cls: 'wrap' }, x.clause]),
    empty: '没有记录。',
  };
}
