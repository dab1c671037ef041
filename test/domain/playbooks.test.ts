import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROLES } from '../../src/db/schema/core';
import {
  DEFAULT_PLAYBOOKS_DOCUMENT,
  MENTION_ROLES,
  ORDER_EVENTS,
  PlaybookError,
  SERVICE_TYPES,
  appliesToService,
  dateRulesFor,
  loadPlaybooks,
  orderSeriesActive,
  parsePlaybooks,
  rulesCompletedBy,
  rulesStartedBy,
  scheduleRules,
  type PlaybookRule,
} from '../../src/domain/playbooks';

const playbook = loadPlaybooks();

/**
 * Every row of SERVICE-RULES.md's order table: service, clause, and the durations its rules must carry
 * ("2wd" = 2 working days, "45d" calendar days, "2w" weeks, "1m" months). A missing or changed rule fails here.
 */
const ORDER_TABLE: { service: string; clause: string; durations: string[] }[] = [
  { service: '专利', clause: '3.1.2', durations: ['2wd'] },
  { service: '专利', clause: '3.1.3', durations: ['1wd'] },
  { service: '专利', clause: '3.1.6', durations: ['3wd'] },
  { service: '专利', clause: '3.1.7', durations: ['10wd'] },
  { service: '专利', clause: '3.1.1', durations: ['0wd', '4wd'] }, // weekly list; weekly chase for the 交底书
  { service: '集成电路布图', clause: '3.1.9', durations: ['2wd'] },
  { service: '软件', clause: '3.3.2', durations: ['1wd'] },
  { service: '软件', clause: '3.3.3', durations: ['2wd'] },
  { service: '软件', clause: '3.3.5', durations: ['5wd'] },
  { service: '软件', clause: '3.3.6', durations: ['2w', '5wd'] },
  { service: '软件', clause: '3.3.8', durations: ['3wd'] },
  { service: '软件', clause: '3.3.9', durations: ['1m'] },
  { service: '商标', clause: '3.4.2', durations: ['1wd'] },
  { service: '商标', clause: '3.4.3', durations: ['1wd'] },
  { service: '商标', clause: '3.4.4', durations: ['2wd'] },
  { service: '商标', clause: '3.4.5', durations: ['3wd'] },
  { service: '专利流程事务', clause: '3.2.3', durations: ['30d', '45d', '5wd'] },
  { service: '专利流程事务', clause: '3.2.4', durations: ['0wd', '2wd', '2wd', '3wd'] },
  { service: '专利流程事务', clause: '3.2.5', durations: ['0wd', '0wd'] },
  { service: '专利流程事务', clause: '3.2.6', durations: ['2wd', '5wd', '5wd'] },
  { service: '审计', clause: '2.1.2 (审计)', durations: ['2wd'] },
  { service: '审计', clause: '2.1.3 (审计)', durations: ['3wd'] },
  { service: '审计', clause: '2.2.2.7 (审计)', durations: ['1d'] },
  { service: '审计', clause: '2.1.6 (审计)', durations: ['2wd'] },
  { service: '审计', clause: '2.2.6.3 (审计)', durations: ['2d'] },
  { service: '审计', clause: '2.3.7 (审计)', durations: ['0.25wd'] }, // urgent supplement, like 3.4.8 (项目)
  ...['专利', '集成电路布图', '软件', '商标', '专利流程事务', '财税'].map((service) => ({
    service,
    clause: '3.4.8 (项目), 2.3.7 (审计)', // the exception every playbook handles (SERVICE-RULES)
    durations: ['0.25wd'],
  })),
  { service: '财税', clause: '3.2 (财税)', durations: ['2wd'] },
  { service: '财税', clause: '3.3 (财税)', durations: ['3wd'] },
  ...['高新', '资助'].flatMap((service) => [
    { service, clause: '3.1.2 (项目)', durations: ['2wd', '3wd'] },
    { service, clause: '3.1.6 (项目)', durations: ['2wd'] },
    { service, clause: '3.1.7 (项目)', durations: ['2wd'] },
    { service, clause: '3.1.8 (项目)', durations: ['1wd'] },
    { service, clause: '3.1.12 (项目)', durations: ['1wd'] },
    { service, clause: '3.4.8 (项目)', durations: ['0.25wd'] }, // exception that is a clock
  ]),
  { service: '资助', clause: '3.3.3.1 (项目)', durations: ['2wd'] },
  { service: '资助', clause: '3.3.3.2 (项目)', durations: ['1wd', '3wd'] },
  { service: '资助', clause: '3.3.5.1.1 (项目)', durations: ['2wd'] },
  { service: '资助', clause: '3.3.9.1 (项目)', durations: ['12m', '5wd', '6m'] }, // check-ins; acceptance ≤1 year / longer
  { service: '资助', clause: '4.3.9.2, 4.3.9.5 (项目)', durations: ['3wd'] },
  { service: 'all', clause: '4.2.2.1 (项目)', durations: ['1w'] },
  { service: 'all', clause: '2.1.1 (审计), 3.1.1 (项目)', durations: ['0wd'] },
];

