import { toJson, type Message } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { AccountService } from "../../../../gen/whatsapp/v1/account_pb.js";
import { ConversationService } from "../../../../gen/whatsapp/v1/conversation_pb.js";
import { MessagingService } from "../../../../gen/whatsapp/v1/messaging_pb.js";
import { OtpService } from "../../../../gen/whatsapp/v1/otp_pb.js";
import { TemplateService } from "../../../../gen/whatsapp/v1/template_pb.js";
import { BindError, bindRequest } from "./binder.js";
import { matchTemplate, parseTemplate, TemplateSyntaxError } from "./path-template.js";
import { compileRouteTable, RouteTableError, type RestRoute, type RouteTable } from "./route-table.js";
import { testRegistry, testService } from "./test-proto.test-support.js";

const registry = testRegistry();
const table = compileRouteTable([testService()]);

function routeFor(verb: string, path: string): { route: RestRoute; pathValues: Map<string, string> } {
  const match = table.match(verb, path);
  if (match.kind !== "route") throw new Error(`${verb} ${path}: ${match.kind}`);
  return match;
}

/** Binds a request the way the gateway does and returns it as proto3 JSON. */
function bind(verb: string, url: string, body = "", t: RouteTable = table): unknown {
  const [path, query = ""] = url.split("?");
  const { route, pathValues } = t === table ? routeFor(verb, path!) : (t.match(verb, path!) as { route: RestRoute; pathValues: Map<string, string> });
  const message: Message = bindRequest(route, { pathValues, query: new URLSearchParams(query), body }, registry);
  return toJson(route.method.input, message, { registry });
}

function bindError(verb: string, url: string, body = ""): BindError {
  try {
    bind(verb, url, body);
  } catch (error) {
    if (error instanceof BindError) return error;
    throw error;
  }
  throw new Error("bound without error");
}

describe("path templates", () => {
  it("when a template has a plain variable, then it matches one segment and decodes it", () => {
    const t = parseTemplate("/v1/messages/{message_id}");
    expect(matchTemplate(t, "/v1/messages/abc%20d")).toEqual(new Map([["message_id", "abc d"]]));
    expect(matchTemplate(t, "/v1/messages/a/b")).toBeUndefined();
    expect(matchTemplate(t, "/v1/messages/")).toBeUndefined();
  });

  it("when a variable covers a segment pattern like {name=shelves/*/books/*}, then its value is the matched text and the literals must match", () => {
    const t = parseTemplate("/v1/{name=shelves/*/books/*}");
    expect(matchTemplate(t, "/v1/shelves/s1/books/b%2F2")).toEqual(new Map([["name", "shelves/s1/books/b%2F2"]]));
    expect(matchTemplate(t, "/v1/shelves/s1/tapes/b2")).toBeUndefined();
  });

  it("when a template ends with **, then it matches any number of segments", () => {
    const t = parseTemplate("/v1/files/{name=**}");
    expect(matchTemplate(t, "/v1/files/a/b/c.txt")?.get("name")).toBe("a/b/c.txt");
    expect(matchTemplate(t, "/v1/files")?.get("name")).toBe("");
  });

  it("when a template has a verb, then only paths ending in it match", () => {
    const t = parseTemplate("/v1/messages/{message_id}:undelete");
    expect(matchTemplate(t, "/v1/messages/m1:undelete")).toEqual(new Map([["message_id", "m1"]]));
    expect(matchTemplate(t, "/v1/messages/m1")).toBeUndefined();
  });

  it("when a template is malformed, then parsing says where", () => {
    for (const bad of ["v1/x", "/v1/{unclosed", "/v1/**/x", "/v1/{a}/{a}", "/v1/{a-b}"]) expect(() => parseTemplate(bad)).toThrow(TemplateSyntaxError);
  });
});

