export * from './core';
export * from './outbox';
export * from './timers';
export * from './complaints';
export * from './inbound-notices';
export * from './directory';
