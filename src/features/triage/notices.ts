import type { Db } from '../../db/client';
import { formatInstantInChinese, type WorkCalendar } from '../../domain/calendar';
import { ladder, type Timer } from '../../domain/timers';
import type { PlaybookRule } from '../../domain/playbooks';
import type { Person } from '../../core/context';
import { holdNotice, mention } from '../roster';
import { personById, routeOf, type Io, type Suggestion } from './shared';

/** The people a suggestion concerns (its handler and supervisor), for a follow-up notice's real @. */
export async function whoOf(tx: Db, s: Pick<Suggestion, 'handlerId' | 'supervisorId'>): Promise<Person[]> {
  return [await personById(tx, s.handlerId), await personById(tx, s.supervisorId)].filter((p): p is Person => !!p);
}

/** A follow-up about a suggestion, where its first notice went, with the same real @. */
export async function postAbout(io: Io, s: Suggestion, text: string, key: string) {
  const who = await whoOf(io.tx, s);
  const payload = { text: `${text}${who.length ? `\n${who.map(mention).join(' ')}` : ''}`, mentions: who.map((p) => p.userid) };
  const route = await routeOf(io.tx, s);
  if (route.kind === 'unrouted') await holdNotice(io.tx, s.departmentId, payload, io.now, key);
  else await io.post({ platform: route.group.platform, conversationId: route.group.conversationId }, payload, key);
}

const RUNG_WORDS: Record<string, string> = { due: '提醒主管', overdue_head: '通报部门负责人', overdue_management: '报总经办' };

/** The suggestion's ladder in words, from the timer that drives it: 「10:10 提醒主管，10:30 通报部门负责人，11:00 报总经办」. */
export function ladderLine(t: Timer, rule: PlaybookRule, cal: WorkCalendar, now: Date): string {
  return ladder(t, rule, cal)
    .filter((s) => RUNG_WORDS[s.step])
    .map((s) => `${formatInstantInChinese(s.at, cal, { now })} ${RUNG_WORDS[s.step]}`)
    .join('，');
}
