import { parsePhoneNumberFromString } from "libphonenumber-js/max";

/**
 * Phone numbers in E.164 (`+5215512345678`). WhatsApp ids (`wa_id`) are the
 * same digits without the plus. Parsing uses libphonenumber's metadata, so a
 * number that cannot exist in its country is refused here instead of by Meta.
 */
export function normalisePhoneNumber(input: string): string | undefined {
  const trimmed = input.trim();
  const candidate = trimmed.startsWith("+") ? trimmed : `+${trimmed.replace(/^00/, "")}`;
  const parsed = parsePhoneNumberFromString(candidate);
  if (!parsed?.isValid()) return undefined;
  return parsed.number;
}
