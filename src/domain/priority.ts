/** Send priority: OTP before transactional before marketing (SPEC §8). */
export type SendPriority = "otp" | "transactional" | "marketing";

/** Job-queue priority numbers: higher is claimed first. */
export const PRIORITY_RANK: Record<SendPriority, number> = { otp: 30, transactional: 20, marketing: 10 };

export const DEFAULT_PRIORITY: SendPriority = "transactional";
