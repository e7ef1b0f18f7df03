/**
 * A code typed back in the chat: the whole message, trimmed, is 4 to 10
 * digits, optionally grouped by single spaces or dashes ("123 456",
 * "12-34-56"). Anything else ("my code is 123456", "1234567890123") is not
 * taken as a code.
 */
const TYPED_CODE = /^[0-9](?:[ -]?[0-9]){3,9}$/;

export function codeInText(text: string): string | undefined {
  const trimmed = text.trim();
  if (!TYPED_CODE.test(trimmed)) return undefined;
  return trimmed.replace(/[ -]/g, "");
}
