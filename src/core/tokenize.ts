/** Splitting a command into words: spaces (ASCII and full-width), quotes of every kind, invisible characters. */

export interface Token {
  /** The token with quotes removed. */
  value: string;
  /** Where the raw token starts in the command text (for "rest of the line" arguments). */
  start: number;
}

export const SLASHES = /^[/／]/;
/** Opening quote (char code) → its closing quote: "…", '…', “…”, 「…」. */
const QUOTES = new Map<number, string>([
  [0x22, '"'],
  [0x27, "'"],
  [0x201c, '”'],
  [0x300c, '」'],
]);
/**
 * The characters `\s` matches (ASCII and Unicode spaces, the full-width space U+3000 among them), except
 * U+FEFF: that one is invisible inside a word and is removed from it (stripInvisible), not split on.
 */
function isSpace(c: number): boolean {
  return (
    (c >= 9 && c <= 13) || c === 32 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000
  );
}

/**
 * Splits on ASCII and full-width spaces; quoted text stays together (quotes removed), an unclosed
 * quote is an ordinary character. Linear in the length of the text: runs between quotes are sliced,
 * not built a character at a time, and each kind of closing quote is searched for forward only.
 */
export function tokenize(input: string): Token[] {
  return [...scanTokens(input)];
}

/** Tokens one at a time: the parser reads only as far as the command needs (a note's rest is sliced). */
export function* scanTokens(input: string): Generator<Token, void, undefined> {
  // Where each closing quote next occurs (-1: nowhere further). Searches only move forward, so many
  // unclosed quotes cost one scan of the text per quote kind, not one scan per quote.
  const nextClose = new Map<string, number>();
  const findClose = (close: string, from: number): number => {
    const known = nextClose.get(close);
    if (known !== undefined && (known === -1 || known >= from)) return known;
    const found = input.indexOf(close, from);
    nextClose.set(close, found);
    return found;
  };
  const n = input.length;
  let i = 0;
  while (i < n) {
    if (isSpace(input.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    let value = '';
    let segStart = i;
    while (i < n && !isSpace(input.charCodeAt(i))) {
      const close = QUOTES.get(input.charCodeAt(i));
      const end = close ? findClose(close, i + 1) : -1;
      if (end > i) {
        // Quoted text keeps what the user typed; the words around it are read at half width.
        value += halfWidth(input.slice(segStart, i)) + input.slice(i + 1, end);
        i = segStart = end + 1;
      } else {
        i++; // an unclosed quote stays as an ordinary character
      }
    }
    yield { value: stripInvisible(value + halfWidth(input.slice(segStart, i))), start };
  }
}

/**
 * Full-width digits, Latin letters and the punctuation commands are written with (－ ： ＝ ／ ． ＠ ＃ ＿),
 * as a Chinese input method types them: read as their ASCII forms, like the full-width space and ／ are,
 * so `截止=２０２６－１２－２５` and `Ｄ５` mean what they look like. Only argument words are read this
 * way; quoted text and free text (a note, a reason) keep what was typed.
 */
const FULL_WIDTH = /[\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A\uFF0D\uFF1A\uFF1D\uFF0F\uFF0E\uFF20\uFF03\uFF3F]/g;

export function halfWidth(s: string): string {
  return s.replace(FULL_WIDTH, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
}

/**
 * Zero-width and bidi-control characters: invisible, so 张\u200B工 looks like 张工 but is another name.
 * Removed from every argument word (names, userids, person references); free text keeps
 * them (a zero-width joiner belongs to emoji).
 */
const INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;

export function stripInvisible(s: string): string {
  return s.replace(INVISIBLE, '');
}

