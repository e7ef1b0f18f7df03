import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { GraphSimulator } from "../support/graph-simulator.js";
import { deliver, messagesChange, metaEnvelope, newWamid, statusUpdate } from "../support/meta-simulator.js";
import type { TestService } from "../support/service.js";
import { createAccount, outboxEventTypes, pendingJobs, queueMessages, recipient, settled, startOutboundService } from "./support/outbound-harness.js";

const APP_SECRET = "recovery-app-secret";

/** A message left `sending` by a worker that died is never sent again: status webhooks settle it, or it is marked for review. */
describe("sends left in `sending`", () => {
  let simulator: GraphSimulator;
  let svc: TestService;

  beforeAll(async () => {
    simulator = await GraphSimulator.start();
    svc = await startOutboundService({ simulator, env: { META_APP_SECRET: APP_SECRET } });
  });
  afterAll(async () => {
    await svc?.cleanup();
    await simulator?.close();
  });

  it("when Meta's status webhooks name the message (biz_opaque_callback_data), then it takes their wamid and statuses without a second send", async () => {
    const app = svc.service.app;
    const account = await createAccount(app);
    const to = recipient();
    const [id] = await queueMessages(app, account, [{ to }], { abandoned: true });
    // The statuses of the send whose answer was lost, as Meta delivers them.
    const wamid = newWamid();
    const statuses = ["sent", "delivered"].map((status) => statusUpdate({ id: wamid, status: status as "sent", recipientId: to, bizOpaqueCallbackData: id }));
    const answer = await deliver(`${svc.service.url}/webhook`, metaEnvelope(`waba-${account.phoneNumberId}`, [messagesChange({ phoneNumberId: account.phoneNumberId, statuses })]), {
      appSecret: APP_SECRET,
    });
    expect(answer.status).toBe(200);

    const [state] = await settled(app.database.db, account.tenantId, [id!]);
    expect(state).toMatchObject({ status: "delivered", wamid });
    expect(simulator.requestsFor(id!)).toHaveLength(0);
    expect(await outboxEventTypes(app.database.db, account.tenantId)).toEqual(["message.status", "message.status"]);
    expect(await pendingJobs(app.database.db, account.tenantId)).toBe(0);
  });

  it("when no status webhook names it within the window, then it is marked failed as an unknown outcome for review, never resent", async () => {
    const app = svc.service.app;
    const account = await createAccount(app);
    const [id] = await queueMessages(app, account, [{ to: recipient() }], { abandoned: true });
    const [state] = await settled(app.database.db, account.tenantId, [id!]);
    expect(state).toMatchObject({ status: "failed", errorCode: "0", errorTitle: "Send outcome unknown" });
    expect(simulator.requestsFor(id!)).toHaveLength(0);
    expect(await outboxEventTypes(app.database.db, account.tenantId)).toEqual(["message.status", "message.failed"]);
  });
});
