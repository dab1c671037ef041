import { outsiderMessages } from './outsider-messages';
import { and, asc, eq } from 'drizzle-orm';
import { clients, departments, groups, people } from '../../db/schema';
import { orderCode } from '../../domain/orders';
import { normaliseServiceType, SERVICE_TYPES } from '../../domain/service-types';
import { parseRole, ROLE_NAMES } from '../../domain/roles';
import type { ParsedArgs } from '../../core/command-parser';
import { type ChatContext } from '../../core/context';
import { findDepartment, resolvePerson } from './people';
import { namesakes } from './member-remove';
import { departmentGroup, groupName, managementGroup, releaseHeldNotices } from './department-group';
import { PermissionError, UserInputError } from '../../core/errors';
import type { RobotSetting, RouteDescription } from '../../core/types';

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
  const name = String(args.name).trim();
  // A second 「张工」 would make every @张工 ambiguous: warn, suggest a distinguishing name, or take 确认.
  const same = await namesakes(ctx.tx, name, userid);
  if (same.length && args.confirm !== true) {
    const suggestion = same.some((s) => s.dept === deptName) ? `${name}${same.length + 1}` : `${name}（${deptName}）`;
    throw new UserInputError(
      `请注意：名册里已有${same.length > 1 ? ` ${same.length} 位` : ''}「${name}」：${same.map((s) => `${s.userid}，${s.dept ?? '未分部门'}，${ROLE_NAMES[s.role]}`).join('；')}。` +
        `同名之后，命令里写「@${name}」将无法分辨是哪一位，只能改写 userid。\n` +
        `请换一个能区分的姓名（例如 姓名=${suggestion}）重新发送；如果确实要用同一个姓名，请在命令末尾加上「确认」重新发送。`,
    );
  }
  if (!dept) {
    const [created] = await ctx.tx.insert(departments).values({ name: deptName, createdAt: ctx.now }).returning();
    dept = created!;
    await ctx.audit('department.created', `department:${dept.id}`, { name: deptName });
  }
  const supervisor = args.supervisor ? await resolvePerson(ctx.tx, String(args.supervisor), ctx.message.mentions) : null;
  if (supervisor && supervisor.userid === userid) throw new UserInputError('上级不能是本人。');
  const isAdmin = args.admin === true;
  if (isAdmin && !actorIsTop) throw new PermissionError('抱歉，只有管理员或总经办可以设置管理员。');
  const existing = (await ctx.tx.select().from(people).where(eq(people.userid, userid)))[0];
  const values = {
    name,
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
    ...(same.length ? { namesakes: same.map((s) => s.userid) } : {}),
    supervisor: supervisor?.userid ?? null,
  });
  ctx.reply(
    `${existing ? '已更新' : '已登记'}成员：${values.name}（${userid}），${dept.name}，${ROLE_NAMES[role]}` +
      `${supervisor ? '，上级 ' + supervisor.name : ''}${values.isAdmin ? '，管理员' : ''}。` +
      (same.length ? `与 ${same.map((s) => s.userid).join('、')} 同名：命令里提到同名的同事时请写 userid 区分。` : '') +
      '谢谢！',
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
    await ctx.tx.insert(departments).values({ name, services, createdAt: ctx.now });
  }
  await ctx.audit(existing ? 'department.updated' : 'department.created', `department:${name}`, { services });
  ctx.reply(`${existing ? '已更新' : '已添加'}部门「${name}」${services.length ? '，承接业务：' + services.join('、') : ''}。`);
}

export async function deptList(ctx: ChatContext) {
  const rows = await ctx.tx
    .select({ d: departments, g: groups })
    .from(departments)
    .leftJoin(groups, and(eq(groups.departmentId, departments.id), eq(groups.kind, 'internal')))
    .orderBy(asc(departments.id));
  if (rows.length === 0) {
    ctx.reply('还没有部门。请总经办用 /部门 添加 <部门名称> 业务=… 设置。');
    return;
  }
  // The group shown is the row the notices are routed by (department-group.ts), not a second copy.
  const mgmt = await managementGroup(ctx.tx);
  const lines = rows.map(({ d, g }) => {
    const where = g ? `部门群「${groupName(g)}」` : `部门群未设置（提醒暂发到${mgmt ? `「${groupName(mgmt)}」` : '登记投诉的内部群，否则保留待发'}）`;
    return `· ${d.name}${d.services.length ? '：' + d.services.join('、') : ''}｜${where}`;
  });
  ctx.reply(['部门：', ...lines, '设置部门群：在该部门的内部群里发送 /部门群 <部门名称>。'].join('\n'));
}

