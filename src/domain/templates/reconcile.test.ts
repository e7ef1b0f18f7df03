import { describe, expect, it } from "vitest";

import { applyProviderView } from "./reconcile.js";
import type { Template, TemplateStatus } from "./template.js";

function template(status: TemplateStatus, bodyText = "Your order {{1}} shipped"): Template {
  const components = {
    body: { text: bodyText, examples: { positional: ["A-1"], named: {} }, addSecurityRecommendation: false },
    buttons: [],
  } as unknown as Template["components"];
  return {
    id: "t1",
    accountId: "a1",
    wabaId: "w1",
    name: "order_update",
    language: "en_US",
    metaTemplateId: "m1",
    category: "UTILITY",
    parameterFormat: "POSITIONAL",
    components,
    messageSendTtlSeconds: 0,
    status,
    rejectedReason: "",
    qualityScore: "",
    version: 1,
    approvedVersion: status === "APPROVED" ? 1 : 0,
    approved: status === "APPROVED" ? { parameterFormat: "POSITIONAL", components, category: "UTILITY" } : undefined,
    createTime: new Date(0),
    updateTime: new Date(0),
    statusUpdateTime: undefined,
  } as Template;
}

const sameContent = (t: Template) => ({ parameterFormat: t.parameterFormat, components: t.components, messageSendTtlSeconds: 0 });

describe("applyProviderView", () => {
  for (const decided of ["APPROVED", "REJECTED", "PAUSED", "DISABLED"] as const) {
    it(`when a sync's list still says PENDING about unchanged content that is ${decided}, then the status stays ${decided}`, () => {
      const current = template(decided);
      const change = applyProviderView(current, { status: "PENDING", content: sameContent(current), fromList: true });
      expect(change.status).toBe(decided);
      expect(change.statusChanged).toBe(false);
    });
  }

  it("when a sync's list says PENDING about content edited at Meta, then it is a new review: PENDING with a new version", () => {
    const current = template("APPROVED");
    const edited = template("APPROVED", "Your order {{1}} is on its way");
    const change = applyProviderView(current, { status: "PENDING", content: sameContent(edited), fromList: true });
    expect(change).toMatchObject({ status: "PENDING", statusChanged: true, version: 2, approvedVersion: 1 });
  });

  it("when a status webhook says PENDING (a new review Meta announced), then it is applied", () => {
    const current = template("APPROVED");
    expect(applyProviderView(current, { status: "PENDING" }).status).toBe("PENDING");
  });

  it("when a sync's list moves a template forward (PENDING → APPROVED, APPROVED → PAUSED), then it is applied", () => {
    expect(applyProviderView(template("PENDING"), { status: "APPROVED", fromList: true }).status).toBe("APPROVED");
    expect(applyProviderView(template("APPROVED"), { status: "PAUSED", fromList: true }).status).toBe("PAUSED");
  });
});
