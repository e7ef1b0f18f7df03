/**
 * Tolerant readers for provider JSON. Meta adds fields without notice and
 * changes a few types between versions (ids as numbers or strings,
 * timestamps as strings or integers), so every read says what it expects and
 * gives undefined for anything else instead of throwing.
 */
import type { ProviderError } from "../../../domain/inbound.js";

export type JsonObject = Record<string, unknown>;

export function record(value: unknown): JsonObject | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A string, or a number written as text (Meta sends some ids as integers). */
export function text(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return Number.isSafeInteger(value) ? value.toFixed(0) : String(value);
  if (typeof value === "bigint") return value.toString();
  return undefined;
}

/** A string that is not empty. */
export function nonEmpty(value: unknown): string | undefined {
  const s = text(value);
  return s === undefined || s === "" ? undefined : s;
}

export function number(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

export function flag(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (value === "true") return true;
  if (value === "false") return false;
  return undefined;
}

/** Unix seconds (string or integer) as a Date. */
export function unixSeconds(value: unknown): Date | undefined {
  const seconds = number(value);
  if (seconds === undefined || seconds < 0) return undefined;
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Meta's error objects: `{code, title, message, error_data: {details}, href}`, every part optional. */
export function providerErrors(value: unknown): ProviderError[] {
  return list(value)
    .map(record)
    .filter((e): e is JsonObject => e !== undefined)
    .map((e) => {
      const title = text(e.title) ?? "";
      return {
        code: Math.trunc(number(e.code) ?? 0),
        title,
        message: text(e.message) ?? title,
        details: text(record(e.error_data)?.details) ?? "",
        href: text(e.href) ?? "",
      };
    });
}
