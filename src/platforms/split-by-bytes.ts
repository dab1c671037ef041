/**
 * Platform length limits count UTF-8 bytes (WeCom text 2048, markdown 4096; DingTalk body 20000),
 * and a Chinese character takes 3 bytes, an emoji 4. Split on code-point boundaries only.
 */

const utf8Length = (cp: number): number => (cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4);

export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Pure: cut `text` into pieces of at most `maxBytes` UTF-8 bytes each, never inside a code point.
 * Prefers to cut after a line break in the second half of a piece (the break itself is dropped),
 * otherwise cuts at the last code point that fits. Returns [text] when it already fits.
 */
export function splitByBytes(text: string, maxBytes: number): string[] {
  if (!Number.isInteger(maxBytes) || maxBytes < 4) throw new RangeError('maxBytes must be an integer >= 4');
  if (byteLength(text) <= maxBytes) return [text];

  const cps = Array.from(text);
  const parts: string[] = [];
  let start = 0;
  while (start < cps.length) {
    let bytes = 0;
    let end = start;
    while (end < cps.length) {
      const b = utf8Length(cps[end]!.codePointAt(0)!);
      if (bytes + b > maxBytes) break;
      bytes += b;
      end++;
    }
    if (end === cps.length) {
      parts.push(cps.slice(start).join(''));
      break;
    }
    // Look back for a line break in the second half of this piece.
    let cut = -1;
    for (let i = end - 1; i > start + Math.floor((end - start) / 2); i--) {
      if (cps[i] === '\n') {
        cut = i;
        break;
      }
    }
    if (cut >= 0) {
      parts.push(cps.slice(start, cut).join(''));
      start = cut + 1;
    } else {
      parts.push(cps.slice(start, end).join(''));
      start = end;
    }
  }
  return parts;
}

/** The "(1/3)" label; at most 11 bytes + newline while there are fewer than 1000 parts. */
const LABEL_RESERVE = 16;

/**
 * Split for sending: when more than one part is needed, each part starts with "(i/n)\n"
 * and still fits in maxBytes together with its label.
 */
export function splitIntoNumberedParts(text: string, maxBytes: number): string[] {
  if (byteLength(text) <= maxBytes) return [text];
  const pieces = splitByBytes(text, maxBytes - LABEL_RESERVE);
  return pieces.map((p, i) => `(${i + 1}/${pieces.length})\n${p}`);
}

/**
 * Parts kept from an earlier, partly delivered send (OutboundMessage.parts) keep their labels; one
 * that is too long for the channel now in use is cut again (never dropped, never truncated).
 */
export function fitParts(parts: string[], maxBytes: number): string[] {
  return parts.flatMap((p) => (byteLength(p) <= maxBytes ? [p] : splitByBytes(p, maxBytes)));
}
