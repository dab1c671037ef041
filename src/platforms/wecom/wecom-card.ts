import { randomBytes } from 'node:crypto';
import type { CardButton } from '../../core/types';
import { CARD_KEY_PREFIX } from './wecom-callback';

/**
 * A WeCom template_card of type button_interaction (docs path/101032 模板卡片类型; AI bot reply and
 * aibot_send_msg): a short title and up to 6 buttons whose `key` carries the command. A click comes
 * back as the event template_card_event with that key (decodeAibotJson turns it into the command).
 */
export function buttonCard(text: string, buttons: CardButton[]): Record<string, unknown> {
  const title = (text.split('\n')[0] ?? '').trim();
  return {
    msgtype: 'template_card',
    template_card: {
      card_type: 'button_interaction',
      main_title: { title: [...title].slice(0, 26).join('') || '请选择' },
      button_list: buttons.slice(0, 6).map((b, i) => ({ text: [...b.label].slice(0, 10).join(''), style: i === 0 ? 1 : 2, key: `${CARD_KEY_PREFIX}${b.command}` })),
      task_id: `task-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
    },
  };
}
