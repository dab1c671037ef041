import { describe, expect, it } from 'vitest';
import { editDistance, normaliseDate, parseCommand, stripInvisible, tokenize } from '../../src/core/command-parser';
import { COMMANDS, parseWith } from '../helpers/commands';

const parse = parseWith(COMMANDS);

describe('tokenize', () => {
  it('splits on ASCII and full-width spaces and keeps quoted text together', () => {
    expect(tokenize('单 新建\u3000客户="华星 科技" 类型=专利').map((t) => t.value)).toEqual(['单', '新建', '客户=华星 科技', '类型=专利']);
    expect(tokenize('进度 D1 “已 联系”').map((t) => t.value)).toEqual(['进度', 'D1', '已 联系']);
  });
});

describe('every command parses in Chinese and English, from its own example', () => {
  for (const c of COMMANDS) {
    it(`${c.id}: example, Chinese name and English alias`, () => {
      const r = parse(c.example);
      expect(r.ok, JSON.stringify(r)).toBe(true);
      if (r.ok) expect(r.command.id).toBe(c.id);
      const english = c.example.replace(`/${c.zh.join(' ')}`, `/${c.en.join(' ')}`);
      const re = parse(english);
      expect(re.ok && re.command.id).toBe(c.id);
      for (const alias of c.aliases ?? []) {
        const ra = parse(c.example.replace(`/${c.zh.join(' ')}`, `/${alias.join(' ')}`));
        expect(ra.ok && ra.command.id).toBe(c.id);
      }
    });
  }
});

describe('arguments', () => {
  it('reads named arguments, flags and person references for /单 新建', () => {
    const r = parse('/单 新建 客户=华星科技 类型=专利 业务员=@王业务 截止=2026-12-20 已付款');
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.args).toEqual({ client: '华星科技', type: '专利', sales: '@王业务', deadline: '2026-12-20', paid: true });
  });
  it('accepts full-width = and ： as separators, and the full-width slash', () => {
    const r = parse('／单 新建 客户：华星科技 类型＝专利 业务员=wang');
    expect(r.ok && r.args.client).toBe('华星科技');
    expect(r.ok && r.args.type).toBe('专利');
  });
  it('keeps the free-text rest verbatim, including = and spaces', () => {
    const r = parse('/进度 D12 客户说 a=b  明天 再谈');
    expect(r.ok && r.args).toEqual({ order: 12, note: '客户说 a=b  明天 再谈' });
  });
  it('reads order codes case-insensitively', () => {
    const r = parse('/派单 d7 zhangsan');
    expect(r.ok && r.args).toEqual({ order: 7, person: 'zhangsan' });
  });
  it('normalises dates and refuses impossible ones', () => {
    expect(normaliseDate('2026-2-3')).toBe('2026-02-03');
    expect(normaliseDate('2026/12/20')).toBe('2026-12-20');
    expect(normaliseDate('2026-02-30')).toBeNull();
  });
});

describe('malformed commands get the right polite form', () => {
  const cases: [string, string, RegExp][] = [
    ['/派单 D12', 'order.assign', /缺少负责人/],
    ['/派单 12 张三', 'order.assign', /不是分配单编号/],
    ['/单 新建 客户=华星科技', 'order.new', /缺少「类型=/],
    ['/单 新建 客户=a 类型=专利 业务员=w 截止=2026-13-01', 'order.new', /不是有效日期/],
    ['/单 新建 客户=a 客户=b 类型=专利 业务员=w', 'order.new', /写了两次/],
    ['/单 新建 客户=a 类型=专利 业务员=w 颜色=红', 'order.new', /不认识参数「颜色」/],
    ['/进度 D12', 'order.step', /缺少步骤或备注/],
    ['/暂停 D3', 'order.pause', /缺少暂停原因/],
    ['/转交 D3 @李四', 'order.transfer', /缺少转交原因/],
    ['/收款 D3 D4', 'order.paid', /多了一个参数/],
    ['/群 类型=朋友', 'group.set', /类型只能是/],
    ['/单 列表 昨天', 'order.list', /范围只能是/],
    ['/查', 'show', /缺少编号/],
    ['/成员 添加 zhangsan 姓名=张三 角色=负责人', 'member.add', /缺少「部门=/],
  ];
  for (const [text, id, why] of cases) {
    it(`${text} → ${why}`, () => {
      const r = parse(text);
      expect(r.ok).toBe(false);
      if (!r.ok && r.reason === 'invalid') {
        expect(r.command.id).toBe(id);
        expect(r.message).toMatch(/^抱歉，/);
        expect(r.message).toMatch(why);
        expect(r.message).toContain(`正确格式：${r.command.usage}`);
        expect(r.message).toContain('例如：');
      } else {
        throw new Error(`expected invalid, got ${JSON.stringify(r)}`);
      }
    });
  }
});

