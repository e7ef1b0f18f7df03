import type { FieldViolation } from "../errors.js";
import { charLength } from "./limits.js";

/**
 * Collects field violations under request paths (`interactive.list.sections[0].rows[2].title`),
 * so each check names the exact field the caller sent.
 */
export class Violations {
  readonly list: FieldViolation[] = [];

  add(field: string, description: string): void {
    this.list.push({ field, description });
  }

  /** A string of at most `max` characters; with `required`, also non-blank. */
  text(field: string, value: string, max: number, required = false): void {
    if (required && value.trim() === "") this.add(field, "is required");
    else if (charLength(value) > max) this.add(field, `must be at most ${max} characters (got ${charLength(value)})`);
  }

  /** A public HTTP(S) URL the provider can download from. */
  httpUrl(field: string, value: string, max: number): void {
    if (charLength(value) > max) return this.add(field, `must be at most ${max} characters`);
    if (!isHttpUrl(value)) this.add(field, "must be an http:// or https:// URL");
  }

  count(field: string, actual: number, min: number, max: number, what: string): void {
    if (actual < min) this.add(field, `needs at least ${min} ${what}`);
    else if (actual > max) this.add(field, `takes at most ${max} ${what} (got ${actual})`);
  }

  /** Reports every value seen before (e.g. two buttons with one title). */
  unique<T>(items: readonly T[], key: (item: T) => string, field: (index: number) => string, what: string): void {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      const k = key(item);
      if (k === "") return;
      if (seen.has(k)) this.add(field(i), `${what} must be unique ("${k}" is repeated)`);
      seen.add(k);
    });
  }
}

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "https:" || url.protocol === "http:") && url.hostname !== "";
  } catch {
    return false;
  }
}
