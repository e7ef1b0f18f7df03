import { RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";

import { desiredStreamConfig, diffStreamConfig, streamSettingsFromConfig } from "./stream.js";

const settings = streamSettingsFromConfig({
  natsStream: "WHATSAPP",
  natsStreamMaxAgeSeconds: 7 * 24 * 3600,
  natsStreamReplicas: 1,
  natsDuplicateWindowSeconds: 120,
});

describe("stream settings", () => {
  it("when built from the config, then the stream takes every event subject, file storage and limits retention", () => {
    expect(desiredStreamConfig(settings)).toEqual({
      name: "WHATSAPP",
      subjects: ["whatsapp.>"],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: 7 * 24 * 3600 * 1e9,
      num_replicas: 1,
      duplicate_window: 120 * 1e9,
    });
  });

  it("when the existing stream matches (subjects in any order), then there is nothing to change", () => {
    const desired = desiredStreamConfig(settings);
    expect(diffStreamConfig({ ...desired, max_msgs: 1_000 }, desired)).toEqual({ updatable: [], immutable: [] });
  });

  it("when ages, replicas or subjects differ, then those are updatable", () => {
    const desired = desiredStreamConfig(settings);
    const current = { ...desired, subjects: ["whatsapp.*.message.>"], max_age: 0, num_replicas: 3, duplicate_window: 60 * 1e9 };
    expect(diffStreamConfig(current, desired)).toEqual({ updatable: ["subjects", "max_age", "num_replicas", "duplicate_window"], immutable: [] });
  });

  it("when storage or retention differ, then they are reported as impossible to change in place", () => {
    const desired = desiredStreamConfig(settings);
    const current = { ...desired, storage: StorageType.Memory, retention: RetentionPolicy.Workqueue };
    expect(diffStreamConfig(current, desired).immutable).toEqual(["storage (is memory, want file)", "retention (is workqueue, want limits)"]);
  });
});