describe("the route table", () => {
  it("when a literal and a variable both match, then the literal wins (GET /messages/failed is not GetMessage)", () => {
    expect(routeFor("GET", "/v1/messages/failed").route.method.name).toBe("ListFailed");
    expect(routeFor("GET", "/v1/messages/m1").route.method.name).toBe("GetMessage");
  });

  it("when additional bindings are declared, then each is a route of the same method", () => {
    const nested = routeFor("GET", "/v1/users/u1/messages/m1");
    expect(nested.route.method.name).toBe("GetMessage");
    expect(nested.route.binding).toBe(1);
    expect(routeFor("PUT", "/v1/messages/m1").route.method.name).toBe("UpdateMessage");
    expect(routeFor("PATCH", "/v1/messages/m1").route.method.name).toBe("UpdateMessage");
  });

  it("when the path exists for other methods only, then it is method_not_allowed with the allowed ones; else not_found", () => {
    expect(table.match("DELETE", "/v1/messages/m1")).toEqual({ kind: "method_not_allowed", allow: ["GET", "PATCH", "PUT"] });
    expect(table.match("GET", "/v1/nothing/here")).toEqual({ kind: "not_found" });
  });

  it("when the real services are compiled, then every method of every API service has a route and the seed's paths are there", () => {
    const services = [AccountService, MessagingService, ConversationService, TemplateService, OtpService];
    const real = compileRouteTable(services);
    for (const service of services) for (const method of service.methods) expect(real.routes.some((r) => r.method === method), method.name).toBe(true);
    const id = "0190a000-0000-7000-8000-000000000001";
    const seed: [string, string, string][] = [
      ["POST", "/api/accounts", "CreateAccount"],
      ["GET", `/api/accounts/${id}`, "GetAccount"],
      ["PUT", `/api/accounts/${id}`, "UpdateAccount"],
      ["GET", `/api/accounts/${id}/metrics`, "GetAccountMetrics"],
      ["POST", "/api/messages", "SendMessage"],
      ["GET", `/api/messages/${id}`, "GetMessage"],
      ["GET", "/api/messages/failed", "ListFailedMessages"],
      ["GET", "/api/conversations", "ListConversations"],
      ["GET", `/api/conversations/${id}`, "GetConversation"],
      ["GET", `/api/conversations/${id}/messages`, "ListMessages"],
      ["POST", "/api/templates", "CreateTemplate"],
      ["PUT", `/api/templates/${id}`, "UpdateTemplate"],
      ["POST", "/api/otp/send", "SendOtp"],
      ["POST", "/api/otp/verify", "VerifyOtp"],
      ["GET", "/api/events", "WatchEvents"],
    ];
    for (const [verb, path, name] of seed) {
      const match = real.match(verb, path);
      expect({ path, method: match.kind === "route" ? match.route.method.name : match.kind }).toEqual({ path, method: name });
    }
  });

  it("when an annotation names a field the request does not have, then compiling refuses", () => {
    const broken = { ...testService(), methods: testService().methods.map((m) => m) };
    const method = broken.methods[0]!;
    const fake = { ...method, input: broken.methods[4]!.input };
    expect(() => compileRouteTable([{ ...broken, methods: [fake] }])).toThrow(RouteTableError);
  });
});

