import { PassThrough } from "node:stream";

import { describe, expect, it } from "vitest";

import { ConfigError, loadConfig, parseListenAddress } from "../config.js";
import { createLogger } from "./logger.js";
import { operationOf } from "./postgres-tracing.js";
import { tracingWanted } from "./tracing.js";

describe("tracingWanted", () => {
  it("when no exporter is configured, then tracing stays off", () => {
    expect(tracingWanted({})).toBe(false);
    expect(tracingWanted({ OTEL_SERVICE_NAME: "x", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" })).toBe(false);
  });

  it("when an OTLP endpoint or a traces exporter is set, then tracing is on", () => {
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toBe(true);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://collector:4318/v1/traces" })).toBe(true);
    expect(tracingWanted({ OTEL_TRACES_EXPORTER: "console" })).toBe(true);
  });

  it("when the SDK is disabled or the exporter is none, then tracing is off whatever else is set", () => {
    expect(tracingWanted({ OTEL_SDK_DISABLED: "true", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" })).toBe(false);
    expect(tracingWanted({ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" })).toBe(false);
  });
});

describe("operationOf", () => {
  it("when given a statement, then the span name is its first keyword", () => {
    expect(operationOf('select "id" from "messages" where "id" = $1')).toBe("SELECT");
    expect(operationOf("\n  with x as (update t set a = $1 returning id) select id from x")).toBe("WITH");
    expect(operationOf("/* hot */ insert into control.outbox values ($1)")).toBe("INSERT");
    expect(operationOf("")).toBe("QUERY");
  });
});

describe("METRICS_ADDRESS", () => {
  it("when host:port, [ipv6]:port or :port, then it is parsed", () => {
    expect(parseListenAddress("127.0.0.1:9464")).toEqual({ host: "127.0.0.1", port: 9464 });
    expect(parseListenAddress("[::1]:9464")).toEqual({ host: "::1", port: 9464 });
    expect(parseListenAddress(":9464")).toEqual({ host: "0.0.0.0", port: 9464 });
  });

  it("when it is not an address, then the service refuses to start naming the variable", () => {
    expect(() => loadConfig({ METRICS_ADDRESS: "9464" })).toThrow(ConfigError);
    expect(() => loadConfig({ METRICS_ADDRESS: "localhost:99999" })).toThrow(/METRICS_ADDRESS: port must be 0-65535/);
    expect(loadConfig({ METRICS_ADDRESS: "127.0.0.1:0" }).metricsAddress).toEqual({ host: "127.0.0.1", port: 0 });
    expect(loadConfig({}).metricsAddress).toBeUndefined();
  });
});

describe("logger", () => {
  it("when tracing is off, then log lines carry no trace fields", () => {
    const sink = new PassThrough();
    const lines: string[] = [];
    sink.on("data", (chunk: Buffer) => lines.push(chunk.toString("utf8")));
    const logger = createLogger({ level: "info", destination: sink, pretty: false });
    logger.info({ a: 1 }, "hello");
    const line = JSON.parse(lines.join("")) as Record<string, unknown>;
    expect(line.msg).toBe("hello");
    expect(line).not.toHaveProperty("trace_id");
    expect(line).not.toHaveProperty("span_id");
  });
});
