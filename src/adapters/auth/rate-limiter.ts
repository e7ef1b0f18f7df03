/**
 * Per-tenant request rate limit: one token bucket per tenant, refilled at
 * `ratePerSecond` up to `burst`. In memory, per replica: with N replicas
 * behind a load balancer a tenant gets up to N × the rate. That is the point
 * of it — protecting this process from one noisy tenant — not an exact quota
 * (the per-account send rate shared by replicas lives in PostgreSQL, §8).
 */

export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

export interface TenantRateLimiterOptions {
  ratePerSecond: number;
  burst: number;
  /** Monotonic milliseconds; tests pass their own clock. */
  now?: () => number;
  /** Above this many tracked tenants, buckets that have refilled completely are forgotten. */
  maxTrackedTenants?: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class TenantRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;
  private readonly maxTracked: number;
  private readonly ratePerMs: number;

  constructor(private readonly options: TenantRateLimiterOptions) {
    if (!(options.ratePerSecond > 0) || !(options.burst >= 1)) {
      throw new Error("TenantRateLimiter needs ratePerSecond > 0 and burst >= 1");
    }
    this.now = options.now ?? (() => performance.now());
    this.maxTracked = options.maxTrackedTenants ?? 10_000;
    this.ratePerMs = options.ratePerSecond / 1000;
  }

  /** Takes one request's token from the tenant's bucket, or says when one will be there. */
  take(tenantId: string): RateDecision {
    const now = this.now();
    const bucket = this.buckets.get(tenantId) ?? this.newBucket(tenantId, now);
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + (now - bucket.updatedAt) * this.ratePerMs);
    bucket.updatedAt = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterMs: Math.ceil((1 - bucket.tokens) / this.ratePerMs) };
  }

  /** How many tenants have a bucket now (for tests and metrics). */
  trackedTenants(): number {
    return this.buckets.size;
  }

  private newBucket(tenantId: string, now: number): Bucket {
    if (this.buckets.size >= this.maxTracked) this.forgetFullBuckets(now);
    const bucket = { tokens: this.options.burst, updatedAt: now };
    this.buckets.set(tenantId, bucket);
    return bucket;
  }

  /** A bucket that would be full again is the same as no bucket: dropping it changes no decision. */
  private forgetFullBuckets(now: number): void {
    for (const [tenant, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.updatedAt) * this.ratePerMs >= this.options.burst) this.buckets.delete(tenant);
    }
  }
}
