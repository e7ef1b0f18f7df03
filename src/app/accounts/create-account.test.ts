/** createAccount over the in-memory account repository: defaults, validation by field, request-id repeats. */
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import { InMemoryAccountRepository } from "../../../test/kit/fakes/account-repository.js";
import type { DomainError } from "../../domain/errors.js";
import { createAccount, type CreateAccountInput } from "./create-account.js";
import { getAccount } from "./read-accounts.js";

const input = (extra: Partial<CreateAccountInput> = {}): CreateAccountInput => ({
  provider: "meta",
  displayName: "Acme",
  phoneNumberId: "106540352242922",
  wabaId: "102290129340398",
  displayPhoneNumber: "+1 415 555 0100",
  businessId: "",
  rateLimitPerSecond: 0,
  status: undefined,
  credentials: { accessToken: "EAAG-token" },
  metadata: {},
  requestId: "",
  ...extra,
});

function setup() {
  const accounts = new InMemoryAccountRepository();
  return { accounts, deps: { accounts, newId: () => randomUUID() } };
}

describe("createAccount", () => {
  it("when a Meta number is connected, then it is active at the default rate, its number in E.164, and only the credential names are shown", async () => {
    const { deps } = setup();
    const account = await createAccount(deps, "acme", input());
    expect(account).toMatchObject({ status: "active", rateLimitPerSecond: 80, displayPhoneNumber: "+14155550100", credentialsSet: ["accessToken"] });
    expect(JSON.stringify(account)).not.toContain("EAAG-token");
    expect(await getAccount(deps, "acme", account.id)).toEqual(account);
  });

  it("when the same request id comes twice, then the first account is returned and no second one exists", async () => {
    const { deps, accounts } = setup();
    const first = await createAccount(deps, "acme", input({ requestId: "r-1" }));
    const again = await createAccount(deps, "acme", input({ requestId: "r-1" }));
    expect(again.id).toBe(first.id);
    expect(accounts.rows.size).toBe(1);
  });

  it("when the rate is above WhatsApp's ceiling and the display number is not a number, then both fields are named and nothing is stored", async () => {
    const { deps, accounts } = setup();
    const error = await createAccount(deps, "acme", input({ rateLimitPerSecond: 5_000, displayPhoneNumber: "call us" })).then(
      () => expect.unreachable("the account should be refused"),
      (e: unknown) => e as DomainError,
    );
    expect(error.kind).toBe("invalid_argument");
    expect(error.violations.map((v) => v.field).sort()).toEqual(["account.display_phone_number", "account.rate_limit_per_second"]);
    expect(accounts.rows.size).toBe(0);
  });

  it("when another tenant asks for the account, then NotFound", async () => {
    const { deps } = setup();
    const account = await createAccount(deps, "acme", input());
    await expect(getAccount(deps, "other", account.id)).rejects.toMatchObject({ kind: "not_found", reason: "ACCOUNT_NOT_FOUND" });
  });
});
