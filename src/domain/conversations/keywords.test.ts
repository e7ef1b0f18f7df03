import { describe, expect, it } from "vitest";

import { DEFAULT_OPT_IN_KEYWORDS, DEFAULT_OPT_OUT_KEYWORDS, keywordMatcher, normaliseKeyword } from "./keywords.js";

describe("opt-out keywords", () => {
  const match = keywordMatcher({ optOut: DEFAULT_OPT_OUT_KEYWORDS, optIn: DEFAULT_OPT_IN_KEYWORDS });

  it("when a whole message is a keyword in any case, with accents, spaces or punctuation around, then it matches", () => {
    for (const text of ["STOP", "stop", " Stop! ", "BáJa.", "baja", "¡Cancelar!", "dar   de baja", "No más", "👋 stop"]) expect(match(text), text).toBe("opt_out");
    for (const text of ["START", "alta", "Álta!!", "suscribir"]) expect(match(text), text).toBe("opt_in");
  });

  it("when a keyword is only part of the message, or the message is long, then it does not match", () => {
    for (const text of ["stop sending me promos", "no stop", "bajar precio", "", "   ", "x".repeat(500)]) expect(match(text), text).toBeUndefined();
  });

  it("when a word is in both lists, then it opts out (the safer reading)", () => {
    expect(keywordMatcher({ optOut: ["alto"], optIn: ["ALTO"] })("alto")).toBe("opt_out");
  });

  it("normalises to lower case without accents, outer punctuation or repeated spaces", () => {
    expect(normaliseKeyword("  ¡NO   Más!  ")).toBe("no mas");
  });
});