const SHORT: Record<string, string> = { workingDays: 'wd', calendarDays: 'd', weeks: 'w', months: 'm', minutes: 'min' };
const short = (r: PlaybookRule) => `${r.duration.amount}${SHORT[r.duration.unit]}`;

describe('default playbooks', () => {
  it('load and validate: every rule has a unique id and known service types', () => {
    expect(playbook.rules.length).toBe(56);
    expect(new Set(playbook.rules.map((r) => r.id)).size).toBe(playbook.rules.length);
    for (const r of playbook.rules) {
      if (r.services !== 'all') for (const s of r.services) expect(SERVICE_TYPES).toContain(s);
      expect(r.step).toMatch(/[\u4e00-\u9fff]/);
      expect(r.ladder.overdue.length).toBeGreaterThan(0);
    }
  });

  it.each(ORDER_TABLE)('has the order-table row $service $clause with durations $durations', ({ service, clause, durations }) => {
    const rules = playbook.rules.filter(
      (r) => r.clause === clause && (service === 'all' ? r.services === 'all' : r.services !== 'all' && r.services.includes(service as never)),
    );
    expect(rules.map(short).sort()).toEqual([...durations].sort());
  });

  it('has no rule the order table does not list', () => {
    const listed = new Set(ORDER_TABLE.map((row) => row.clause));
    expect(playbook.rules.filter((r) => !listed.has(r.clause)).map((r) => r.id)).toEqual([]);
  });

  it('records why the non-clock exceptions are not clocks', () => {
    const byClause = playbook.exceptions.map((e) => `${e.handling}: ${e.clause}`).join('\n');
    expect(byClause).toContain('pause: 3.5.2');
    expect(byClause).toMatch(/not-a-clock: 3\.5\.1, 3\.5\.3/);
    expect(byClause).toMatch(/not-a-clock: 3\.5\.5/);
    expect(byClause).toMatch(/clock: 3\.4\.8/);
  });

  it('mentions only roles the database knows', () => {
    expect([...MENTION_ROLES]).toEqual([...ROLES]);
  });

  it('client-facing rules carry polite client texts', () => {
    const client = playbook.rules.filter((r) => r.audience === 'client');
    expect(client.map((r) => r.id).sort()).toEqual(['grant.defence-ppt', 'project.tell-client-originals']);
    for (const r of client) expect(r.clientText).toMatch(/^尊敬的\{client\}：您好！/);
  });

  it('uses only the documented order events', () => {
    for (const r of playbook.rules) {
      if (r.trigger.kind === 'event') expect(ORDER_EVENTS).toContain(r.trigger.event);
      for (const e of r.completedBy) expect(ORDER_EVENTS).toContain(e);
    }
  });
});