describe("binding a request", () => {
  it("when a path has variables, then they set the fields, nested ones ({sub.subfield}) included", () => {
    expect(bind("GET", "/v1/users/u%201/messages/m1")).toEqual({ messageId: "m1", sub: { subfield: "u 1" } });
  });

  it("when there is no body, then scalars, nested fields, repeated fields and enums by name or number come from the query", () => {
    const json = bind("GET", "/v1/messages/m1?revision=9007199254740993&sub.depth=3&tags=a&tags=b&kind=KIND_B&kinds=1&kinds=KIND_B&flag=true&ratio=0.5&limit=7");
    expect(json).toEqual({ messageId: "m1", revision: "9007199254740993", sub: { depth: 3 }, tags: ["a", "b"], kind: "KIND_B", kinds: ["KIND_A", "KIND_B"], flag: true, ratio: 0.5, limit: 7 });
  });

  it("when the query names fields by JSON name, then they are accepted like proto names", () => {
    expect(bind("GET", "/v1/messages/failed?messageId=x&sub.subfield=y")).toEqual({ messageId: "x", sub: { subfield: "y" } });
  });

  it("when the query carries a timestamp, a duration and a field mask, then they are read in their JSON forms (snake_case mask paths too)", () => {
    expect(bind("GET", "/v1/messages/m1?since=2026-01-02T03:04:05Z&wait=1.5s&mask=display_name,sub.subfield")).toEqual({
      messageId: "m1",
      since: "2026-01-02T03:04:05Z",
      wait: "1.500s",
      mask: "displayName,sub.subfield",
    });
  });

  it("when a query value is bad, unknown, repeated for a singular field or for a message, then the binding is refused naming the parameter", () => {
    expect(bindError("GET", "/v1/messages/m1?sub.depth=deep").violations).toEqual([{ field: "sub.depth", description: 'expected an integer, got "deep"' }]);
    expect(bindError("GET", "/v1/messages/m1?nope=1").violations[0]!.field).toBe("nope");
    expect(bindError("GET", "/v1/messages/m1?flag=true&flag=false").violations[0]!.description).toMatch(/more than once/);
    expect(bindError("GET", "/v1/messages/m1?sub=1").violations[0]!.description).toMatch(/is a message/);
    expect(bindError("GET", "/v1/messages/m1?subs.subfield=1").violations[0]!.field).toBe("subs.subfield");
    expect(bindError("GET", "/v1/messages/m1?kind=KIND_C").violations[0]!.field).toBe("kind");
    expect(bindError("GET", "/v1/messages/m1?message_id=other").violations[0]!.description).toBe("set by the URL path");
  });

  it("when body is a field, then the body is that field, the rest comes from the query and the path wins", () => {
    expect(bind("PUT", "/v1/messages/m1?reason=typo&update_mask=text", JSON.stringify({ text: "hi", note: "n" }))).toEqual({
      messageId: "m1",
      message: { text: "hi", note: "n" },
      updateMask: "text",
      reason: "typo",
    });
    expect(bindError("PUT", "/v1/messages/m1?message.text=x", "{}").violations[0]!.description).toBe("set it in the request body");
  });

  it("when a path variable is inside the body field ({message.text}), then the path value wins over the body's", () => {
    expect(bind("PUT", "/v1/nested/from-path", JSON.stringify({ text: "from-body", note: "kept" }))).toEqual({ message: { text: "from-path", note: "kept" } });
  });

  it("when PATCH sends a body field without update_mask, then the mask is the body's fields, as grpc-gateway infers it", () => {
    expect(bind("PATCH", "/v1/messages/m1", JSON.stringify({ note: "only this" }))).toEqual({ messageId: "m1", message: { note: "only this" }, updateMask: "note" });
  });

  it('when body is "*", then the whole request is the body (original or JSON names), the path wins and a query parameter is refused', () => {
    expect(bind("POST", "/v1/messages/m1:undelete", JSON.stringify({ message_id: "body", reason: "r", message: { text: "t" } }))).toEqual({
      messageId: "m1",
      reason: "r",
      message: { text: "t" },
    });
    expect(bindError("POST", "/v1/messages/m1:undelete?reason=elsewhere", "{}").violations).toEqual([{ field: "reason", description: "set it in the request body" }]);
  });

  it("when the body is not JSON or has an unknown field, then the binding is refused", () => {
    expect(bindError("POST", "/v1/messages/m1:undelete", "{nope").message).toMatch(/not JSON/);
    expect(bindError("POST", "/v1/messages/m1:undelete", JSON.stringify({ bogus: 1 })).message).toMatch(/bogus/);
  });

  it("when a variable spans segments ({name=shelves/*/books/*}), then the field gets the whole matched text", () => {
    expect(bind("GET", "/v1/shelves/s1/books/b2")).toEqual({ name: "shelves/s1/books/b2" });
    expect(bind("GET", "/v1/files/a/b.txt")).toEqual({ name: "a/b.txt" });
  });

  it("when a route declares response_body, then the route knows the field to answer with", () => {
    expect(routeFor("GET", "/v1/shelves/s1/books/b2").route.responseField?.name).toBe("message");
  });
});
