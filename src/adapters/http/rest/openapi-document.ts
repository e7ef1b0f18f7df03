import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/** Where the generated document is kept in the repository (and copied into the image). */
export const OPENAPI_FILE = path.join("openapi", "openapi.json");

/**
 * The committed OpenAPI document (generated from the protos by
 * `npm run generate`), found from this module upwards — the same lookup works
 * from `src/` (tsx, tests) and from `dist/src/` (the built image).
 * Undefined when it is not there: `/openapi.json` then answers 404.
 */
export function loadOpenApiDocument(from: string = import.meta.dirname): string | undefined {
  for (let dir = from, i = 0; i < 8; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, OPENAPI_FILE);
    if (existsSync(candidate)) return readFileSync(candidate, "utf8");
  }
  return undefined;
}