/** People outside the roster who have spoken in this group (client contacts), newest first. */
async function outsidersWhoSpoke(ctx: ChatContext): Promise<string[]> {
  const rows = await outsiderMessages(ctx.tx, ctx.group, { limit: 200 });
  const names = new Map<string, string>();
  for (const r of rows) if (!names.has(r.sender) && r.sender !== ctx.actor.userid) names.set(r.sender, r.name ?? r.sender);
  return [...names.values()];
}

/**
 * `/群 类型=…` and `/群 机器人=… [密钥=…]`. The robot's secret never appears in a reply, the audit
 * trail or a log line: only the summary the platform gives.
 */
export async function groupSet(ctx: ChatContext, args: ParsedArgs, robotSetting?: RobotSetting, describeRoute?: RouteDescription) {
  const form = '请写明要设置的内容，例如：/群 类型=客户，或 /群 机器人=<Webhook 地址或 key>。';
  if (args.kind === undefined && args.robot === undefined && args.appChat === undefined) {
    if (args.extra !== undefined || args.secret !== undefined || args.confirm === true) throw new UserInputError(`抱歉，${form}`);
    return await groupShow(ctx, form, describeRoute);
  }
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
  if (args.confirm === true && args.kind === undefined) throw new UserInputError('抱歉，「确认」只用于 /群 类型=内部 确认。');
  if (args.kind !== undefined) {
    const kind = args.kind === '客户' || args.kind === 'client' ? 'client' : 'internal';
    const risks: string[] = [];
    if (kind === 'internal') {
      // A group with people outside the firm must not turn internal by one message: internal replies
      // (/查 shows the owner, payment state and every log line) would then be shown to them.
      const outsiders = await outsidersWhoSpoke(ctx);
      if (outsiders.length) {
        const shown = outsiders.slice(0, 3).join('、') + (outsiders.length > 3 ? ` 等 ${outsiders.length} 人` : '');
        risks.push(`本群有不在名册里的人发过言（${shown}），可能是客户`);
      }
      if (ctx.group.kind === 'client') risks.push('本群目前是客户群');
      if (risks.length && args.confirm !== true) {
        throw new UserInputError(
          `请注意：${risks.join('；')}。设为内部群后，/查 等命令会在这里显示负责人、收款情况和全部记录，群里的每个人都能看到。\n` +
            '如果确认本群只有本公司同事（客户已移出），请发送：/群 类型=内部 确认',
        );
      }
    }
    let leftDept: string | null = null;
    if (kind === 'client' && ctx.group.departmentId) {
      // A client group is never a department's group: the department's notices stop coming here.
      const [d] = await ctx.tx.select().from(departments).where(eq(departments.id, ctx.group.departmentId));
      leftDept = d?.name ?? null;
      await ctx.tx.update(groups).set({ departmentId: null }).where(eq(groups.id, ctx.group.id));
      await ctx.audit('group.department_unset', `group:${ctx.group.id}`, { department: leftDept, reason: 'client' });
    }
    await ctx.tx.update(groups).set({ kind }).where(eq(groups.id, ctx.group.id));
    await ctx.audit('group.kind_set', `group:${ctx.group.id}`, { kind, ...(risks.length ? { confirmedRisks: risks } : {}) });
    lines.push(
      kind === 'client'
        ? '本群已设为客户群：内部信息（名册、记录、提醒升级）不会在这里显示。'
        : risks.length
          ? '已按您的确认把本群设为内部群。请确保客户已不在群里。'
          : '本群已设为内部群。',
    );
    if (leftDept) lines.push(`本群不再是「${leftDept}」的部门群，该部门的提醒不会再发到这里；请部门负责人在部门内部群发送 /部门群 ${leftDept} 重新设置。`);
  }
  if (args.robot !== undefined) {
    if (!robotSetting) throw new UserInputError('抱歉，这个平台不需要设置机器人，消息会直接发到本群。');
    const r = robotSetting(ctx.message.platform, { robot: String(args.robot), secret }, ctx.group.route ?? null);
    if (!r.ok) throw new UserInputError(`抱歉，${r.reason}`);
    await ctx.tx.update(groups).set({ route: r.route }).where(eq(groups.id, ctx.group.id));
    await ctx.audit('group.robot_set', `group:${ctx.group.id}`, { robot: r.summary });
    lines.push(`已设置本群发消息用的机器人：${r.summary}。之后的回复和提醒会通过它发到本群，谢谢！`);
  }
  if (args.appChat !== undefined) {
    if (!robotSetting) throw new UserInputError('抱歉，这个平台没有应用群聊。');
    const r = robotSetting(ctx.message.platform, { appChat: String(args.appChat) }, ctx.group.route ?? null);
    if (!r.ok) throw new UserInputError(`抱歉，${r.reason}`);
    await ctx.tx.update(groups).set({ route: r.route }).where(eq(groups.id, ctx.group.id));
    await ctx.audit('group.appchat_set', `group:${ctx.group.id}`, { channel: r.summary });
    lines.push(`已设置本群为${r.summary}：没有群机器人时，回复和提醒会经自建应用发到本群，谢谢！`);
  }
  ctx.reply(lines.join('\n'));
}

