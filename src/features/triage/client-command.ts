import type { WatchContext, Watcher } from '../../core/feature';
import { CLIENT_GROUP_ACK } from '../complaints';
import { outsiderMessages } from '../roster';
import { classifyMessage } from './classify';
import type { ClientMessage } from './shared';
import type { Recorder } from './watcher';

/**
 * A client who writes `/投诉 …` in a client group (a command marked `clientWords`, WatchContext.spelled)
 * is complaining in the plainest words there are: the message is the client's, always a suggestion (at
 * least the level the rules read in its words), told to the internal group like any other; the client
 * hears the same polite acknowledgement a colleague's `/投诉` there gives, nothing internal.
 * Plain messages go to the triage's own watcher unchanged.
 */
export function withClientCommands(record: Recorder, plain: Watcher): Watcher {
  return async (w: WatchContext) => {
    if (!w.spelled) return plain(w);
    if (w.group.kind !== 'client' || w.sender !== 'client') return;
    const words = await wordsOf(w);
    const rules = classifyMessage(words);
    const msg: ClientMessage = { messageId: w.message.messageId, senderId: w.message.senderId, senderName: w.message.senderName ?? null, receivedAt: w.message.receivedAt, text: words };
    const typed = `客户在群里发送了 /投诉`;
    await record(w, w.group, msg, {
      triage: {
        ...rules,
        isComplaint: true,
        level: rules.isComplaint && rules.level ? rules.level : 'A',
        summary: rules.isComplaint && rules.summary ? `${typed}；${rules.summary}` : typed,
        evidenceQuote: rules.isComplaint && rules.evidenceQuote ? rules.evidenceQuote : words.slice(0, 200),
        confidence: Math.max(rules.confidence, 0.9),
      },
      source: 'rules',
      version: rules.version,
    });
    w.reply(CLIENT_GROUP_ACK);
  };
}

/**
 * What the client said: the command's free text, else the message it quotes, else what follows the
 * command word (arguments that did not parse), else the client's last plain message.
 */
async function wordsOf(w: WatchContext): Promise<string> {
  const typed = w.spelled?.text?.trim();
  if (typed) return typed;
  const quoted = w.message.quotedText?.trim();
  if (quoted) return quoted;
  const after = w.spelled?.text === null && !/^\s*[/／]\S+\s*$/.test(w.message.text) ? w.message.text.replace(/^\s*[/／]\S+\s*/, '').trim() : '';
  if (after) return after;
  const [last] = await outsiderMessages(w.tx, w.group, { limit: 1, plainOnly: true });
  return last?.text.trim() || w.message.text.trim();
}
