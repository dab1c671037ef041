import { XMLParser } from 'fast-xml-parser';

/**
 * WeCom's XML is flat: <xml><Field>value</Field>…</xml>. Parse it with entity processing off and
 * refuse any DTD outright, so entity expansion ("billion laughs") and external entities cannot happen.
 */
const parser = new XMLParser({
  processEntities: false,
  htmlEntities: false,
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  trimValues: true,
});

const DTD = /<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)/i;

/** The string children of <xml>; null when the document is not that shape or carries a DTD. */
export function parseWecomXml(xml: string): Record<string, string> | null {
  if (DTD.test(xml)) return null;
  let doc: unknown;
  try {
    doc = parser.parse(xml, true);
  } catch {
    return null;
  }
  if (!doc || typeof doc !== 'object') return null;
  const root = (doc as Record<string, unknown>).xml;
  if (!root || typeof root !== 'object' || Array.isArray(root)) return null;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(root as Record<string, unknown>)) {
    if (k === '#text') continue;
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else if (v === '' || v === null) out[k] = '';
    else return null; // repeated or nested fields: not a WeCom message
  }
  return out;
}

const escapeCdata = (v: string) => v.replace(/]]>/g, ']]]]><![CDATA[>');

/** Build a flat <xml> document with CDATA values (passive replies, test fixtures). */
export function buildWecomXml(fields: Record<string, string | number>): string {
  const inner = Object.entries(fields)
    .map(([k, v]) => (typeof v === 'number' ? `<${k}>${v}</${k}>` : `<${k}><![CDATA[${escapeCdata(v)}]]></${k}>`))
    .join('');
  return `<xml>${inner}</xml>`;
}
