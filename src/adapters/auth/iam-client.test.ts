import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { IamClient, type IamClientOptions, type IamQuery } from "./iam-client.js";

interface Seen {
  body: unknown;
  authorization: string | undefined;
}

/** A real IAM stand-in over HTTP: each test says how it answers. */
let answer: (req: IncomingMessage, res: ServerResponse, body: unknown) => void;
let seen: Seen[];
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk.toString()));
    req.on("end", () => {
      const body = JSON.parse(text) as unknown;
      seen.push({ body, authorization: req.headers.authorization });
      answer(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/permissions/check`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen = [];
  answer = (_req, res) => json(res, 200, { allowed: true });
});

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

const query: IamQuery = { action: "whatsapp:send_message", account_id: "abc123", company_id: "company_456", user_id: "user_789" };

function client(options: Partial<IamClientOptions> = {}) {
  let ms = 0;
  const iam = new IamClient({ url, timeoutMs: 2_000, cacheSeconds: 30, failureMode: "deny", now: () => ms, ...options });
  return { iam, advance: (by: number) => void (ms += by) };
}

describe("IamClient", () => {
  it("when IAM allows, then the call is allowed and IAM saw seed 000's request with the caller's token", async () => {
    const { iam } = client();
    expect(await iam.check(query, "the.caller.token")).toEqual({ allowed: true, reachable: true });
    expect(seen).toEqual([{ body: query, authorization: "Bearer the.caller.token" }]);
  });

  it("when IAM answers allowed false, or 403, then the call is denied", async () => {
    answer = (_req, res) => json(res, 200, { allowed: false });
    expect(await client().iam.check(query, undefined)).toEqual({ allowed: false, reachable: true });
    answer = (_req, res) => json(res, 403, { error: "forbidden" });
    expect(await client().iam.check(query, undefined)).toEqual({ allowed: false, reachable: true });
  });

  it("when IAM allows but for another company, then the call is denied", async () => {
    answer = (_req, res) => json(res, 200, { allowed: true, context: { company_id: "company_999" } });
    expect((await client().iam.check(query, undefined)).allowed).toBe(false);
  });

  it("when the same question is asked within the cache time, then IAM is asked once; after it, again", async () => {
    const { iam, advance } = client({ cacheSeconds: 10 });
    await iam.check(query, undefined);
    await iam.check(query, undefined);
    expect(seen).toHaveLength(1);
    await iam.check({ ...query, account_id: "other" }, undefined);
    expect(seen).toHaveLength(2);
    advance(10_001);
    await iam.check(query, undefined);
    expect(seen).toHaveLength(3);
  });

  it("when the same question is asked many times at once, then IAM gets one request", async () => {
    const { iam } = client();
    const decisions = await Promise.all(Array.from({ length: 20 }, () => iam.check(query, undefined)));
    expect(decisions.every((d) => d.allowed)).toBe(true);
    expect(seen).toHaveLength(1);
  });

  it("when IAM answers 500, then failure mode deny refuses, allow allows, and neither answer is cached", async () => {
    answer = (_req, res) => json(res, 500, {});
    const deny = client({ failureMode: "deny" }).iam;
    expect(await deny.check(query, undefined)).toEqual({ allowed: false, reachable: false, problem: "HTTP 500" });
    const allow = client({ failureMode: "allow" }).iam;
    expect(await allow.check(query, undefined)).toMatchObject({ allowed: true, reachable: false });
    answer = (_req, res) => json(res, 200, { allowed: false });
    expect(await allow.check(query, undefined)).toEqual({ allowed: false, reachable: true });
  });

  it("when IAM answers something that is not a decision, then it counts as unreachable", async () => {
    answer = (_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<html>login</html>");
    expect(await client().iam.check(query, undefined)).toMatchObject({ allowed: false, reachable: false, problem: expect.stringMatching(/unreadable/) });
    answer = (_req, res) => json(res, 200, { allowed: "yes" });
    expect(await client().iam.check(query, undefined)).toMatchObject({ reachable: false, problem: expect.stringMatching(/allowed/) });
  });

  it("when IAM does not answer in time, then the failure mode decides", async () => {
    answer = () => {}; // holds the request open
    const decision = await client({ timeoutMs: 100, failureMode: "deny" }).iam.check(query, undefined);
    expect(decision).toEqual({ allowed: false, reachable: false, problem: "no answer within 100 ms" });
  });

  it("when nothing listens at IAM_URL, then the failure mode decides", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const iam = new IamClient({ url: `http://127.0.0.1:${port}/`, timeoutMs: 2_000, cacheSeconds: 30, failureMode: "allow" });
    expect(await iam.check(query, undefined)).toMatchObject({ allowed: true, reachable: false, problem: expect.stringMatching(/request failed/) });
  });
});
