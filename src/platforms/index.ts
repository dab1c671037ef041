/** The platform adapters' public surface, for the core and main.ts. */
export * from './clock';
export * from './config-schema';
export * from './create-senders';
export * from './errors';
export * from './group-route';
export { deliverInbound, type OnInbound } from './http/deliver-inbound';
export * from './split-by-bytes';
export * from './dingtalk/index';
export * from './wecom/index';
export * from './robot-setting';
export * from './create-directory-sources';
