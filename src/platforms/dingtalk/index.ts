export * from './dingtalk-callback';
export * from './dingtalk-events';
export * from './dingtalk-events-router';
export * from './dingtalk-router';
export * from './dingtalk-sender';
export * from './dingtalk-sign';
export * from './dingtalk-stream';
export * from './dingtalk-sign-pairs';
