import { describe, expect, it } from "vitest";
import { isDatabaseUnavailable } from "./database-unavailable.js";

const withCode = (code: string) => Object.assign(new Error("boom"), { code });

describe("isDatabaseUnavailable", () => {
  it("when the driver lost the connection (even wrapped by drizzle), then it is unavailability", () => {
    expect(isDatabaseUnavailable(withCode("CONNECTION_CLOSED"))).toBe(true);
    expect(isDatabaseUnavailable(new Error("Failed query", { cause: withCode("57P01") }))).toBe(true);
    expect(isDatabaseUnavailable(new Error("outer", { cause: new Error("mid", { cause: withCode("ECONNREFUSED") }) }))).toBe(true);
    expect(isDatabaseUnavailable(withCode("08006"))).toBe(true);
  });

  it("when the error is a constraint violation or a plain bug, then it is not", () => {
    expect(isDatabaseUnavailable(withCode("23505"))).toBe(false);
    expect(isDatabaseUnavailable(new TypeError("x is undefined"))).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
  });
});