describe('rule selection', () => {
  it('starts the rules of the event and service only', () => {
    const ids = rulesStartedBy(playbook, 'order.created', { serviceType: '专利', paid: false }).map((r) => r.id);
    expect(ids).toEqual(['patent.assign']);
    const audit = rulesStartedBy(playbook, 'order.created', { serviceType: '审计', paid: false }).map((r) => r.id);
    expect(audit.sort()).toEqual(['audit.joint-coaching', 'audit.research']);
  });

  it('项目 3.1.2: an unpaid order waits for payment.confirmed', () => {
    const unpaid = rulesStartedBy(playbook, 'order.created', { serviceType: '高新', paid: false }).map((r) => r.id);
    expect(unpaid).toEqual([]);
    const paidLater = rulesStartedBy(playbook, 'payment.confirmed', {
      serviceType: '高新',
      paid: true,
      occurred: ['order.created'],
    }).map((r) => r.id);
    expect(paidLater.sort()).toEqual(['project.contact-client', 'project.research']);
    const paidAtOnce = rulesStartedBy(playbook, 'order.created', { serviceType: '资助', paid: true }).map((r) => r.id);
    expect(paidAtOnce.sort()).toEqual(['project.contact-client', 'project.research']);
  });

  it('3.1.7: drafting starts on complete materials only when paid, else on payment', () => {
    expect(rulesStartedBy(playbook, 'materials.complete', { serviceType: '专利', paid: false })).toEqual([]);
    const later = rulesStartedBy(playbook, 'payment.confirmed', { serviceType: '专利', paid: true, occurred: ['materials.complete'] });
    expect(later.map((r) => r.id)).toEqual(['patent.draft']);
    const notYet = rulesStartedBy(playbook, 'payment.confirmed', { serviceType: '专利', paid: true, occurred: [] });
    expect(notYet.map((r) => r.id)).toEqual([]);
  });

  it('conditions on order fields pick the right 专利流程 and acceptance rules', () => {
    const annuity = rulesStartedBy(playbook, 'payment.confirmed', { serviceType: '专利流程事务', paid: true, fields: { 事务: '年费' } });
    expect(annuity.map((r) => r.id)).toEqual(['patent-process.annuity-pay']);
    const change = rulesStartedBy(playbook, 'payment.confirmed', { serviceType: '专利流程事务', paid: true, fields: { 事务: '许可' } });
    expect(change.map((r) => r.id)).toEqual(['patent-process.change-contact']);
    const short = dateRulesFor(playbook, { serviceType: '资助', paid: true, fields: { 合同结束: '2027-06-30', 执行期月数: '12' } });
    expect(short.map((r) => r.id)).toEqual(['grant.acceptance-short']);
    const long = dateRulesFor(playbook, { serviceType: '资助', paid: true, fields: { 合同结束: '2028-06-30', 执行期月数: '24' } });
    expect(long.map((r) => r.id)).toEqual(['grant.acceptance-long']);
    expect(dateRulesFor(playbook, { serviceType: '资助', paid: true, fields: { 合同结束: 'soon', 执行期月数: '24' } })).toEqual([]);
  });

  it('finds the rules an event completes', () => {
    expect(rulesCompletedBy(playbook, 'order.assigned', { serviceType: '软件' }).map((r) => r.id)).toEqual(['software.assign']);
    expect(rulesCompletedBy(playbook, 'payment.confirmed', { serviceType: '商标' }).map((r) => r.id)).toEqual(['trademark.search']);
  });

  it('runs an order series from its start event until a completing event', () => {
    const chase = playbook.byId.get('patent.chase-disclosure')!;
    expect(orderSeriesActive(chase, { serviceType: '专利', paid: true, occurred: [] })).toBe(false);
    expect(orderSeriesActive(chase, { serviceType: '专利', paid: true, occurred: ['order.assigned'] })).toBe(true);
    expect(orderSeriesActive(chase, { serviceType: '专利', paid: true, occurred: ['order.assigned', 'proposal.received'] })).toBe(false);
    expect(scheduleRules(playbook, 'order').map((r) => r.id).sort()).toEqual(['grant.checkins', 'patent.chase-disclosure']);
  });

  it('"all" rules apply to every service type', () => {
    const all = playbook.byId.get('all.client-record')!;
    for (const s of SERVICE_TYPES) expect(appliesToService(all, s)).toBe(true);
  });
});

