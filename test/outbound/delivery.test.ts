import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { GraphSimulator } from "../support/graph-simulator.js";
import type { TestService } from "../support/service.js";
import { createAccount, outboxEventTypes, pendingJobs, queueMessages, recipient, settled, startOutboundService } from "./support/outbound-harness.js";

describe("delivery through the Graph API", () => {
  let simulator: GraphSimulator;
  let svc: TestService;

  beforeAll(async () => {
    simulator = await GraphSimulator.start();
    svc = await startOutboundService({ simulator });
  });
  afterAll(async () => {
    await svc?.cleanup();
    await simulator?.close();
  });

  it("when messages are queued, then each is sent once with the account's token, lands sent with its wamid and reports message.status", async () => {
    const app = svc.service.app;
    const account = await createAccount(app);
    simulator.setToken(account.phoneNumberId, account.token);
    const ids = await queueMessages(app, account, [{ to: recipient(), text: "hello" }, { to: recipient() }, { to: recipient() }]);

    const states = await settled(app.database.db, account.tenantId, ids);
    for (const state of states) {
      expect(state.status).toBe("sent");
      const accepted = simulator.acceptedFor(state.id);
      expect(accepted).toHaveLength(1);
      expect(state.wamid).toBe(accepted[0]!.wamid);
      expect(state.attemptCount).toBe(1);
    }
    const first = simulator.requestsFor(ids[0]!)[0]!;
    expect(first.body).toMatchObject({ messaging_product: "whatsapp", recipient_type: "individual", type: "text", text: { body: "hello" } });
    expect(await outboxEventTypes(app.database.db, account.tenantId)).toEqual(["message.status", "message.status", "message.status"]);
    expect(await pendingJobs(app.database.db, account.tenantId)).toBe(0);
  });

  it("when OTP, transactional and marketing messages wait together, then OTPs go first and marketing last", async () => {
    const app = svc.service.app;
    const account = await createAccount(app, { rate: 20 });
    // Queued in one transaction, marketing first: the claim order alone decides.
    const items = [
      ...Array.from({ length: 15 }, () => ({ to: recipient(), priority: "marketing" as const })),
      ...Array.from({ length: 5 }, () => ({ to: recipient(), priority: "transactional" as const })),
      ...Array.from({ length: 5 }, () => ({ to: recipient(), priority: "otp" as const })),
    ];
    const ids = await queueMessages(app, account, items);
    await settled(app.database.db, account.tenantId, ids);

    const rankOf = new Map(ids.map((id, i) => [id, { otp: 0, transactional: 1, marketing: 2 }[items[i]!.priority]]));
    const order = simulator.requests.filter((r) => r.phoneNumberId === account.phoneNumberId).map((r) => rankOf.get(r.messageId)!);
    expect(order).toEqual([...Array(5).fill(0), ...Array(5).fill(1), ...Array(15).fill(2)]);
  });
});
