/**
 * The events stream (SPEC §7): created at start when missing, updated when
 * the settings we own differ (subjects, max age, replicas, duplicate window),
 * refused with a clear error when it differs in a way JetStream cannot
 * change in place (storage, retention). Settings we do not own (max_msgs,
 * max_bytes…) are left as an operator set them.
 *
 * Only JetStream API of nats-server 2.9 is used (no 2.10+ fields).
 */
import { JetStreamApiError, jetstreamManager, RetentionPolicy, StorageType, type StreamConfig } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

/** Every event subject is `whatsapp.{tenant}.{event}` (see events/encoded-event.ts `subjectFor`). */
export const EVENT_SUBJECTS: readonly string[] = ["whatsapp.>"];

export interface StreamSettings {
  name: string;
  subjects: readonly string[];
  /** 0 = keep events until other limits drop them. */
  maxAgeSeconds: number;
  replicas: number;
  /** A re-published event id within this window is dropped by JetStream. */
  duplicateWindowSeconds: number;
}

export interface StreamConfigSource {
  natsStream: string;
  natsStreamMaxAgeSeconds: number;
  natsStreamReplicas: number;
  natsDuplicateWindowSeconds: number;
}

export function streamSettingsFromConfig(config: StreamConfigSource): StreamSettings {
  return {
    name: config.natsStream,
    subjects: EVENT_SUBJECTS,
    maxAgeSeconds: config.natsStreamMaxAgeSeconds,
    replicas: config.natsStreamReplicas,
    duplicateWindowSeconds: config.natsDuplicateWindowSeconds,
  };
}

/** The stream cannot be made to match the settings without an operator (or the settings are contradictory). */
export class StreamConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StreamConfigError";
  }
}

export type StreamSetupOutcome =
  | { action: "created" }
  | { action: "updated"; changed: string[] }
  | { action: "unchanged" };

/** The subset of a pino logger this module uses. */
export interface StreamLogger {
  info(obj: Record<string, unknown>, msg: string): void;
}

/** JetStream API error codes (nats-server's errors.json) this module reacts to. */
const STREAM_NOT_FOUND = 10059;
const STREAM_NAME_IN_USE = 10058;

const NANOS_PER_SECOND = 1_000_000_000;

/** The part of the stream's configuration we own, in JetStream's terms. */
export function desiredStreamConfig(settings: StreamSettings): Partial<StreamConfig> & { name: string } {
  return {
    name: settings.name,
    subjects: [...settings.subjects],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: settings.maxAgeSeconds * NANOS_PER_SECOND,
    num_replicas: settings.replicas,
    duplicate_window: settings.duplicateWindowSeconds * NANOS_PER_SECOND,
  };
}

/**
 * What must change to turn `current` into `desired`: the fields JetStream
 * can update in place, and those it cannot (which make setup fail).
 */
export function diffStreamConfig(
  current: Partial<StreamConfig>,
  desired: Partial<StreamConfig>,
): { updatable: string[]; immutable: string[] } {
  const updatable: string[] = [];
  const immutable: string[] = [];
  if (current.storage !== desired.storage) immutable.push(`storage (is ${current.storage}, want ${desired.storage})`);
  if (current.retention !== desired.retention) immutable.push(`retention (is ${current.retention}, want ${desired.retention})`);
  if (!sameSet(current.subjects ?? [], desired.subjects ?? [])) updatable.push("subjects");
  if ((current.max_age ?? 0) !== desired.max_age) updatable.push("max_age");
  if ((current.num_replicas ?? 1) !== desired.num_replicas) updatable.push("num_replicas");
  if ((current.duplicate_window ?? 0) !== desired.duplicate_window) updatable.push("duplicate_window");
  return { updatable, immutable };
}

/** Creates the stream, or brings the settings we own up to date. Throws StreamConfigError when it cannot. */
export async function ensureStream(nc: NatsConnection, settings: StreamSettings, logger: StreamLogger): Promise<StreamSetupOutcome> {
  if (settings.maxAgeSeconds > 0 && settings.duplicateWindowSeconds > settings.maxAgeSeconds) {
    throw new StreamConfigError(
      `stream ${settings.name}: the duplicate window (${settings.duplicateWindowSeconds} s) cannot be longer than max age (${settings.maxAgeSeconds} s)`,
    );
  }
  const jsm = await jetstreamManager(nc);
  const desired = desiredStreamConfig(settings);
  const summary = { stream: settings.name, subjects: desired.subjects, maxAgeSeconds: settings.maxAgeSeconds, replicas: settings.replicas, duplicateWindowSeconds: settings.duplicateWindowSeconds };

  // Two replicas starting together may both find the stream missing; the
  // loser of the create race sees "name in use" and goes round once more.
  for (let attempt = 0; ; attempt++) {
    const current = await jsm.streams.info(settings.name).catch((error: unknown) => {
      if (apiCode(error) === STREAM_NOT_FOUND) return undefined;
      throw error;
    });
    if (current === undefined) {
      try {
        await jsm.streams.add(desired);
      } catch (error) {
        if (apiCode(error) === STREAM_NAME_IN_USE && attempt === 0) continue;
        throw asConfigError(error, `cannot create stream ${settings.name}`);
      }
      logger.info(summary, `created JetStream stream ${settings.name}`);
      return { action: "created" };
    }

    const { updatable, immutable } = diffStreamConfig(current.config, desired);
    if (immutable.length > 0) {
      throw new StreamConfigError(
        `stream ${settings.name} exists with settings that cannot be changed in place: ${immutable.join("; ")}. ` +
          `Move its events elsewhere and delete it (it is recreated at start), or set NATS_STREAM to another name.`,
      );
    }
    if (updatable.length === 0) {
      logger.info(summary, `JetStream stream ${settings.name} is up to date`);
      return { action: "unchanged" };
    }
    const { name: _name, retention: _retention, storage: _storage, ...changes } = desired;
    try {
      await jsm.streams.update(settings.name, changes);
    } catch (error) {
      throw asConfigError(error, `cannot update stream ${settings.name} (${updatable.join(", ")})`);
    }
    logger.info({ ...summary, changed: updatable }, `updated JetStream stream ${settings.name}: ${updatable.join(", ")}`);
    return { action: "updated", changed: updatable };
  }
}

/**
 * JetStream refusing a configuration (e.g. replicas > 1 on a single server,
 * subjects that overlap another stream) is a configuration problem, not an
 * outage: say so with the server's own description.
 */
function asConfigError(error: unknown, what: string): unknown {
  if (error instanceof JetStreamApiError) {
    return new StreamConfigError(`${what}: ${error.message} (JetStream error ${error.code})`, { cause: error });
  }
  return error;
}

function apiCode(error: unknown): number | undefined {
  return error instanceof JetStreamApiError ? error.code : undefined;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  return left.size === new Set(b).size && b.every((s) => left.has(s));
}
