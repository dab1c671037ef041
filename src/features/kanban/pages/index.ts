/**
 * The 看板's pages, one file each with its queries beside it: 总览, 人员, 日历, and the 分配单, 投诉 and
 * 客户 detail pages. What several pages share lives in shared.ts (context, time cells, filters form)
 * and timeline.ts (a subject's clocks and full timeline).
 */
export { PageError, type Page, type PageCtx } from './shared';
export { overviewPage } from './overview';
export { peoplePage } from './people';
export { calendarPage } from './calendar';
export { orderPage } from './order';
export { complaintPage } from './complaint';
export { clientPage } from './client';
