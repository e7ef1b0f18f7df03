import { randomBytes } from "node:crypto";

import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";

import { startTestService, type TestService } from "../support/service.js";
import { postSignedForm } from "../support/twilio-simulator.js";

const ACCOUNT_SID = `AC${randomBytes(16).toString("hex")}`;
const AUTH_TOKEN = "edge-unavailable-token";
const SENDER = "+14155550142";

function inbound(body: string): [string, string][] {
  const sid = `SM${randomBytes(16).toString("hex")}`;
  return [
    ["MessageSid", sid],
    ["SmsMessageSid", sid],
    ["AccountSid", ACCOUNT_SID],
    ["From", "whatsapp:+593991112233"],
    ["To", `whatsapp:${SENDER}`],
    ["Body", body],
    ["NumMedia", "0"],
    ["WaId", "593991112233"],
    ["ProfileName", "Ana"],
    ["SmsStatus", "received"],
    ["ApiVersion", "2010-04-01"],
  ];
}

describe("Twilio webhook edge when the database is unavailable", () => {
  let svc: TestService;
  let admin: postgres.Sql;
  beforeAll(async () => {
    svc = await startTestService({ env: { WORKERS: "none" } });
    admin = postgres(svc.database.url.replace(/\/[^/]+$/, "/postgres"), { max: 1, onnotice: () => {} });
    await svc.service.app.accounts.create({
      id: uuidv7(),
      tenantId: `twilio-down-${randomBytes(3).toString("hex")}`,
      provider: "twilio",
      displayName: "Twilio",
      phoneNumberId: SENDER,
      wabaId: "",
      displayPhoneNumber: SENDER,
      businessId: "",
      rateLimitPerSecond: 10,
      status: "active",
      credentials: { twilioAccountSid: ACCOUNT_SID, twilioAuthToken: AUTH_TOKEN },
      metadata: {},
    });
  });
  afterAll(async () => {
    await admin?.unsafe(`alter database "${svc.database.name}" allow_connections true`).catch(() => {});
    await admin?.end({ timeout: 5 });
    await svc?.cleanup();
  });

  it("when PostgreSQL refuses the service's connections, then Twilio gets 503 (it retries), nothing is stored, and storing resumes once it is back", async () => {
    // No PUBLIC_URL: the URL is rebuilt from the Host header, as Twilio called the service directly.
    const url = `${svc.service.url}/webhook/twilio`;
    await admin.unsafe(`alter database "${svc.database.name}" allow_connections false`);
    await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${svc.database.name} and pid <> pg_backend_pid()`;

    const during = await postSignedForm(url, inbound("durante la caída"), AUTH_TOKEN);
    expect(during.status).toBe(503);
    expect(JSON.parse(during.body)).toEqual({ error: "temporarily unavailable" });

    await admin.unsafe(`alter database "${svc.database.name}" allow_connections true`);
    const after = await postSignedForm(url, inbound("después de la caída"), AUTH_TOKEN);
    expect(after.status).toBe(200);

    const check = postgres(svc.database.url, { max: 1, onnotice: () => {} });
    try {
      const bodies = (await check<{ body: Buffer }[]>`select body from control.webhook_inbox where provider = 'twilio'`).map((r) => r.body.toString("utf8"));
      expect(bodies).toHaveLength(1);
      expect(new URLSearchParams(bodies[0]).get("Body")).toBe("después de la caída");
    } finally {
      await check.end({ timeout: 5 });
    }
    expect(svc.logText()).toContain("answered 503");
    expect(svc.logText()).not.toContain("durante");
  });
});
