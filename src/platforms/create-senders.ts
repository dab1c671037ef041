import type { Logger } from 'pino';
import type { PlatformSender } from '../core/types';
import { systemClock, type Clock } from './clock';
import { configuredPlatforms, type PlatformConfig } from './config-schema';
import { DingtalkSender } from './dingtalk/dingtalk-sender';
import { WecomSender } from './wecom/wecom-sender';

/** One sender per configured platform (the sandbox brings its own). */
export function createSenders(config: PlatformConfig, deps: { clock?: Clock; log?: Logger } = {}): PlatformSender[] {
  const which = configuredPlatforms(config);
  const d = { clock: deps.clock ?? systemClock, log: deps.log };
  const senders: PlatformSender[] = [];
  if (which.wecom) senders.push(new WecomSender(config, { ...d, log: d.log?.child({ platform: 'wecom' }) }));
  if (which.dingtalk) senders.push(new DingtalkSender(config, { ...d, log: d.log?.child({ platform: 'dingtalk' }) }));
  return senders;
}
