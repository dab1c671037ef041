import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { departments, groups, outbox, people, type OutboxPayload } from '../../db/schema';

type Group = typeof groups.$inferSelect;

/**
 * Where a department's notices go: its 部门群, the one internal group `/部门群` last set for it
 * (groups.department_id is unique, so there is no "oldest group wins"). Never a client group.
 */
export async function departmentGroup(tx: Db, departmentId: number | null): Promise<Group | null> {
  if (!departmentId) return null;
  const [g] = await tx
    .select()
    .from(groups)
    .where(and(eq(groups.departmentId, departmentId), eq(groups.kind, 'internal')));
  return g ?? null;
}

/** 总经办's group: the 部门群 of the department its members (role 总经办) belong to, set by `/部门群 总经办`. */
export async function managementGroup(tx: Db): Promise<Group | null> {
  const [row] = await tx
    .selectDistinct({ g: groups })
    .from(groups)
    .innerJoin(people, and(eq(people.departmentId, groups.departmentId), eq(people.role, 'management'), eq(people.active, true)))
    .where(eq(groups.kind, 'internal'))
    .orderBy(asc(groups.departmentId))
    .limit(1);
  return row?.g ?? null;
}

export type NoticeRoute =
  | { kind: 'department'; group: Group }
  /** The department has no 部门群: the notice goes here instead, saying why. */
  | { kind: 'fallback'; group: Group; note: string }
  /** Nowhere to go: kept as an `unrouted` outbox row until `/部门群` sets a group. */
  | { kind: 'unrouted'; departmentName: string };

/**
 * The route of a department notice, decided once so the post, the reply and the timeline agree:
 * its 部门群; else the internal group where the matter was logged; else 总经办's group; else held.
 */
export async function noticeRoute(tx: Db, departmentId: number | null, opts: { loggedIn?: Group | null } = {}): Promise<NoticeRoute> {
  const own = await departmentGroup(tx, departmentId);
  if (own) return { kind: 'department', group: own };
  const [dept] = departmentId ? await tx.select().from(departments).where(eq(departments.id, departmentId)) : [];
  const name = dept?.name ?? '本部门';
  const note = `（${name}还没有部门群，此通知先发到这里；请部门负责人在部门内部群发送 /部门群 ${dept?.name ?? '<部门名称>'} 设置。）`;
  if (opts.loggedIn && opts.loggedIn.kind === 'internal') return { kind: 'fallback', group: opts.loggedIn, note };
  const mgmt = await managementGroup(tx);
  if (mgmt) return { kind: 'fallback', group: mgmt, note };
  return { kind: 'unrouted', departmentName: name };
}

/** A group's name for a reply or a timeline entry. */
export const groupName = (g: Pick<Group, 'title' | 'conversationId'>) => g.title ?? g.conversationId;

/** The hold key of a department's notices that have nowhere to go (outbox.hold_key; timer subjects' `hold`). */
export const departmentHold = (departmentId: number | null): { key: string | null } => ({ key: departmentId ? `dept:${departmentId}` : null });

/** Keeps a notice that has nowhere to go (visible in `/发送失败 全部`; released by `/部门群`). */
export async function holdNotice(tx: Db, departmentId: number | null, payload: OutboxPayload, now: Date, dedupeKey?: string | null): Promise<boolean> {
  const rows = await tx
    .insert(outbox)
    .values({ platform: '', conversationId: '', payload, dedupeKey: dedupeKey ?? null, status: 'unrouted', holdKey: departmentHold(departmentId).key, nextAttemptAt: now, createdAt: now })
    .onConflictDoNothing({ target: outbox.dedupeKey })
    .returning({ id: outbox.id });
  return rows.length > 0;
}

/**
 * A group became a department's 部门群: the notices held for that department (and, for 总经办's
 * department, those held for any department) go out there now, in the order they were kept.
 */
export async function releaseHeldNotices(tx: Db, departmentId: number, group: Group, now: Date): Promise<number> {
  const isManagement = (
    await tx
      .select({ id: people.id })
      .from(people)
      .where(and(eq(people.departmentId, departmentId), eq(people.role, 'management'), eq(people.active, true)))
      .limit(1)
  ).length > 0;
  const held = await tx
    .select()
    .from(outbox)
    .where(and(eq(outbox.status, 'unrouted'), isManagement ? undefined : eq(outbox.departmentId, departmentId)))
    .orderBy(asc(outbox.id))
    .for('update');
  if (!held.length) return 0;
  const names = new Map(
    (await tx.select().from(departments).where(inArray(departments.id, [...new Set(held.map((h) => h.departmentId ?? 0))]))).map((d) => [d.id, d.name]),
  );
  for (const h of held) {
    const other = h.departmentId !== departmentId;
    const text = other ? `（${names.get(h.departmentId ?? 0) ?? '该部门'}还没有部门群，此前未能发出的通知转到这里。）\n${h.payload.text}` : h.payload.text;
    await tx
      .update(outbox)
      .set({
        platform: group.platform,
        conversationId: group.conversationId,
        status: 'pending',
        payload: { ...h.payload, text, internal: true },
        nextAttemptAt: now,
      })
      .where(and(eq(outbox.id, h.id), eq(outbox.status, 'unrouted')));
  }
  return held.length;
}
