import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { TestService } from "../support/service.js";
import { createAccount, messageStates, outboxEventTypes, queueMessages, recipient, startOutboundService } from "./support/outbound-harness.js";
import { eventually } from "../kit/eventually.js";

/** The SANDBOX provider: no credentials, and statuses through the same path as Meta's webhooks. */
describe("sandbox provider", () => {
  let svc: TestService;

  beforeAll(async () => {
    svc = await startOutboundService();
  });
  afterAll(async () => {
    await svc?.cleanup();
  });

  it("when a message is sent through a sandbox account, then it goes sent → delivered → read, each reported as message.status", async () => {
    const app = svc.service.app;
    const account = await createAccount(app, { provider: "sandbox" });
    const [id] = await queueMessages(app, account, [{ to: recipient(), text: "hello sandbox" }]);

    const [state] = await eventually("the sandbox to report the message read", async () => {
      const states = await messageStates(app.database.db, account.tenantId, [id!]);
      return states[0]?.status === "read" ? states : undefined;
    });
    expect(state!.wamid).toMatch(/^wamid\.SANDBOX/);
    // sent (by the sender, at acceptance), delivered and read (by the inbox worker, from the sandbox's status deliveries);
    // the sandbox's own `sent` status is stale by then and reports nothing.
    expect(await outboxEventTypes(app.database.db, account.tenantId)).toEqual(["message.status", "message.status", "message.status"]);
  });
});
