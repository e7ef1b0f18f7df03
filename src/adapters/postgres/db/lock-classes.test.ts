import { describe, expect, it } from "vitest";

import { LockClass } from "./lock-classes.js";

describe("advisory lock classes", () => {
  it("when every class is listed, then no two share a number and each fits PostgreSQL's int4 key", () => {
    const values = Object.values(LockClass);
    expect(new Set(values).size).toBe(values.length);
    for (const v of values) expect(v).toBeLessThanOrEqual(2 ** 31 - 1);
  });
});
