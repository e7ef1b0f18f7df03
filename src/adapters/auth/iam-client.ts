/**
 * The optional IAM permission check of seed 000 §4.2: before a call runs, ask
 * the IAM service whether this user of this company may do this action on this
 * account, and honour its answer.
 *
 * Answers are cached briefly (per user, company, action and account), and
 * identical questions in flight share one request, so a burst of calls costs
 * IAM one request. When IAM cannot answer (timeout, network error, 5xx, a body
 * we cannot read) the configured failure mode decides: `deny` refuses the call
 * as Unavailable, `allow` lets a call with a valid token and the right
 * permission claim through. Failures are not cached: the next call asks again.
 */
import type { IamFailureMode } from "../../config.js";

/** The request body, exactly as seed 000 §4.2 shows it. */
export interface IamQuery {
  action: string;
  account_id: string | undefined;
  company_id: string;
  user_id: string | undefined;
}

export type IamDecision =
  | { allowed: boolean; reachable: true }
  /** IAM did not answer; `allowed` is what the failure mode says. */
  | { allowed: boolean; reachable: false; problem: string };

export interface IamClientOptions {
  url: string;
  timeoutMs: number;
  /** 0 turns the cache off. */
  cacheSeconds: number;
  failureMode: IamFailureMode;
  maxCacheEntries?: number;
  now?: () => number;
  fetch?: typeof fetch;
}

interface CachedAnswer {
  allowed: boolean;
  expiresAt: number;
}

export class IamClient {
  private readonly cache = new Map<string, CachedAnswer>();
  private readonly inFlight = new Map<string, Promise<IamDecision>>();
  private readonly now: () => number;
  private readonly fetch: typeof fetch;
  private readonly maxEntries: number;

  constructor(private readonly options: IamClientOptions) {
    this.now = options.now ?? (() => performance.now());
    this.fetch = options.fetch ?? globalThis.fetch;
    this.maxEntries = options.maxCacheEntries ?? 10_000;
  }

  /**
   * `bearerToken` is the caller's own token, relayed so IAM can authenticate
   * the question; it is not part of the cache key (the verified user is).
   */
  async check(query: IamQuery, bearerToken: string | undefined): Promise<IamDecision> {
    const key = JSON.stringify([query.company_id, query.user_id ?? null, query.action, query.account_id ?? null]);
    const cached = this.cache.get(key);
    if (cached !== undefined && cached.expiresAt > this.now()) return { allowed: cached.allowed, reachable: true };
    const pending = this.inFlight.get(key);
    if (pending !== undefined) return pending;
    const asking = this.ask(query, bearerToken).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, asking);
    const decision = await asking;
    if (decision.reachable) this.remember(key, decision.allowed);
    return decision;
  }

  private async ask(query: IamQuery, bearerToken: string | undefined): Promise<IamDecision> {
    let response: Response;
    try {
      response = await this.fetch(this.options.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json",
          ...(bearerToken === undefined ? {} : { authorization: `Bearer ${bearerToken}` }),
        },
        body: JSON.stringify(query),
        signal: AbortSignal.timeout(this.options.timeoutMs),
        redirect: "error",
      });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      return this.unreachable(timedOut ? `no answer within ${this.options.timeoutMs} ms` : `request failed: ${describe(error)}`);
    }
    // IAM refusing the question (or the relayed token) is an answer, not an outage.
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      return { allowed: false, reachable: true };
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      return this.unreachable(`HTTP ${response.status}`);
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      return this.unreachable(`unreadable answer: ${describe(error)}`);
    }
    return interpret(body, query) ?? this.unreachable("answer has no boolean `allowed`");
  }

  private unreachable(problem: string): IamDecision {
    return { allowed: this.options.failureMode === "allow", reachable: false, problem };
  }

  private remember(key: string, allowed: boolean): void {
    if (this.options.cacheSeconds <= 0) return;
    if (this.cache.size >= this.maxEntries) {
      // Maps iterate in insertion order: drop the oldest answer.
      const oldest = this.cache.keys().next();
      if (oldest.done !== true) this.cache.delete(oldest.value);
    }
    this.cache.delete(key);
    this.cache.set(key, { allowed, expiresAt: this.now() + this.options.cacheSeconds * 1000 });
  }
}

/**
 * `{"allowed": true, "context": {"company_id": …}}`. An answer about another
 * company than the one asked about is a refusal, whatever `allowed` says.
 */
function interpret(body: unknown, query: IamQuery): IamDecision | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const { allowed, context } = body as { allowed?: unknown; context?: unknown };
  if (typeof allowed !== "boolean") return undefined;
  const companyId = typeof context === "object" && context !== null ? (context as { company_id?: unknown }).company_id : undefined;
  if (allowed && companyId !== undefined && companyId !== query.company_id) return { allowed: false, reachable: true };
  return { allowed, reachable: true };
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
  return `${error.message}${cause}`;
}
