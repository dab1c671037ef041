import { sql } from 'drizzle-orm';
import { chatLog } from '../../db/schema';

/**
 * A staff message in a client group counts as contact with the client only when it is a plain message
 * (3.2.2.8 讨论组: proactive contact): a command (`/单 列表`, `/群` …, typed with / or ／) talks to the
 * bot, not to the client. The chat log's condition for every "last contact" query.
 */
export const plainMessage = sql`${chatLog.text} !~ '^[[:space:]　]*[/／]'`;
