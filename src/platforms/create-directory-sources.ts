import type { DirectorySource } from '../features/directory';
import { systemClock, type Clock } from './clock';
import { configuredPlatforms, type PlatformConfig } from './config-schema';
import { DingtalkDirectory } from './dingtalk/dingtalk-directory';
import { WecomDirectory } from './wecom/wecom-directory';

/** The contact directories the credentials allow reading: WeCom (corp id + secret), DingTalk (app key + secret). */
export function createDirectorySources(config: PlatformConfig, deps: { clock?: Clock } = {}): DirectorySource[] {
  const which = configuredPlatforms(config);
  const clock = deps.clock ?? systemClock;
  const sources: DirectorySource[] = [];
  if (which.wecomAppchat) sources.push(new WecomDirectory(config, clock));
  if (which.dingtalk) sources.push(new DingtalkDirectory(config, clock));
  return sources;
}
