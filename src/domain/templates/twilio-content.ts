/**
 * On Twilio, WhatsApp templates are Content API items (`HX…` SIDs) that
 * Twilio holds and reviews. An account maps a template name and language to
 * its Content SID in the account's metadata (ADR 0013):
 * `twilio_content:<name>:<language>` → `HX…`, or `twilio_content:<name>` for
 * every language.
 */

export function contentSidKey(name: string, language: string): string {
  return `twilio_content:${name}:${language}`;
}

const CONTENT_SID = /^HX[0-9a-fA-F]{32}$/;

/** The Content SID the account maps a template to; undefined when none (or not a Content SID). */
export function contentSidFor(metadata: Readonly<Record<string, string>> | undefined, name: string, language: string): string | undefined {
  const sid = metadata?.[contentSidKey(name, language)] ?? metadata?.[`twilio_content:${name}`];
  return sid !== undefined && CONTENT_SID.test(sid) ? sid : undefined;
}