/**
 * `/群` alone: the group's settings (kind, whose department group it is, the client and order bound
 * to it, how the bot reaches it: whether an @ there notifies the person), then how to change them.
 */
async function groupShow(ctx: ChatContext, form: string, describeRoute?: RouteDescription) {
  const g = ctx.group;
  const kind = g.kind === 'client' ? '客户群' : '内部群';
  const [dept] = g.departmentId ? await ctx.tx.select().from(departments).where(eq(departments.id, g.departmentId)) : [];
  const [client] = g.clientId ? await ctx.tx.select().from(clients).where(eq(clients.id, g.clientId)) : [];
  const channels = describeRoute ? describeRoute(ctx.message.platform, g.route ?? null) : [];
  ctx.reply(
    [
      `本群「${groupName(g)}」的设置：`,
      `· 类型：${kind}${dept ? `，「${dept.name}」的部门群` : ''}`,
      `· 绑定的客户：${client ? client.name : '未绑定'}`,
      `· 绑定的分配单：${g.orderId ? orderCode(g.orderId) : '未绑定（/绑定 D12）'}`,
      ...(channels.length ? ['· 发消息的渠道：', ...channels] : []),
      form.replace('请写明要设置的内容，例如', '修改设置'),
    ].join('\n'),
  );
}

/**
 * `/部门群 <部门>`: this group becomes the department's one 部门群 (groups.department_id is unique).
 * The group that stops being it is told so; notices held for lack of a group go out here now.
 */
export async function groupDept(ctx: ChatContext, args: ParsedArgs) {
  const dept = await findDepartment(ctx.tx, String(args.dept));
  if (!dept) throw new UserInputError(`没有找到部门「${args.dept}」。可发送 /部门 列表 查看。`);
  const p = ctx.actor.person;
  if (!(ctx.actor.isAdmin || p?.role === 'management' || p?.departmentId === dept.id))
    throw new PermissionError('抱歉，部门负责人只能设置本部门的内部群。');
  if (ctx.group.kind === 'client') throw new UserInputError('客户群不能设为部门群，请在内部群里发送这条命令。');
  const here = groupName(ctx.group);
  const old = await departmentGroup(ctx.tx, dept.id);
  if (old?.id === ctx.group.id) {
    ctx.reply(`本群已经是「${dept.name}」的部门群，该部门的提醒会发到这里，不需要重新设置。`);
    return;
  }
  const lines: string[] = [];
  if (ctx.group.departmentId && ctx.group.departmentId !== dept.id) {
    const [prev] = await ctx.tx.select().from(departments).where(eq(departments.id, ctx.group.departmentId));
    lines.push(`本群不再是「${prev?.name ?? '原部门'}」的部门群，该部门的提醒不会再发到这里；请该部门负责人另行设置 /部门群 ${prev?.name ?? ''}。`);
    await ctx.audit('group.department_unset', `group:${ctx.group.id}`, { department: prev?.name ?? null, reason: 'moved', to: dept.name });
  }
  if (old) {
    await ctx.tx.update(groups).set({ departmentId: null }).where(eq(groups.id, old.id));
    await ctx.audit('group.department_unset', `group:${old.id}`, { department: dept.name, reason: 'moved', to: here });
    await ctx.post(
      { platform: old.platform, conversationId: old.conversationId },
      { text: `本群不再是「${dept.name}」的部门群：${ctx.actor.displayName} 已把部门群改为「${here}」，之后该部门的提醒会发到那里。谢谢！`, mentions: [] },
      `notice:department-group-moved:${dept.id}:${old.id}:${ctx.message.platform}:${ctx.message.messageId}`,
    );
  }
  await ctx.tx.update(groups).set({ departmentId: dept.id }).where(eq(groups.id, ctx.group.id));
  await ctx.audit('group.department_set', `group:${ctx.group.id}`, { department: dept.name, previous: old ? groupName(old) : null });
  const released = await releaseHeldNotices(ctx.tx, dept.id, ctx.group, ctx.now);
  lines.unshift(
    `本群已设为「${dept.name}」的部门群，该部门的提醒（分配单、投诉、报告）都会发到这里。` +
      (old ? `原部门群「${groupName(old)}」已收到通知，不再收到提醒。` : ''),
  );
  if (released) lines.push(`此前因没有部门群而未能发出的 ${released} 条通知，现在发到本群。`);
  ctx.reply(lines.join('\n'));
}
