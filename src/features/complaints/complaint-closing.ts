import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { clients, departments, groups, outbox } from '../../db/schema';
import { closeBlockers, complaintCode, formatFen, parseYuan, splitOfficialFee, type ComplaintLevel } from '../../domain/complaints';
import type { ParsedArgs } from '../../core/command-parser';
import { type ChatContext, type Person } from '../../core/context';
import { mention, resolvePerson } from '../roster';
import { UserInputError } from '../../core/errors';
import { formatInstant } from '../../domain/calendar/format-instant';
import { complaintFacts } from './complaint-clocks';
import { managementGroups } from './complaint-rate-review';
import { refuse, complaintId, personById, headsOf, managementPeople, type ComplaintKit } from './complaint-kit';

/** Levels, closing, reports and money: /定级 /报告 /自查 /结案 /赠送 (4.3–4.4). */
export function createClosingCommands(kit: ComplaintKit) {
  const { pb, clocks, load, record, set, clockLines, roleIn, notifyDepartment, isHere, visitLine, salesGroup } = kit;

  async function complaintLevel(ctx: ChatContext, args: ParsedArgs) {
    const c = await load(ctx.tx, complaintId(args.ref), true);
    const r = await roleIn(ctx, c);
    const code = complaintCode(c.id);
    if (!(r.isSupervisor || r.isHead || r.isManagement)) refuse(`抱歉，${code} 的级别需由主管或部门负责人确认。`);
    if (c.status === 'closed') throw new UserInputError(`抱歉，${code} 已经结案了。`);
    const to = (args.level ? String(args.level).toUpperCase() : c.level ? null : c.proposedLevel) as ComplaintLevel | null;
    if (!to) throw new UserInputError(`抱歉，请写出级别：/定级 ${code} A|B|C|D [原因]`);
    const reason = (args.reason as string | undefined)?.trim() ?? null;
    if (c.level === to) throw new UserInputError(`抱歉，${code} 已经是 ${to} 级了。`);
    if (c.level && !reason) throw new UserInputError(`抱歉，调整已确认的级别需要写明原因：/定级 ${code} ${to} <原因>`);
    if (!c.level && to !== c.proposedLevel && !reason)
      throw new UserInputError(`抱歉，建议级别是 ${c.proposedLevel} 级，定为 ${to} 级请写明原因：/定级 ${code} ${to} <原因>`);
    const heads = await headsOf(ctx.tx, c.departmentId);
    const owner = (to === 'B' || to === 'D') && heads[0] ? heads[0] : null;
    await set(ctx, c.id, { level: to, ...(owner ? { ownerId: owner.id } : {}) });
    await record(ctx, c, 'level', `${c.level ? `由 ${c.level} 级改为` : '定为'} ${to} 级（${pb.levels[to].name}）${reason ? '：' + reason : ''}`, {
      from: c.level,
      to,
      proposed: c.proposedLevel,
      reason,
    });
    if (owner && owner.id !== c.ownerId) await record(ctx, c, 'handover', `${pb.levels[to].handling}：由 ${owner.name} 负责`, { to: owner.userid });
    const clocksText = await clockLines(ctx, c.id, ['level-confirmed']);
    const lines = [`已将 ${code} ${c.level ? `由 ${c.level} 级调整为` : '定为'} ${to} 级（${pb.levels[to].name}），谢谢！`, `处理方式：${pb.levels[to].handling}（${pb.levels[to].clause}）`];
    const mentions: Person[] = [];
    if (to === 'B' && owner) {
      lines.push(`已立项，由 ${mention(owner)} 牵头处理。`);
      mentions.push(owner);
    }
    if (to === 'C') lines.push('请当天处理完毕。');
    if (to === 'D') {
      const mgmt = await managementPeople(ctx.tx);
      lines.push(`已作为专案处理${owner ? `，由 ${mention(owner)} 负责` : ''}，并报总经办 ${mgmt.map(mention).join(' ')}。`);
      mentions.push(...(owner ? [owner] : []), ...mgmt);
      const [client] = await ctx.tx.select().from(clients).where(eq(clients.id, c.clientId));
      const notice = `【严重投诉·专案】${code}（${client?.name ?? ''}）已定为 D 级（严重），专案处理${owner ? `，由 ${owner.name} 负责` : ''}。内容：${c.content}${reason ? `\n定级原因：${reason}` : ''}\n${mgmt.map(mention).join(' ')}`;
      for (const g of await managementGroups(ctx.tx)) {
        if (g.platform === ctx.group.platform && g.conversationId === ctx.group.conversationId) continue;
        await ctx.post({ platform: g.platform, conversationId: g.conversationId }, { text: notice, mentions: mgmt.map((p) => p.userid) }, `complaint:${c.id}:level-d:${g.conversationId}`);
      }
      await record(ctx, c, 'notified', `专案报总经办：${mgmt.map((p) => p.name).join('、')}`, { mentions: mgmt.map((p) => p.userid) });
    }
    if (c.channel === 'sales' && (to === 'C' || to === 'D')) {
      const visit = (await clocks.active(ctx.tx, c.id)).find((t) => t.ruleId === 'complaint.visit');
      if (visit && heads.length) {
        const cal = await clocks.calendar(ctx.tx);
        const line = visitLine(code, to, heads, visit.dueAt, cal, ctx.now);
        lines.push(line);
        mentions.push(...heads);
        if (!(await isHere(ctx, c))) {
          const [client] = await ctx.tx.select().from(clients).where(eq(clients.id, c.clientId));
          await notifyDepartment(ctx, c, `【上门拜访】${code}（${client?.name ?? ''}）${line}`, heads, 'visit');
        }
      }
    }
    ctx.reply(lines.join('\n') + clocksText, mentions.map((p) => p.userid));
  }

  async function complaintReport(ctx: ChatContext, args: ParsedArgs) {
    const c = await load(ctx.tx, complaintId(args.ref), true);
    const r = await roleIn(ctx, c);
    const code = complaintCode(c.id);
    if (!(r.isHead || r.isManagement)) refuse(`抱歉，${code} 的投诉处理报告由所属部门负责人登记（4.3.6）。`);
    if (c.status !== 'closed') throw new UserInputError(`抱歉，${code} 还没有结案；投诉处理报告在处理完毕后提交（4.3.6）。`);
    if (c.reportAt) throw new UserInputError(`抱歉，${code} 已在 ${formatInstant(c.reportAt)} 登记过报告。`);
    const note = String(args.note);
    const [client] = await ctx.tx.select().from(clients).where(eq(clients.id, c.clientId));
    const sales = await personById(ctx.tx, client?.salespersonId);
    const mgmt = await managementPeople(ctx.tx);
    const head = ctx.actor.person?.name ?? ctx.actor.displayName;
    const salesTo = sales ? await salesGroup(ctx.tx, c, sales) : null;

    // One post per group: the report to 总经办, the copy to the salesperson with a real @ (one post when they share a group).
    type Post = { platform: string; conversationId: string; title: string | null; text: string[]; mentions: Person[] };
    const posts = new Map<string, Post>();
    const add = (g: { platform: string; conversationId: string; title: string | null }, text: string, who: Person[]) => {
      const k = `${g.platform}:${g.conversationId}`;
      const p = posts.get(k) ?? { platform: g.platform, conversationId: g.conversationId, title: g.title, text: [], mentions: [] };
      p.text.push(text);
      p.mentions.push(...who);
      posts.set(k, p);
    };
    for (const g of await managementGroups(ctx.tx)) {
      add(g, `【投诉处理报告】${code}（${client?.name ?? ''}）：${note}\n部门负责人 ${head} 呈老板，请审阅（4.3.6）。`, mgmt);
    }
    if (sales && salesTo) {
      add(salesTo, `【投诉处理报告·抄送业务员】${code}（${client?.name ?? ''}）：${note}\n已呈老板，抄送您，便于后续跟进客户（4.3.6）。`, [sales]);
    }
    const keys: string[] = [];
    let here: Post | null = null;
    for (const p of posts.values()) {
      const who = [...new Map(p.mentions.map((x) => [x.id, x])).values()];
      const text = `${p.text.join('\n')}\n${who.map(mention).join(' ')}`;
      if (p.platform === ctx.group.platform && p.conversationId === ctx.group.conversationId) {
        here = { ...p, text: [text], mentions: who };
        continue;
      }
      const key = `complaint:${c.id}:report:${p.conversationId}`;
      await ctx.post({ platform: p.platform, conversationId: p.conversationId }, { text, mentions: who.map((x) => x.userid) }, key);
      keys.push(key);
    }
    // Where it went, read back from the outbox rows just queued.
    const queued = keys.length
      ? await ctx.tx
          .select({ conversationId: outbox.conversationId, platform: outbox.platform, mentions: sql<string[]>`${outbox.payload}->'mentions'`, title: groups.title })
          .from(outbox)
          .leftJoin(groups, and(eq(groups.platform, outbox.platform), eq(groups.conversationId, outbox.conversationId)))
          .where(inArray(outbox.dedupeKey, keys))
          .orderBy(asc(outbox.id))
      : [];
    const names = new Map([...mgmt, ...(sales ? [sales] : [])].map((p) => [p.userid, p.name]));
    const whereLines = queued.map((q) => `· 已发到「${q.title ?? q.conversationId}」：${(q.mentions ?? []).map((u) => '@' + (names.get(u) ?? u)).join(' ')}`);
    if (here) whereLines.push(`· 本群：${here.mentions.map(mention).join(' ')}`);
    const toMgmt = [...queued.map((q) => q.mentions ?? []), ...(here ? [here.mentions.map((p) => p.userid)] : [])].some((m) => mgmt.some((p) => m.includes(p.userid)));
    const toSales = !!sales && [...queued.map((q) => q.mentions ?? []), ...(here ? [here.mentions.map((p) => p.userid)] : [])].some((m) => m.includes(sales.userid));
    if (!toMgmt) whereLines.push('· 总经办还没有内部群，报告未能发给老板，请总经办用 /部门群 总经办 设置后再转达。');
    if (!sales) whereLines.push('· 该客户没有登记业务员，未抄送。');
    else if (!toSales) whereLines.push(`· 没有找到业务员 ${sales.name} 所在的内部群，未能抄送，请部门负责人另行转达。`);
    await set(ctx, c.id, { reportAt: ctx.now, reportNote: note });
    await record(ctx, c, 'reported', note, {
      to: mgmt.map((p) => p.userid),
      cc: sales?.userid ?? null,
      groups: queued.map((q) => q.conversationId),
    });
    const clocksText = await clockLines(ctx, c.id, ['reported']);
    ctx.reply(
      `已登记 ${code} 的投诉处理报告，辛苦了！\n${whereLines.join('\n')}${here ? `\n${here.text[0]}` : ''}${clocksText}`,
      here ? here.mentions.map((p) => p.userid) : [],
    );
  }

  async function complaintSelfReview(ctx: ChatContext, args: ParsedArgs) {
    const c = await load(ctx.tx, complaintId(args.ref), true);
    const r = await roleIn(ctx, c);
    const code = complaintCode(c.id);
    const isAccused = !!ctx.actor.person && ctx.actor.person.id === c.handlerId;
    if (!(isAccused || r.isHead || r.isManagement)) refuse(`抱歉，${code} 的检讨书由被投诉负责人提交、部门负责人建档。`);
    if (!c.attitude) throw new UserInputError(`抱歉，${code} 没有被认定为态度问题，不需要检讨书（4.4.1）。`);
    if (c.reviewFiledAt) throw new UserInputError(`抱歉，${code} 的检讨书已在 ${formatInstant(c.reviewFiledAt)} 建档。`);
    const note = String(args.note);
    await set(ctx, c.id, { reviewFiledAt: ctx.now, reviewNote: note });
    await record(ctx, c, 'review_filed', note);
    ctx.reply(`已将 ${code} 的投诉检讨书建档，计入年终绩效考核（4.4.1）。谢谢！${await clockLines(ctx, c.id, ['review-filed'])}`);
  }

  async function complaintClose(ctx: ChatContext, args: ParsedArgs) {
    const c = await load(ctx.tx, complaintId(args.ref), true);
    const r = await roleIn(ctx, c);
    const code = complaintCode(c.id);
    const blockers = closeBlockers({ ...complaintFacts(c), id: c.id, status: c.status, callbackAt: c.callbackAt, escalatedAt: c.escalatedAt, ownerNoteAt: c.ownerNoteAt, explainedAt: c.explainedAt });
    if (c.status === 'closed') throw new UserInputError(`抱歉，${blockers[0]!}`);
    // A: the handler may close it (负责人自行处理); B–D are the department head's.
    const allowed = c.level === 'A' || !c.level ? r.isHandler || r.isSupervisor || r.isHead || r.isOwner || r.isManagement : r.isHead || r.isManagement;
    if (!allowed) refuse(`抱歉，${code} 是 ${c.level} 级投诉，需由部门负责人结案。`);
    if (blockers.length) throw new UserInputError(`抱歉，${code} 暂时不能结案：\n${blockers.map((b) => '· ' + b).join('\n')}`);
    const note = String(args.note);
    const cause = args.cause as string | undefined;
    const attitude = cause === '态度' || cause === 'attitude';
    const [client] = await ctx.tx.select().from(clients).where(eq(clients.id, c.clientId));
    const sales = await personById(ctx.tx, client?.salespersonId);
    // 4.3.4 / 4.3.6: the salesperson hears the result; closing tells them if nobody has yet.
    const tellSales = (c.channel === 'sales' || c.channel === 'boss') && !c.salesInformedAt && !!sales;
    await set(ctx, c.id, {
      status: 'closed',
      closedAt: ctx.now,
      resolution: note,
      closeReason: cause ?? null,
      attitude,
      ...(tellSales ? { salesInformedAt: ctx.now } : {}),
    });
    await record(ctx, c, 'closed', note, { cause: cause ?? null });
    if (tellSales) await record(ctx, c, 'sales_informed', '结案通知', { sales: sales!.userid });
    const clocksText = await clockLines(ctx, c.id, ['closed']);
    const handler = await personById(ctx.tx, c.handlerId);
    const heads = await headsOf(ctx.tx, c.departmentId);
    const lines = [`${code}（${client?.name ?? ''}）已结案：${note}\n大家辛苦了，谢谢！`];
    const mentions: Person[] = [];
    if (tellSales) {
      lines.push(`${mention(sales!)} 投诉处理结果如上，便于您后续跟进客户（4.3.4）。`);
      mentions.push(sales!);
    }
    if (c.channel === 'boss') {
      lines.push(`请部门负责人${heads.map((h) => ' ' + mention(h)).join('')} 写投诉处理报告发老板并抄送业务员：/报告 ${code} <链接或摘要>（4.3.6）。`);
      mentions.push(...heads);
    }
    if (attitude && handler) {
      lines.push(`投诉原因是服务态度：请 ${mention(handler)} 写投诉检讨书，由部门负责人建档：/检讨书 ${code} <链接或摘要>（4.4.1）。`);
      mentions.push(handler);
    }
    if (c.breachedAt) lines.push(`注：本投诉的 30 分钟回电时限曾超时（${formatInstant(c.breachedAt)}），已记入投诉记录。`);
    const text = lines.join('\n') + clocksText;
    const here = await isHere(ctx, c);
    if (here) ctx.reply(text, mentions.map((p) => p.userid));
    else {
      await notifyDepartment(ctx, c, lines.join('\n'), [], 'closed');
      ctx.reply(text, mentions.map((p) => p.userid));
    }
  }

  async function complaintGift(ctx: ChatContext, args: ParsedArgs) {
    const c = await load(ctx.tx, complaintId(args.ref), true);
    const r = await roleIn(ctx, c);
    const code = complaintCode(c.id);
    if (!(r.isHead || r.isManagement)) refuse(`抱歉，${code} 的赠送服务需由部门负责人登记（4.4.2）。`);
    const previous = c.giftFeeFen !== null ? `${c.giftNote ?? ''}；官费 ${formatFen(c.giftFeeFen)}：${(c.giftShares ?? []).map((s) => `${s.name} ${formatFen(s.fen)}`).join('、')}` : null;
    if (previous && args.confirm !== true)
      throw new UserInputError(`抱歉，${code} 已登记过赠送服务：${previous}。\n如需更正，请在命令里加上「确认」，新的记录会替换原记录：/赠送 ${code} 官费=<元> 确认 <赠送的服务>`);
    const fen = parseYuan(String(args.fee));
    if (fen === null || fen === 0) throw new UserInputError(`抱歉，「官费=${args.fee}」不是有效金额，请写元，最多两位小数，如 官费=850 或 官费=1234.56。`);
    const fault = args.fault ? await resolvePerson(ctx.tx, String(args.fault), ctx.message.mentions) : await personById(ctx.tx, c.handlerId);
    if (!fault) throw new UserInputError(`抱歉，请写明工作失误人：/赠送 ${code} 官费=… 过失人=@姓名 <赠送的服务>`);
    const supervisor = (await personById(ctx.tx, fault.supervisorId)) ?? (await personById(ctx.tx, c.supervisorId));
    const [head] = await headsOf(ctx.tx, c.departmentId);
    const [dept] = c.departmentId ? await ctx.tx.select().from(departments).where(eq(departments.id, c.departmentId)) : [];
    const ratio = pb.giftSplit.byService.find((s) => dept && dept.services.length > 0 && dept.services.every((x) => s.services.includes(x))) ?? pb.giftSplit.default;
    const split = splitOfficialFee(fen, ratio);
    const shares = [
      { role: 'fault' as const, person: fault, fen: split.fault, label: '工作失误人' },
      { role: 'supervisor' as const, person: supervisor, fen: split.supervisor, label: '主管上级' },
      { role: 'head' as const, person: head ?? null, fen: split.head, label: '部门负责人' },
    ];
    const note = String(args.note);
    await set(ctx, c.id, {
      giftFeeFen: fen,
      giftNote: note,
      giftShares: shares.map((s) => ({ role: s.role, personId: s.person?.id ?? null, name: s.person?.name ?? '—', fen: s.fen })),
    });
    const ratioText = `${ratio.fault}:${ratio.supervisor}:${ratio.head}`;
    const shareText = shares.filter((s) => s.fen > 0 || ratio[s.role] > 0).map((s) => `${s.label} ${s.person?.name ?? '—'} ${formatFen(s.fen)}`).join('；');
    await record(ctx, c, 'gift', `赠送：${note}；官费 ${formatFen(fen)} 按 ${ratioText} 分担：${shareText}`, { fen, ratio: ratioText, shares: split });
    ctx.reply(
      `${previous ? `已更正 ${code} 的赠送服务（替换原记录：${previous}）` : `已登记 ${code} 的赠送服务`}：${note}\n官费 ${formatFen(fen)}，按 ${ratioText}（${ratio.clause}）分担：\n${shares
        .map((s) => `· ${s.label} ${s.person?.name ?? '—'}：${formatFen(s.fen)}`)
        .join('\n')}\n赠送服务不提取提成。谢谢！`,
    );
  }

  return {
    handlers: {
      'complaint.level': complaintLevel,
      'complaint.report': complaintReport,
      'complaint.selfreview': complaintSelfReview,
      'complaint.close': complaintClose,
      'complaint.gift': complaintGift,
    } as Record<string, (ctx: ChatContext, args: ParsedArgs) => Promise<void>>,
  };
}
