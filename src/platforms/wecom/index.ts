export * from './wecom-callback';
export * from './wecom-crypto';
export * from './wecom-router';
export * from './wecom-sender';
export { buildWecomXml, parseWecomXml } from './wecom-xml';
export * from './wecom-aibot-ws';
export * from './wecom-ws-sender';
