/** Service types of the firm's standards (SERVICE-RULES.md, "Orders" table). */
export const SERVICE_TYPES = ['专利', '集成电路布图', '软件', '商标', '专利流程事务', '审计', '财税', '代账', '高新', '资助'] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];

const ALIASES: Record<string, ServiceType> = {
  专利流程: '专利流程事务',
  布图: '集成电路布图',
  软著: '软件',
  高新认定: '高新',
  资助项目: '资助',
  财税顾问: '财税',
  代理记账: '代账',
  bookkeeping: '代账',
  patent: '专利',
  ic: '集成电路布图',
  software: '软件',
  trademark: '商标',
  'patent-process': '专利流程事务',
  audit: '审计',
  tax: '财税',
  hightech: '高新',
  subsidy: '资助',
};

export function normaliseServiceType(s: string): ServiceType | null {
  if ((SERVICE_TYPES as readonly string[]).includes(s)) return s as ServiceType;
  return ALIASES[s.toLowerCase()] ?? ALIASES[s] ?? null;
}