describe('unknown commands and plain text', () => {
  it('suggests the closest command', () => {
    const r = parse('/派 D12 张三');
    expect(r.ok).toBe(false);
    if (!r.ok && r.reason === 'unknown') {
      expect(r.suggestion?.id).toBe('order.assign');
      expect(r.message).toContain('/帮助');
    } else throw new Error('expected unknown');
    const en = parse('/asign D1 x');
    expect(!en.ok && en.reason === 'unknown' && en.suggestion?.id).toBe('order.assign');
  });
  it('offers no wild guess for gibberish, but still points to /帮助', () => {
    const r = parse('/天气预报');
    expect(!r.ok && r.reason === 'unknown' && r.suggestion).toBeUndefined();
    expect(!r.ok && r.reason === 'unknown' && r.message).toContain('/帮助');
  });
  it('treats text without a slash as not a command', () => {
    expect(parse('你好，请问进度如何？')).toEqual({ ok: false, reason: 'not_command' });
    expect(parse('/')).toEqual({ ok: false, reason: 'not_command' });
  });
  it('edit distance counts code points', () => {
    expect(editDistance('派单', '派')).toBe(1);
    expect(editDistance('assign', 'asign')).toBe(1);
  });
});

describe('pathological input is parsed in linear time (issue 9 #6)', () => {
  // Before the fix, 40,000 unclosed “ took seconds: every “ searched to the end for its ”, and a long
  // first word was lower-cased and compared once per command. The bound is on this process's CPU time,
  // best of three runs, so other work on a shared machine does not fail a linear parser; a quadratic
  // one takes seconds on every run.
  const bestOf3 = (text: string): number => {
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = process.cpuUsage();
      parseCommand(text, COMMANDS);
      const used = process.cpuUsage(t0);
      best = Math.min(best, (used.user + used.system) / 1000);
    }
    return best;
  };
  const cases: [string, string][] = [
    ['40,000 unclosed “', '/进度 D1 ' + '“'.repeat(40_000)],
    ['300 KB of unclosed “ in the command word', '/' + '“'.repeat(300_000)],
    ['300 KB of unclosed quotes of every kind', '/单 新建 客户=' + '「“\'"'.repeat(75_000)],
    ['300 KB of short tokens opening quotes', '/单 新建 ' + '“a '.repeat(100_000)],
    ['a 300 KB command word', '/' + 'x'.repeat(300_000)],
    ['a 300 KB free-text note', '/进度 D1 ' + '你好“'.repeat(100_000)],
    ['300 KB of spaces and quotes after an unknown command', '/天气 ' + ' “ 「'.repeat(75_000)],
  ];
  for (const [what, text] of cases) {
    it(`${what}: under 50 ms`, () => {
      parse('/进度 D1 “热身”'); // the first call compiles the parser
      expect(bestOf3(text)).toBeLessThan(50);
    });
  }
  it('an unknown 300 KB command word is quoted back shortened', () => {
    const r = parse('/' + 'x'.repeat(300_000));
    expect(!r.ok && r.reason === 'unknown' && r.message.length).toBeLessThan(200);
  });

  /** The tokenizer before the fix: quadratic, but the reference for what a tokenization is. */
  function referenceTokenize(input: string): { value: string; start: number }[] {
    const WS = /[\s\u3000]+/;
    const QUOTES: Record<string, string> = { '"': '"', '“': '”', '「': '」', "'": "'" };
    const tokens: { value: string; start: number }[] = [];
    let i = 0;
    while (i < input.length) {
      if (WS.test(input[i]!)) {
        i++;
        continue;
      }
      const start = i;
      let value = '';
      while (i < input.length && !WS.test(input[i]!)) {
        const c = input[i]!;
        const close = QUOTES[c];
        if (close) {
          const end = input.indexOf(close, i + 1);
          if (end > i) {
            value += input.slice(i + 1, end);
            i = end + 1;
            continue;
          }
        }
        value += c;
        i++;
      }
      tokens.push({ value, start });
    }
    return tokens;
  }
  it('tokenizes exactly as before on mixed quotes, spaces and text', () => {
    const alphabet = ['a', '张', ' ', '\u3000', '\t', '"', "'", '“', '”', '「', '」', '=', 'D1'];
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const samples = ['a“b “c d” e', '「x」y “未闭合 "a b"', "'' \"\" “” 「」", '客户="华星 科技" 类型=专利'];
    for (let k = 0; k < 500; k++) samples.push(Array.from({ length: 1 + Math.floor(rnd() * 24) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join(''));
    for (const s of samples) expect(tokenize(s), JSON.stringify(s)).toEqual(referenceTokenize(s));
  });
});

describe('invisible characters in argument words (issue 9 #9)', () => {
  it('removes zero-width and bidi-control characters from userids, names, departments and person references', () => {
    const r = parse('/成员 添加 zhang\u200Bsan 姓名=张\u200B工 部门=专\u202E利部\uFEFF 角色=负\u2066责人 上级=@李\u2060主管');
    expect(r.ok && r.args).toEqual({ userid: 'zhangsan', name: '张工', dept: '专利部', role: '负责人', supervisor: '@李主管' });
    expect(stripInvisible('\u200B\u200C\u200D\u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\uFEFF')).toBe('');
    expect(stripInvisible('张\u2065工')).toBe('张\u2065工'); // U+2065 is unassigned, not in the list
  });
  it('matches command words written with an invisible character', () => {
    const r = parse('/派\u200B单 D3 @张\u200D工');
    expect(r.ok && r.command.id).toBe('order.assign');
    expect(r.ok && r.args.person).toBe('@张工');
  });
  it('keeps free text as typed (a zero-width joiner belongs to emoji)', () => {
    const r = parse('/进度 D3 家庭👨\u200D👩\u200D👧照片已收到');
    expect(r.ok && r.args.note).toBe('家庭👨\u200D👩\u200D👧照片已收到');
  });
});

describe('command groups (issue 15)', () => {
  it('/单 alone lists the sub-commands of the group instead of "没有找到命令"', () => {
    const r = parse('/单');
    expect(r.ok).toBe(false);
    if (r.ok || r.reason !== 'unknown') throw new Error(JSON.stringify(r));
    expect(r.message).not.toContain('没有找到命令');
    const subs = COMMANDS.filter((c) => c.zh[0] === '单' && c.zh.length > 1);
    expect(subs.map((c) => c.id).sort()).toEqual(['order.list', 'order.new', 'order.set']);
    for (const c of subs) expect(r.message).toContain(c.usage);
    // The same for the other groups and in English.
    const member = parse('/成员');
    expect(!member.ok && member.reason === 'unknown' && member.message).toContain('/成员 添加');
    const order = parse('/order');
    expect(!order.ok && order.reason === 'unknown' && order.message).toContain('/单 新建');
  });
  it('a group name run together with its sub-command is that command: /单新建 = /单 新建', () => {
    const glued = parse('/单新建 客户=华星科技 类型=专利 业务员=wang');
    const spaced = parse('/单 新建 客户=华星科技 类型=专利 业务员=wang');
    expect(glued).toEqual(spaced);
    expect(glued.ok && glued.command.id).toBe('order.new');
    expect(parse('/成员列表 专利部')).toEqual(parse('/成员 列表 专利部'));
    expect(parse('／单列表 全部')).toEqual(parse('/单 列表 全部'));
    expect((parse('/orderlist') as { command?: { id: string } }).command?.id).toBe('order.list');
  });
  it('a one-word command is still itself, and a group word with a mistyped sub-command lists the group', () => {
    expect((parse('/日历 2026-10-01') as { command?: { id: string } }).command?.id).toBe('calendar.show');
    const r = parse('/单 新键 客户=a');
    expect(!r.ok && r.reason === 'unknown' && r.message).toContain('/单 新建');
  });
});
