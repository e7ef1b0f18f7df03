import { readdir } from "node:fs/promises";
import path from "node:path";
import type { DescFile, DescService } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { accessRuleFor, iamActionFor, Permission, PUBLIC_SERVICES, RPC_RULES } from "./permissions.js";

const GEN_DIR = path.resolve(import.meta.dirname, "../../../gen/whatsapp/v1");

/** Every service of every generated file, found by reading the directory: a new file or service cannot hide. */
async function apiServices(): Promise<DescService[]> {
  const services: DescService[] = [];
  for (const file of (await readdir(GEN_DIR)).filter((f) => f.endsWith("_pb.ts")).sort()) {
    const module = (await import(path.join(GEN_DIR, file))) as Record<string, unknown>;
    for (const value of Object.values(module)) {
      if (typeof value === "object" && value !== null && (value as DescFile).kind === "file") services.push(...(value as DescFile).services);
    }
  }
  return services;
}

describe("the access table", () => {
  it("when a method of any service in gen/whatsapp/v1 is looked up, then it has a rule", async () => {
    const services = await apiServices();
    expect(services.length).toBeGreaterThanOrEqual(5);
    const missing = services.flatMap((s) => s.methods.filter((m) => RPC_RULES[s.typeName]?.[m.name] === undefined).map((m) => `${s.typeName}/${m.name}`));
    expect(missing).toEqual([]);
  });

  it("when a rule is listed, then its method exists (no stale rows)", async () => {
    const existing = new Set((await apiServices()).flatMap((s) => s.methods.map((m) => `${s.typeName}/${m.name}`)));
    const stale = Object.entries(RPC_RULES).flatMap(([service, methods]) => Object.keys(methods).map((m) => `${service}/${m}`)).filter((rpc) => !existing.has(rpc));
    expect(stale).toEqual([]);
  });

  it("when the seed's permissions are compared, then each RPC needs the one seed 000 names", () => {
    const need = (service: string, method: string) => {
      const rule = accessRuleFor(`whatsapp.v1.${service}`, method);
      return rule?.kind === "tenant" ? rule.permission : rule?.kind;
    };
    expect(need("AccountService", "CreateAccount")).toBe(Permission.ADMIN);
    expect(need("AccountService", "UpdateAccount")).toBe(Permission.ADMIN);
    expect(need("AccountService", "GetAccount")).toBe(Permission.READ);
    expect(need("AccountService", "GetAccountMetrics")).toBe(Permission.READ);
    expect(need("MessagingService", "SendMessage")).toBe(Permission.SEND);
    expect(need("MessagingService", "GetMessage")).toBe(Permission.READ);
    expect(need("ConversationService", "ListMessages")).toBe(Permission.READ);
    expect(need("ConversationService", "UpdateConversation")).toBe(Permission.SEND);
    expect(need("ConversationService", "WatchEvents")).toBe(Permission.READ);
    expect(need("TemplateService", "CreateTemplate")).toBe(Permission.ADMIN);
    expect(need("TemplateService", "UpdateTemplate")).toBe(Permission.ADMIN);
    expect(need("OtpService", "SendOtp")).toBe(Permission.SEND);
    expect(need("OtpService", "VerifyOtp")).toBe(Permission.VERIFY);
  });

  it("when a rule needs send, admin or verify, then it is a mutation; read rules are not", () => {
    for (const methods of Object.values(RPC_RULES)) {
      for (const rule of Object.values(methods)) expect(rule.mutates).toBe(rule.permission !== Permission.READ);
    }
  });

  it("when health or reflection is looked up, then it is public", () => {
    for (const service of PUBLIC_SERVICES) expect(accessRuleFor(service, "Check")).toEqual({ kind: "public" });
  });

  it("when an unknown or prototype-named RPC is looked up, then there is no rule (callers refuse it)", () => {
    expect(accessRuleFor("whatsapp.v1.AccountService", "DropAllTables")).toBeUndefined();
    expect(accessRuleFor("whatsapp.v1.AccountService", "constructor")).toBeUndefined();
    expect(accessRuleFor("toString", "call")).toBeUndefined();
  });

  it("when an IAM action is derived, then it is seed 000's snake_case form", () => {
    expect(iamActionFor("SendMessage")).toBe("whatsapp:send_message");
    expect(iamActionFor("GetAccountMetrics")).toBe("whatsapp:get_account_metrics");
    expect(iamActionFor("VerifyOtp")).toBe("whatsapp:verify_otp");
  });
});
