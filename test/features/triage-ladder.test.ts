import { describe, expect, it } from 'vitest';
import { DEFAULT_COMPLAINT_PLAYBOOK_DOCUMENT, parseComplaintPlaybook } from '../../src/domain/complaints';
import { createWorkCalendar } from '../../src/domain/calendar';
import { ladder, startTimer } from '../../src/domain/timers';
import { parseTriagePlaybook } from '../../src/features/triage/triage-playbook';

/**
 * The suggestion's ladder is read from the complaint playbook (no second copy of its times): the
 * department head at the callback clock's escalation, 总经办 at the head's own clock's escalation after
 * it, quiet hours as the callback rule says.
 */
describe('the triage ladder from the complaint playbook', () => {
  const cal = createWorkCalendar();
  const at = new Date('2026-11-23T02:00:00Z'); // Monday 10:00 in Shanghai
  const minutesOf = (rule: ReturnType<typeof parseTriagePlaybook>['reminder']) => {
    const t = startTimer(rule, { at }, at, cal)!;
    return ladder(t, rule, cal).map((s) => [s.step, (s.at.getTime() - at.getTime()) / 60_000, s.mention.join('+')]);
  };

  it('built-in playbooks: supervisor at 10, head at 30, 总经办 at 60 minutes, day and night', () => {
    const { reminder } = parseTriagePlaybook();
    expect(minutesOf(reminder)).toEqual([
      ['due', 10, 'supervisor'],
      ['overdue_head', 30, 'head+supervisor'],
      ['overdue_management', 60, 'head+management'],
    ]);
    expect(reminder.quietHours).toBe('ignore');
  });

  it("a firm's complaint override moves the suggestion's rungs with it", () => {
    const doc = DEFAULT_COMPLAINT_PLAYBOOK_DOCUMENT as { rules: { id: string }[] };
    const complaints = parseComplaintPlaybook(doc, {
      rules: [
        { id: 'complaint.callback', duration: { amount: 45, unit: 'minutes' }, quietHours: 'respect' },
        { id: 'complaint.head-act', duration: { amount: 20, unit: 'minutes' } },
      ],
    });
    const { reminder } = parseTriagePlaybook(undefined, complaints);
    expect(minutesOf(reminder).map(([step, m]) => [step, m])).toEqual([
      ['due', 10],
      ['overdue_head', 45],
      ['overdue_management', 65],
    ]);
    expect(reminder.quietHours).toBe('respect');
  });
});
