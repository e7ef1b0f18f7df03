import { DomainError } from "../../../domain/errors.js";

/** Proto3 strings have no "unset": an empty filter means "any". */
export const emptyToUndefined = (value: string) => (value === "" ? undefined : value);

/**
 * The fields an update changes (AIP-134): with a mask, exactly the named
 * ones (an unknown name is InvalidArgument on `update_mask`); without one,
 * every populated field.
 */
export function maskedFields<F extends string>(paths: readonly string[], allowed: readonly F[], populated: Record<F, boolean>): Set<F> {
  if (paths.length === 0) return new Set(allowed.filter((f) => populated[f]));
  const unknown = paths.filter((p) => !(allowed as readonly string[]).includes(p));
  if (unknown.length > 0) throw DomainError.invalid(unknown.map((p) => ({ field: "update_mask", description: `"${p}" cannot be updated` })));
  return new Set(paths as F[]);
}
