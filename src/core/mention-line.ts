/**
 * The core writes the people a message @-s as its last line, "@张三 @李四" (scheduler, notices), so a
 * channel that cannot @ still shows who is meant. A channel that renders real @s replaces that line
 * with its own form, so the names are not shown twice.
 *
 * Returns the text without that line, or null when the last line is not exactly one "@name" per
 * mentioned person.
 */
export function withoutTagLine(text: string, mentions: string[]): string | null {
  if (mentions.length === 0) return null;
  const cut = text.lastIndexOf('\n');
  if (cut < 0) return null;
  const tokens = text.slice(cut + 1).trim().split(/\s+/);
  if (tokens.length !== mentions.length || !tokens.every((t) => /^@\S+$/.test(t))) return null;
  const body = text.slice(0, cut).replace(/\s+$/, '');
  return body ? body : null;
}
