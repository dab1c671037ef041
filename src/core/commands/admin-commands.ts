import { asc, eq } from 'drizzle-orm';
import { departments, groups, people } from '../../db/schema';
import { normaliseServiceType, SERVICE_TYPES } from '../../domain/service-types';
import { parseRole, ROLE_NAMES } from '../../domain/roles';
import type { ParsedArgs } from '../command-parser';
import { findDepartment, resolvePerson, type ChatContext } from '../context';
import { PermissionError, UserInputError } from '../errors';
import type { RobotSetting } from '../types';

export async function memberAdd(ctx: ChatContext, args: ParsedArgs) {
  const userid = String(args.userid).trim();
  if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(userid))
    throw new UserInputError(`「${userid}」不是有效的 userid（字母、数字、_ . @ -，最多 64 位）。`);
  const role = parseRole(String(args.role));
  if (!role) throw new UserInputError(`「${args.role}」不是已知角色。可选：${Object.values(ROLE_NAMES).join('、')}。`);
  const deptName = String(args.dept).trim();
  const actor = ctx.actor;
  const actorIsTop = actor.isAdmin || actor.person?.role === 'management';
  let dept = await findDepartment(ctx.tx, deptName);
  if (!actorIsTop) {
    // A department head manages the roster of their own department only.
    if (!dept || dept.id !== actor.person?.departmentId)
      throw new PermissionError('抱歉，部门负责人只能登记本部门的成员。');
    if (role === 'management') throw new PermissionError('抱歉，总经办成员需由总经办或管理员登记。');
  }
  if (!dept && args.newDept !== true) {
    // A typo (专利部 → 专例部) must not quietly found a department: list what exists.
    const names = (await ctx.tx.select({ name: departments.name }).from(departments).orderBy(asc(departments.id))).map((d) => d.name);
    throw new UserInputError(
      `抱歉，还没有「${deptName}」这个部门。${names.length ? `现有部门：${names.join('、')}。` : '目前还没有任何部门。'}` +
        `如果确实要新建，请在命令末尾加上「新建部门」，或先用 /部门 添加 ${deptName} 业务=… 设置。`,
    );
  }
  if (!dept) {
    const [created] = await ctx.tx.insert(departments).values({ name: deptName }).returning();
    dept = created!;
    await ctx.audit('department.created', `department:${dept.id}`, { name: deptName });
  }
  const supervisor = args.supervisor ? await resolvePerson(ctx.tx, String(args.supervisor), ctx.message.mentions) : null;
  if (supervisor && supervisor.userid === userid) throw new UserInputError('上级不能是本人。');
  const isAdmin = args.admin === true;
  if (isAdmin && !actorIsTop) throw new PermissionError('抱歉，只有管理员或总经办可以设置管理员。');
  const existing = (await ctx.tx.select().from(people).where(eq(people.userid, userid)))[0];
  const values = {
    name: String(args.name).trim(),
    departmentId: dept.id,
    role,
    supervisorId: supervisor?.id ?? null,
    isAdmin: isAdmin || (existing?.isAdmin ?? false),
    active: true,
  };
  if (existing) {
    await ctx.tx.update(people).set(values).where(eq(people.id, existing.id));
  } else {
    await ctx.tx.insert(people).values({ userid, ...values, createdAt: ctx.now });
  }
  await ctx.audit(existing ? 'member.updated' : 'member.added', `person:${userid}`, {
    ...values,
    supervisor: supervisor?.userid ?? null,
  });
  ctx.reply(
    `${existing ? '已更新' : '已登记'}成员：${values.name}（${userid}），${dept.name}，${ROLE_NAMES[role]}` +
      `${supervisor ? '，上级 ' + supervisor.name : ''}${values.isAdmin ? '，管理员' : ''}。谢谢！`,
  );
}

export async function memberList(ctx: ChatContext, args: ParsedArgs) {
  const rows = await ctx.tx
    .select({ p: people, dept: departments.name })
    .from(people)
    .leftJoin(departments, eq(departments.id, people.departmentId))
    .where(eq(people.active, true))
    .orderBy(asc(departments.name), asc(people.id));
  const wanted = args.dept ? String(args.dept) : null;
  const shown = wanted ? rows.filter((r) => r.dept === wanted) : rows;
  if (shown.length === 0) {
    ctx.reply(wanted ? `「${wanted}」还没有登记成员。` : '名册还是空的。请管理员用 /成员 添加 登记同事。');
    return;
  }
  const names = new Map(rows.map((r) => [r.p.id, r.p.name]));
  const lines = [`名册（${shown.length} 人）：`];
  for (const { p, dept } of shown.slice(0, 100)) {
    const sup = p.supervisorId ? `，上级 ${names.get(p.supervisorId) ?? '—'}` : '';
    lines.push(`· ${p.name}（${p.userid}）${dept ?? '—'}｜${ROLE_NAMES[p.role]}${sup}${p.isAdmin ? '｜管理员' : ''}`);
  }
  if (shown.length > 100) lines.push(`……另有 ${shown.length - 100} 人，请按部门查看。`);
  ctx.reply(lines.join('\n'));
}