describe('override file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'playbooks-'));
  const write = (name: string, body: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof body === 'string' ? body : JSON.stringify(body));
    return path;
  };

  it('changes a number, disables a rule and adds a rule', () => {
    const path = write('ok.json', {
      version: 1,
      rules: [
        { id: 'patent.assign', duration: { amount: 3, unit: 'workingDays' } },
        { id: 'tax.coaching', enabled: false },
        {
          id: 'tax.monthly-visit',
          services: ['财税'],
          step: '完成代账客户的月度邮件回访',
          clause: '7.1.3 (财税)',
          trigger: { kind: 'schedule', cron: '0 9 1 * *', scope: 'department' },
          duration: { amount: 5, unit: 'workingDays' },
        },
      ],
    });
    const p = loadPlaybooks({ overridePath: path });
    expect(p.byId.get('patent.assign')!.duration).toEqual({ amount: 3, unit: 'workingDays' });
    expect(p.byId.get('patent.assign')!.clause).toBe('3.1.2');
    expect(p.byId.has('tax.coaching')).toBe(false);
    expect(p.byId.get('tax.monthly-visit')!.ladder).toEqual(p.defaults.ladder);
  });

  it('reports every problem with the rule id', () => {
    const path = write('bad.json', {
      rules: [
        { id: 'patent.assign', duration: { amount: 2, unit: 'fortnights' } },
        { id: 'audit.research', trigger: { kind: 'event', event: 'order.teleported' } },
      ],
    });
    try {
      loadPlaybooks({ overridePath: path });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PlaybookError);
      const msg = (e as PlaybookError).problems.join('\n');
      expect(msg).toContain('rules[patent.assign].duration.unit');
      expect(msg).toContain('rules[audit.research].trigger.event');
    }
  });

  it('fails loudly on a missing file or broken JSON', () => {
    expect(() => loadPlaybooks({ overridePath: join(dir, 'nope.json') })).toThrow(PlaybookError);
    expect(() => loadPlaybooks({ overridePath: write('broken.json', '{ rules: ') })).toThrow(/not valid JSON/);
  });

  it('rejects a client rule without text, client text with internal words, and a bad cron pattern', () => {
    const client = { audience: 'client', mention: [] };
    expect(() => parsePlaybooks(DEFAULT_PLAYBOOKS_DOCUMENT, { rules: [{ id: 'audit.research', ...client }] })).toThrow(/clientText/);
    expect(() =>
      parsePlaybooks(DEFAULT_PLAYBOOKS_DOCUMENT, { rules: [{ id: 'audit.research', ...client, clientText: '尊敬的{client}：您的事项已超时' }] }),
    ).toThrow(/internal words/);
    expect(() =>
      parsePlaybooks(DEFAULT_PLAYBOOKS_DOCUMENT, {
        rules: [{ id: 'patent.weekly-list', trigger: { kind: 'schedule', cron: '0 0 9 * * 1', scope: 'department' } }],
      }),
    ).toThrow(/5-field/);
    expect(() =>
      parsePlaybooks(DEFAULT_PLAYBOOKS_DOCUMENT, {
        rules: [{ id: 'patent.weekly-list', trigger: { kind: 'schedule', cron: '0 25 * * 1', scope: 'department' } }],
      }),
    ).toThrow(/node-cron/);
  });

  it('3.3.9.1 (项目): a series counted from an order date has no cron pattern and order scope', () => {
    const every = { field: '合同开始', months: 4 };
    expect(() =>
      parsePlaybooks(DEFAULT_PLAYBOOKS_DOCUMENT, {
        rules: [{ id: 'grant.checkins', trigger: { kind: 'schedule', cron: '0 9 1 1,5,9 *', every, scope: 'order' } }],
      }),
    ).toThrow(/either a cron pattern or an "every" series/);
    expect(() =>
      parsePlaybooks(DEFAULT_PLAYBOOKS_DOCUMENT, { rules: [{ id: 'grant.checkins', trigger: { kind: 'schedule', scope: 'order' } }] }),
    ).toThrow(/either a cron pattern or an "every" series/);
    expect(() =>
      parsePlaybooks(DEFAULT_PLAYBOOKS_DOCUMENT, { rules: [{ id: 'patent.weekly-list', trigger: { kind: 'schedule', every, scope: 'department' } }] }),
    ).toThrow(/scope is order/);
    const checkins = playbook.byId.get('grant.checkins')!;
    expect(checkins.trigger).toMatchObject({ kind: 'schedule', every: { field: '合同开始', months: 4 } });
  });
});
