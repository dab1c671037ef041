import { describe, expect, it } from 'vitest';
import { canSee, refusalText, type Reader, type RecordFacts } from '../../src/features/roster';

/** The record-access rule as a pure function: every role against records of known facts. */
const PATENT = 1;
const SOFTWARE = 2;
const reader = (role: Reader['role'], id: number | null, departmentId: number | null, isAdmin = false): Reader => ({ id, role, departmentId, isAdmin });
const record = (f: Partial<RecordFacts>): RecordFacts => ({ owners: [], departmentId: PATENT, workers: [], open: true, ...f });

describe('canSee (roster/record-access.ts)', () => {
  const wang = reader('sales', 10, 5);
  const zhang = reader('handler', 20, PATENT);
  const li = reader('supervisor', 30, PATENT);
  const liu = reader('head', 40, PATENT);
  const boss = reader('management', 50, 6);

  it('a salesperson sees his clients’ records in any department, nothing else', () => {
    expect(canSee(wang, record({ owners: [10], departmentId: SOFTWARE, open: false }))).toEqual({ ok: true });
    expect(canSee(wang, record({ owners: [11, 10] }))).toEqual({ ok: true }); // the order's own 业务员
    expect(canSee(wang, record({ owners: [11] }))).toEqual({ ok: false, why: 'other-client' });
    expect(canSee(wang, record({ owners: [null] }))).toEqual({ ok: false, why: 'other-client' });
  });

  it('a handler sees his own records (open or not) and the department’s open work', () => {
    expect(canSee(zhang, record({ workers: [20], departmentId: SOFTWARE, open: false }))).toEqual({ ok: true });
    expect(canSee(zhang, record({ workers: [21], open: true }))).toEqual({ ok: true });
    expect(canSee(zhang, record({ workers: [21], open: false }))).toEqual({ ok: false, why: 'closed' });
    expect(canSee(zhang, record({ workers: [21], departmentId: SOFTWARE }))).toEqual({ ok: false, why: 'other-department' });
    expect(canSee(zhang, record({ owners: [20], departmentId: SOFTWARE }))).toEqual({ ok: false, why: 'other-department' });
  });

  it('a supervisor and a department head see the department, open or not; 总经办 and admins everything', () => {
    for (const r of [li, liu]) {
      expect(canSee(r, record({ open: false }))).toEqual({ ok: true });
      expect(canSee(r, record({ departmentId: SOFTWARE }))).toEqual({ ok: false, why: 'other-department' });
      expect(canSee(r, record({ departmentId: null }))).toEqual({ ok: false, why: 'other-department' });
    }
    expect(canSee(boss, record({ departmentId: SOFTWARE, open: false }))).toEqual({ ok: true });
    expect(canSee(reader('handler', 60, SOFTWARE, true), record({}))).toEqual({ ok: true });
    expect(canSee(reader(null, null, null, true), record({}))).toEqual({ ok: true });
    expect(canSee(reader(null, null, null), record({ workers: [null] }))).toEqual({ ok: false, why: 'other-department' });
  });

  it('says why in polite Chinese', () => {
    expect(refusalText('D12', 'other-client', '专利部')).toBe('抱歉，D12 属于其他业务员的客户，您没有查看权限。如需查看，请联系该客户的业务员或部门负责人。');
    expect(refusalText('T7', 'other-department', '软件部')).toBe('抱歉，T7 属于软件部，您没有查看权限。如需查看，请联系软件部的部门负责人。');
    expect(refusalText('T7', 'other-department', null)).toBe('抱歉，T7 属于其他部门，您没有查看权限。如需查看，请联系其他部门的部门负责人。');
    expect(refusalText('D3', 'closed', '专利部')).toMatch(/^抱歉，D3 已办结且不是您经手的/);
  });
});
