export * from './core';
export * from './outbox';
export * from './timers';
export * from './complaints';
export * from './links';
export * from './client-groups';
export * from './triage';
export * from './reminder-mode';
