import { and, asc, desc, eq, gte, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { CommandDef } from '../../core/commands';
import type { ChatContext } from '../../core/context';
import { mention } from '../roster';
import { managementGroup } from '../roster';
import type { DirectorySnapshot, DirectorySource } from './source';
import { UserInputError } from '../../core/errors';
import type { Feature, FeatureWorker, RouteContext } from '../../core/feature';
import { safeErrorMessage } from '../../log';
import { enqueue, writeAudit } from '../../core/records';
import type { Db } from '../../db/client';
import { departments, directorySyncs, orders, people } from '../../db/schema';
import { orderCode } from '../../domain/orders';
import { ROLE_NAMES } from '../../domain/roles';
import { emptyPlan, planDirectorySync, type RosterEntry, type SyncPlan } from './directory-plan';
import { DirectoryReadTimeout, readWithin } from './read';

/** A proposal can be confirmed for one day; after that the directory is read again. */
export type { DirectoryDepartment, DirectoryMember, DirectorySource } from './source';
export const PROPOSAL_TTL_MS = 24 * 60 * 60 * 1000;
const OPEN = ['new', 'assigned', 'paused'] as const;
/** The daily job proposes at most once in this span, however many instances run it. */
const DAILY_EVERY_MS = 20 * 60 * 60 * 1000;
/** A claimed request stays invisible to other rounds and instances this long (longer than reading the directories). */
const REQUEST_LEASE_MS = 2 * 60_000;
/** Reads of one request before the bot gives up and says so. */
const REQUEST_MAX_ATTEMPTS = 3;
/** The bound on one whole read of the directories (below REQUEST_LEASE_MS). */
export const DIRECTORY_READ_TIMEOUT_MS = 60_000;
const EMPTY_DIRECTORY = '抱歉，通讯录没有读到任何成员（可能是应用没有通讯录读取权限）。名册未做任何修改，请检查权限后再试。';

const SYNC: CommandDef = {
  id: 'member.sync',
  zh: ['成员', '同步'],
  en: ['member', 'sync'],
  summary: '从企业微信/钉钉通讯录读取部门和成员，列出名册要做的变更；加「确认」后执行',
  usage: '/成员 同步 [确认]',
  example: '/成员 同步',
  args: { flags: [{ key: 'confirm', names: ['确认', 'confirm'] }] },
  gate: ['management'],
  internal: true,
};

async function rosterOf(tx: Db): Promise<RosterEntry[]> {
  const rows = await tx
    .select({ p: people, dept: departments.name })
    .from(people)
    .leftJoin(departments, eq(departments.id, people.departmentId))
    .orderBy(asc(people.id));
  return rows.map((r) => ({ userid: r.p.userid, name: r.p.name, department: r.dept, role: r.p.role, isAdmin: r.p.isAdmin, active: r.p.active }));
}

/** The plan in Chinese, one line per change. */
export function describePlan(plan: SyncPlan): string[] {
  const lines: string[] = [];
  if (plan.adds.length) {
    lines.push(`新成员 ${plan.adds.length} 人（角色为建议，确认前可用 /成员 添加 调整）：`);
    for (const a of plan.adds) lines.push(`  · ${a.name}（${a.userid}），${a.department ?? '未分部门'}，建议角色：${ROLE_NAMES[a.role]}`);
  }
  if (plan.returning.length) lines.push(`重新出现在通讯录（恢复为在职，角色不变）：${plan.returning.map((r) => `${r.name}（${r.userid}）`).join('、')}`);
  if (plan.leavers.length) lines.push(`已不在通讯录（将标为离职）：${plan.leavers.map((r) => `${r.name}（${r.userid}）`).join('、')}`);
  for (const r of plan.renames) lines.push(`改名：${r.from} → ${r.to}（${r.userid}）`);
  for (const m of plan.moves) lines.push(`调部门：${m.name} ${m.from ?? '未分部门'} → ${m.to}`);
  if (plan.newDepartments.length) lines.push(`将新建部门：${plan.newDepartments.join('、')}`);
  for (const h of plan.roleHints) {
    lines.push(`提示：通讯录显示 ${h.name} 是${h.department}的负责人，名册角色为${ROLE_NAMES[h.role]}。角色不会自动修改，如需调整请用 /成员 添加。`);
  }
  return lines;
}

/** The plan of directories already read against the roster (in the caller's transaction); null: the directories are empty. */
async function planOf(tx: Db, snaps: DirectorySnapshot[]): Promise<SyncPlan | null> {
  if (snaps.every((s) => s.members.length === 0)) return null;
  const depts = (await tx.select({ name: departments.name }).from(departments)).map((d) => d.name);
  return planDirectorySync(snaps, await rosterOf(tx), depts);
}

/** What the group hears about a plan. */
function proposalText(plan: SyncPlan): string {
  if (emptyPlan(plan)) return ['名册已与通讯录一致，没有需要同步的变更。谢谢！', ...describePlan(plan)].join('\n');
  return [`通讯录同步方案（尚未修改名册）：`, ...describePlan(plan), `确认无误请发送：/成员 同步 确认`].join('\n');
}

async function departmentId(tx: Db, name: string | null, ctx: ChatContext): Promise<number | null> {
  if (!name) return null;
  const [d] = await tx.select().from(departments).where(eq(departments.name, name));
  if (d) return d.id;
  const [created] = await tx.insert(departments).values({ name, createdAt: ctx.now }).returning();
  await ctx.audit('department.created', `department:${created!.id}`, { name, source: 'directory' });
  return created!.id;
}

/** Apply a stored plan. Idempotent per item; roles and admin flags of existing people are never written. */
async function apply(ctx: ChatContext, plan: SyncPlan): Promise<string[]> {
  const tx = ctx.tx;
  const lines: string[] = [];
  const byUserid = async (userid: string) => (await tx.select().from(people).where(eq(people.userid, userid)))[0];
  let added = 0;
  for (const a of plan.adds) {
    if (await byUserid(a.userid)) continue;
    const deptId = await departmentId(tx, a.department, ctx);
    await tx.insert(people).values({ userid: a.userid, name: a.name, departmentId: deptId, role: a.role, createdAt: ctx.now });
    await ctx.audit('member.added', `person:${a.userid}`, { name: a.name, department: a.department, role: a.role, source: 'directory' });
    added++;
  }
  // Supervisors after everyone is in: the leader may be one of the new people.
  for (const a of plan.adds) {
    if (!a.supervisor) continue;
    const sup = await byUserid(a.supervisor);
    if (sup) await tx.update(people).set({ supervisorId: sup.id }).where(and(eq(people.userid, a.userid), isNull(people.supervisorId)));
  }
  if (added) lines.push(`已登记新成员 ${added} 人（角色为建议角色，如需调整请用 /成员 添加）。`);
  for (const r of plan.returning) {
    await tx.update(people).set({ active: true }).where(eq(people.userid, r.userid));
    await ctx.audit('member.reactivated', `person:${r.userid}`, { source: 'directory' });
  }
  for (const r of plan.renames) {
    await tx.update(people).set({ name: r.to }).where(eq(people.userid, r.userid));
    await ctx.audit('member.renamed', `person:${r.userid}`, { from: r.from, to: r.to, source: 'directory' });
  }
  for (const m of plan.moves) {
    const deptId = await departmentId(tx, m.to, ctx);
    await tx.update(people).set({ departmentId: deptId }).where(eq(people.userid, m.userid));
    await ctx.audit('member.moved', `person:${m.userid}`, { from: m.from, to: m.to, source: 'directory' });
  }
  const mentions: string[] = [];
  for (const l of plan.leavers) {
    const p = await byUserid(l.userid);
    if (!p || !p.active) continue;
    await tx.update(people).set({ active: false }).where(eq(people.id, p.id));
    await ctx.audit('member.deactivated', `person:${l.userid}`, { source: 'directory' });
    const open = await tx
      .select({ id: orders.id })
      .from(orders)
      .where(and(eq(orders.handlerId, p.id), inArray(orders.status, [...OPEN])))
      .orderBy(asc(orders.id));
    if (!open.length) {
      lines.push(`${p.name} 已标为离职，名下没有进行中的分配单。`);
      continue;
    }
    // 4.5.1: the leaver's direct leader names who takes the work over.
    const [leader] = p.supervisorId
      ? await tx.select().from(people).where(and(eq(people.id, p.supervisorId), eq(people.active, true)))
      : p.departmentId
        ? await tx.select().from(people).where(and(eq(people.departmentId, p.departmentId), eq(people.role, 'head'), eq(people.active, true)))
        : [];
    if (leader) mentions.push(leader.userid);
    lines.push(
      `${p.name} 已标为离职，名下进行中的分配单：${open.map((o) => orderCode(o.id)).join('、')}。` +
        `请${leader ? ` ${mention(leader)} ` : '直属领导'}指定接替人并用 /转交 办理交接（4.5.1），辛苦了！`,
    );
  }
  if (plan.renames.length || plan.moves.length || plan.returning.length) {
    lines.push(`已更新姓名/部门/在职状态 ${plan.renames.length + plan.moves.length + plan.returning.length} 项；任何人的角色和管理员身份均未改动。`);
  }
  ctx.reply(lines.join('\n') || '名册已与通讯录一致。', mentions);
  return lines;
}

/**
 * 通讯录同步: `/成员 同步` reads the configured directories (WeCom, DingTalk) and lists what would
 * change; `/成员 同步 确认` applies the latest proposal. `proposeDaily` is the daily job: it stores a
 * proposal and tells the management group, once a day across instances (the outbox dedupe key).
 */
export function directoryFeature(deps: { sources: readonly DirectorySource[]; readTimeoutMs?: number }): Feature {
  return {
    name: 'directory',
    ...(deps.sources.length ? { worker: (wc: RouteContext) => directoryWorker(wc, deps.sources, { readTimeoutMs: deps.readTimeoutMs }) } : {}),
    help: { topic: '管理', words: ['通讯录', '同步'] },
    commands: [
      {
        spec: SYNC,
        handler: async (ctx, args) => {
          if (!deps.sources.length) {
            throw new UserInputError('抱歉，还没有配置可读取的通讯录（企业微信需 WECOM_CORP_ID 和 WECOM_CORP_SECRET，钉钉需 DINGTALK_APP_KEY 和 DINGTALK_APP_SECRET）。可以继续用 /成员 添加 逐个登记。');
          }
          if (args.confirm === true) {
            const [latest] = await ctx.tx
              .select()
              .from(directorySyncs)
              .where(and(eq(directorySyncs.status, 'proposed'), isNull(directorySyncs.appliedAt), gte(directorySyncs.createdAt, new Date(ctx.now.getTime() - PROPOSAL_TTL_MS))))
              .orderBy(desc(directorySyncs.id))
              .limit(1);
            if (!latest) throw new UserInputError('没有待确认的同步方案（方案一天内有效）。请先发送 /成员 同步 查看变更。');
            await apply(ctx, latest.plan as unknown as SyncPlan);
            await ctx.tx.update(directorySyncs).set({ appliedAt: ctx.now, appliedBy: ctx.actor.userid }).where(eq(directorySyncs.id, latest.id));
            return;
          }
          // The directories are read by the worker with no transaction open (a slow contact API must not
          // hold this message's locks); the plan is answered in this group when it is ready.
          const [pending] = await ctx.tx
            .select({ id: directorySyncs.id })
            .from(directorySyncs)
            .where(and(eq(directorySyncs.status, 'requested'), eq(directorySyncs.platform, ctx.message.platform), eq(directorySyncs.conversationId, ctx.message.conversationId)));
          if (pending) {
            ctx.reply('通讯录正在读取中，读完后会在本群列出变更，请稍候。谢谢！');
            return;
          }
          const [row] = await ctx.tx
            .insert(directorySyncs)
            .values({ status: 'requested', plan: null, requestedBy: ctx.actor.userid, platform: ctx.message.platform, conversationId: ctx.message.conversationId, createdAt: ctx.now, nextAttemptAt: ctx.now })
            .returning({ id: directorySyncs.id });
          await ctx.audit('directory.requested', `directory_sync:${row!.id}`, {});
          ctx.reply(`好的，正在读取${deps.sources.map((x) => PLATFORM_NAMES[x.platform] ?? x.platform).join('和')}通讯录，读完后会在本群列出名册要做的变更（在您确认前不会修改名册）。`);
        },
      },
    ],
  };
}

/**
 * The daily job: read the directories (no transaction open), store a proposal when something changed,
 * and tell the management group (once a day across instances: the outbox dedupe key). Returns the
 * proposal id.
 */
export async function proposeDirectoryChanges(db: Db, sources: readonly DirectorySource[], now: Date, readTimeoutMs = DIRECTORY_READ_TIMEOUT_MS): Promise<number | null> {
  if (!sources.length) return null;
  // Once a day: every instance runs the job. Checked before reading, and again when storing.
  const recent = async (t: Db) =>
    (
      await t
        .select({ id: directorySyncs.id })
        .from(directorySyncs)
        .where(and(eq(directorySyncs.requestedBy, 'daily'), gte(directorySyncs.createdAt, new Date(now.getTime() - DAILY_EVERY_MS))))
        .limit(1)
    ).length > 0;
  if (await recent(db)) return null;
  const snaps = await readWithin(sources, readTimeoutMs);
  return db.transaction(async (tx) => {
    const t = tx as unknown as Db;
    // Two instances that read at the same moment: the advisory lock lets one store the day's proposal.
    await t.execute(sql`select pg_advisory_xact_lock(hashtext('directory:daily'))`);
    if (await recent(t)) return null;
    const plan = await planOf(t, snaps);
    if (!plan || emptyPlan(plan)) return null;
    const [row] = await t.insert(directorySyncs).values({ plan: plan as unknown as Record<string, unknown>, requestedBy: 'daily', createdAt: now }).returning({ id: directorySyncs.id });
    const group = await managementGroup(t);
    if (group) {
      const day = now.toISOString().slice(0, 10);
      await enqueue(t, {
        platform: group.platform,
        conversationId: group.conversationId,
        payload: { text: ['今日通讯录有变化，待确认：', ...describePlan(plan), '请总经办或管理员发送 /成员 同步 确认 执行，谢谢！'].join('\n'), mentions: [], internal: true },
        dedupeKey: `directory:${day}`,
        now,
      });
    }
    await writeAudit(t, { at: now, actor: null, action: 'directory.proposed', subject: `directory_sync:${row!.id}`, data: { daily: true } });
    return row!.id;
  });
}

type SyncRow = typeof directorySyncs.$inferSelect;

/**
 * The `/成员 同步` requests' worker, leased like the triage jobs: a request is claimed under FOR UPDATE
 * SKIP LOCKED (next_attempt_at = the lease's end, the claim's fencing token), the directories are read
 * with no transaction open, and the plan is stored and answered in one short transaction that re-checks
 * the lease, so a request is answered once even when a slow read outlives its lease. A read that keeps
 * failing is given up after REQUEST_MAX_ATTEMPTS with a polite answer; the roster is never touched.
 */
export function directoryWorker(wc: RouteContext, sources: readonly DirectorySource[], opts: { readTimeoutMs?: number | undefined } = {}): FeatureWorker {
  const { db, clock, log } = wc;
  const readTimeoutMs = opts.readTimeoutMs ?? DIRECTORY_READ_TIMEOUT_MS;

  async function claim(): Promise<SyncRow[]> {
    const now = clock();
    return db.transaction(async (tx) => {
      const due = await tx
        .select()
        .from(directorySyncs)
        .where(and(eq(directorySyncs.status, 'requested'), lte(directorySyncs.nextAttemptAt, now)))
        .orderBy(asc(directorySyncs.id))
        .limit(5)
        .for('update', { skipLocked: true });
      if (!due.length) return [];
      return tx
        .update(directorySyncs)
        .set({ nextAttemptAt: new Date(now.getTime() + REQUEST_LEASE_MS), attempts: sql`${directorySyncs.attempts} + 1` })
        .where(inArray(directorySyncs.id, due.map((r) => r.id)))
        .returning();
    });
  }

  /** Runs `apply` if the claim still holds the request; false when it was lost. */
  async function commit(job: SyncRow, apply: (tx: Db, now: Date) => Promise<void>): Promise<boolean> {
    return db.transaction(async (tx) => {
      const [row] = await tx.select().from(directorySyncs).where(eq(directorySyncs.id, job.id)).for('update');
      if (!row || row.status !== 'requested' || row.nextAttemptAt?.getTime() !== job.nextAttemptAt?.getTime()) return false;
      await apply(tx as unknown as Db, clock());
      return true;
    });
  }

  async function answer(tx: Db, job: SyncRow, text: string, now: Date, key = `directory-request:${job.id}`) {
    const [who] = await tx.select().from(people).where(eq(people.userid, job.requestedBy));
    await enqueue(tx, {
      platform: job.platform!,
      conversationId: job.conversationId!,
      payload: { text: who ? `${text}\n${mention(who)}` : text, mentions: who ? [who.userid] : [], internal: true },
      dedupeKey: key,
      now,
    });
  }

  return {
    name: 'directory',
    async runOnce() {
      const jobs = await claim();
      for (const job of jobs) {
        let snaps: DirectorySnapshot[];
        try {
          snaps = await readWithin(sources, readTimeoutMs);
        } catch (err) {
          const timedOut = err instanceof DirectoryReadTimeout;
          const error = timedOut ? err.message : safeErrorMessage(err);
          const why = timedOut ? `通讯录接口超过 ${Math.max(1, Math.ceil(readTimeoutMs / 1000))} 秒没有读完` : '平台接口暂时不可用或应用权限不足';
          const giveUp = job.attempts >= REQUEST_MAX_ATTEMPTS;
          log.warn({ directorySync: job.id, attempts: job.attempts, err: error }, giveUp ? 'reading the directories failed; request given up' : 'reading the directories failed; will retry');
          await commit(job, async (tx, now) => {
            await tx.update(directorySyncs).set({ lastError: error, ...(giveUp ? { status: 'failed' as const } : {}) }).where(eq(directorySyncs.id, job.id));
            if (giveUp) await answer(tx, job, `抱歉，多次读取通讯录都没有成功（${why}），名册未做任何修改。请稍后再发送 /成员 同步，或继续用 /成员 添加 逐个登记。`, now);
            // The first failure is said at once (once per request): the group is not left waiting in silence.
            else if (job.attempts === 1) {
              await answer(
                tx,
                job,
                `抱歉，这次读取通讯录没有成功（${why}），名册未做任何修改。约 ${Math.round(REQUEST_LEASE_MS / 60_000)} 分钟后会自动重试（最多 ${REQUEST_MAX_ATTEMPTS} 次），读完后在本群列出变更。`,
                now,
                `directory-request:${job.id}:retry`,
              );
            }
          });
          continue;
        }
        await commit(job, async (tx, now) => {
          const plan = await planOf(tx, snaps);
          if (!plan) {
            await tx.update(directorySyncs).set({ status: 'failed', lastError: 'empty directory' }).where(eq(directorySyncs.id, job.id));
            await answer(tx, job, EMPTY_DIRECTORY, now);
            return;
          }
          // A plan with nothing to do is settled at once: there is nothing to confirm.
          const nothing = emptyPlan(plan);
          await tx
            .update(directorySyncs)
            .set({ status: 'proposed', plan: plan as unknown as Record<string, unknown>, createdAt: now, ...(nothing ? { appliedAt: now, appliedBy: 'none' } : {}) })
            .where(eq(directorySyncs.id, job.id));
          if (!nothing) await writeAudit(tx, { at: now, actor: null, action: 'directory.proposed', subject: `directory_sync:${job.id}`, data: { adds: plan.adds.length, leavers: plan.leavers.length } });
          await answer(tx, job, proposalText(plan), now);
        });
      }
      return jobs.length;
    },
  };
}

const PLATFORM_NAMES: Record<string, string> = { wecom: '企业微信', dingtalk: '钉钉' };
