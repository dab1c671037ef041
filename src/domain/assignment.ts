import type { Role } from '../db/schema';

/**
 * Who may give an order its handler: the one rule `/派单` and the 「派给 …」 card buttons (a click runs
 * `/派单`) both ask. Pure: the assigner's and the handler's role and department, and the order's
 * department.
 *
 * - 3.1.2 / 3.3.2 / 3.4.2: an order that reaches a department is assigned 到具体负责人 within it — by the
 *   department's head (部门负责人) or its supervisors (主管), to a handler of that department.
 * - Across departments only 总经办 (and admins) assign: they stand above every department, so an order
 *   may be given to another department's handler when its own cannot take it. A head or supervisor of
 *   another department may not (and neither may a supervisor because he supervises the current handler).
 * - A salesperson is never the handler: he is the order's 业务员, who follows it for the client.
 */
export const ASSIGN_RULE = { id: 'order.assign.who', clause: '3.1.2' } as const;

export interface AssignerFacts {
  role: Role | null;
  departmentId: number | null;
  isAdmin: boolean;
}

export type AssignVerdict =
  | { ok: true; crossDepartment: boolean }
  | { ok: false; why: 'not_assigner' | 'handler_is_sales' | 'handler_other_department' };

export function mayAssign(
  assigner: AssignerFacts,
  orderDepartmentId: number | null,
  handler: { role: Role; departmentId: number | null },
): AssignVerdict {
  const firmWide = assigner.isAdmin || assigner.role === 'management';
  const ofDepartment =
    orderDepartmentId !== null && assigner.departmentId === orderDepartmentId && (assigner.role === 'head' || assigner.role === 'supervisor');
  if (!firmWide && !ofDepartment) return { ok: false, why: 'not_assigner' };
  if (handler.role === 'sales') return { ok: false, why: 'handler_is_sales' };
  const crossDepartment = handler.departmentId !== orderDepartmentId;
  if (crossDepartment && !firmWide) return { ok: false, why: 'handler_other_department' };
  return { ok: true, crossDepartment };
}
