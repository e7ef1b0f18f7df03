import { parsePhoneNumberFromString } from "libphonenumber-js/max";

/**
 * Phone numbers in E.164 (`+5215512345678`). WhatsApp ids (`wa_id`) are the
 * same digits without the plus.
 *
 * A number is accepted when it is *possible* (a known country code and a
 * length that country uses), not only when libphonenumber's metadata calls
 * it *valid*: Meta issues numbers the metadata does not list — every new
 * Cloud API app gets a +1 555 test number (`+15550783881`), and new ranges
 * appear before the metadata knows them. Meta is the authority on which
 * numbers exist; refusing one it issued would lock a tenant out.
 */
export function normalisePhoneNumber(input: string): string | undefined {
  const trimmed = input.trim();
  const candidate = trimmed.startsWith("+") ? trimmed : `+${trimmed.replace(/^00/, "")}`;
  const parsed = parsePhoneNumberFromString(candidate);
  if (!parsed?.isPossible()) return undefined;
  return parsed.number;
}
