import { OUTBOX_COMMANDS } from './outbox-commands';
import type { Feature } from '../../core/feature';

/** /发送失败 and /重发: messages the outbox gave up on. */
export function outboxFeature(): Feature {
  return { name: 'outbox', help: { topic: '管理', words: ['管理', 'admin'] }, commands: OUTBOX_COMMANDS };
}