export async function deptAdd(ctx: ChatContext, args: ParsedArgs) {
  const name = String(args.name).trim();
  if (!name || name.length > 50) throw new UserInputError('部门名称不能为空，最多 50 字。');
  const services: string[] = [];
  for (const s of String(args.services ?? '')
    .split(/[,，、]/)
    .map((x) => x.trim())
    .filter(Boolean)) {
    const t = normaliseServiceType(s);
    if (!t) throw new UserInputError(`「${s}」不是已知的业务类型。可选：${SERVICE_TYPES.join('、')}。`);
    services.push(t);
  }
  const existing = await findDepartment(ctx.tx, name);
  if (existing) {
    await ctx.tx.update(departments).set({ services }).where(eq(departments.id, existing.id));
  } else {
    await ctx.tx.insert(departments).values({ name, services });
  }
  await ctx.audit(existing ? 'department.updated' : 'department.created', `department:${name}`, { services });
  ctx.reply(`${existing ? '已更新' : '已添加'}部门「${name}」${services.length ? '，承接业务：' + services.join('、') : ''}。`);
}

export async function deptList(ctx: ChatContext) {
  const rows = await ctx.tx.select().from(departments).orderBy(asc(departments.id));
  if (rows.length === 0) {
    ctx.reply('还没有部门。请总经办用 /部门 添加 <部门名称> 业务=… 设置。');
    return;
  }
  ctx.reply(['部门：', ...rows.map((d) => `· ${d.name}${d.services.length ? '：' + d.services.join('、') : ''}`)].join('\n'));
}

/**
 * `/群 类型=…` and `/群 机器人=… [密钥=…]`. The robot's secret never appears in a reply, the audit
 * trail or a log line: only the summary the platform gives.
 */
export async function groupSet(ctx: ChatContext, args: ParsedArgs, robotSetting?: RobotSetting) {
  const form = '请写明要设置的内容，例如：/群 类型=客户，或 /群 机器人=<Webhook 地址或 key>。';
  if (args.kind === undefined && args.robot === undefined) throw new UserInputError(`抱歉，${form}`);
  let secret = args.secret === undefined ? undefined : String(args.secret);
  if (args.extra !== undefined) {
    // Only a signing secret may follow the robot; never echo what was written (it may be a secret).
    const m = /^(?:[^=＝:：\s]+[=＝:：])?(SEC\S+)$/.exec(String(args.extra).trim());
    if (args.robot === undefined || !m || secret !== undefined) {
      throw new UserInputError(`抱歉，命令后面有无法识别的内容。${form}`);
    }
    secret = m[1];
  }
  if (secret !== undefined && args.robot === undefined) throw new UserInputError('抱歉，密钥需要和机器人一起设置：/群 机器人=<Webhook 地址> 密钥=<SEC…>。');

  const lines: string[] = [];
  if (args.kind !== undefined) {
    const kind = args.kind === '客户' || args.kind === 'client' ? 'client' : 'internal';
    await ctx.tx.update(groups).set({ kind }).where(eq(groups.id, ctx.group.id));
    await ctx.audit('group.kind_set', `group:${ctx.group.id}`, { kind });
    lines.push(
      kind === 'client'
        ? '本群已设为客户群：内部信息（名册、记录、提醒升级）不会在这里显示。'
        : '本群已设为内部群。',
    );
  }
  if (args.robot !== undefined) {
    if (!robotSetting) throw new UserInputError('抱歉，这个平台不需要设置机器人，消息会直接发到本群。');
    const r = robotSetting(ctx.message.platform, { robot: String(args.robot), secret }, ctx.group.route ?? null);
    if (!r.ok) throw new UserInputError(`抱歉，${r.reason}`);
    await ctx.tx.update(groups).set({ route: r.route }).where(eq(groups.id, ctx.group.id));
    await ctx.audit('group.robot_set', `group:${ctx.group.id}`, { robot: r.summary });
    lines.push(`已设置本群发消息用的机器人：${r.summary}。之后的回复和提醒会通过它发到本群，谢谢！`);
  }
  ctx.reply(lines.join('\n'));
}

export async function groupDept(ctx: ChatContext, args: ParsedArgs) {
  const dept = await findDepartment(ctx.tx, String(args.dept));
  if (!dept) throw new UserInputError(`没有找到部门「${args.dept}」。可发送 /部门 列表 查看。`);
  const p = ctx.actor.person;
  if (!(ctx.actor.isAdmin || p?.role === 'management' || p?.departmentId === dept.id))
    throw new PermissionError('抱歉，部门负责人只能设置本部门的内部群。');
  if (ctx.group.kind === 'client') throw new UserInputError('客户群不能设为部门群，请在内部群里发送这条命令。');
  await ctx.tx.update(groups).set({ departmentId: dept.id }).where(eq(groups.id, ctx.group.id));
  await ctx.audit('group.department_set', `group:${ctx.group.id}`, { department: dept.name });
  ctx.reply(`本群已设为「${dept.name}」的内部群，该部门的提醒会发到这里。`);
}
