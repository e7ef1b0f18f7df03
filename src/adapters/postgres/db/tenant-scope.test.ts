import { describe, expect, it } from "vitest";

import { DomainError } from "../../../domain/errors.js";
import { tenantStatement } from "./migrator.js";
import { tenantSchemaName } from "./tenant-scope.js";

describe("tenantSchemaName", () => {
  it("when ids differ only in punctuation or case, then their schemas differ", () => {
    const names = ["a-b", "a_b", "A-b", "a-B"].map(tenantSchemaName);
    expect(new Set(names).size).toBe(names.length);
  });

  it("when the id is the longest allowed, then the name is a plain identifier of at most 63 chars", () => {
    const name = tenantSchemaName("A" + "b-_".repeat(20) + "x");
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^t_[a-z0-9_]+_[0-9a-f]{8}$/);
  });

  it("when called twice with the same id, then it gives the same name", () => {
    expect(tenantSchemaName("acme")).toBe(tenantSchemaName("acme"));
    expect(tenantSchemaName("acme")).toMatch(/^t_acme_[0-9a-f]{8}$/);
  });

  it("when the id is not a valid tenant id, then it throws invalid_argument", () => {
    for (const bad of ["", "-a", "a.b", "a*", 'a"b', "a b", "x".repeat(64), "é"]) {
      expect(() => tenantSchemaName(bad)).toThrow(DomainError);
    }
  });
});

describe("tenantStatement", () => {
  it("when drizzle-kit qualifies a foreign key with public, then the qualifier is stripped", () => {
    const out = tenantStatement(
      'ALTER TABLE "messages" ADD CONSTRAINT "fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id");',
    );
    expect(out).toBe('ALTER TABLE "messages" ADD CONSTRAINT "fk" FOREIGN KEY ("contact_id") REFERENCES "contacts"("id");');
  });

  it("when a statement still names public, then it is refused", () => {
    expect(() => tenantStatement("insert into public.contacts select 1")).toThrow(/public/);
    expect(() => tenantStatement("set search_path to public")).toThrow();
  });
});
