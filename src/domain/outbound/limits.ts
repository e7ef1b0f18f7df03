/**
 * WhatsApp's limits on what can be sent (Cloud API reference §5.2, §7.6,
 * §7.7). Lengths count Unicode code points, as WhatsApp counts characters.
 * Checked before queuing, so a caller learns of a violation at once instead
 * of from a `failed` status minutes later.
 */
export const LIMITS = {
  textBody: 4096,
  caption: 1024,
  filename: 240,
  mediaLink: 2048,
  mediaId: 256,
  locationText: 1000,
  contactsPerMessage: 257,
  contactCardEntries: 20,
  interactive: {
    /** Buttons and cta_url bodies; list bodies may be longer. */
    body: 1024,
    listBody: 4096,
    headerText: 60,
    footer: 60,
    buttons: 3,
    buttonId: 256,
    buttonTitle: 20,
    listButton: 20,
    sections: 10,
    /** Rows in total, across every section. */
    rows: 10,
    sectionTitle: 24,
    rowId: 200,
    rowTitle: 24,
    rowDescription: 72,
    ctaDisplayText: 20,
    ctaUrl: 2000,
  },
  template: {
    name: 512,
    components: 20,
    parametersPerComponent: 100,
    /** A text header takes at most one parameter. */
    headerTextParameters: 1,
    maxButtonIndex: 9,
    textParameter: 1024,
    payload: 256,
    couponCode: 15,
    currencyFallback: 64,
    dateTimeFallback: 128,
  },
  reactionMessageRef: 256,
  replyTo: 256,
  idempotencyKey: 128,
  metadata: { pairs: 64, key: 64, value: 1024 },
} as const;

/** Length in characters (code points), not UTF-16 units: "👍" is one. */
export function charLength(value: string): number {
  let n = 0;
  for (const _ of value) n++;
  return n;
}
