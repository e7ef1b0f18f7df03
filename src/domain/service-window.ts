/**
 * WhatsApp's 24-hour customer-service window (reference §7.5): after the
 * user's last message, any message type may be sent for 24 hours; outside
 * it only approved templates (anything else fails with 131047). The window
 * belongs to one business number and one user, and reopens with each new
 * message of the user.
 */
export const SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000;

export interface ServiceWindow {
  open: boolean;
  /** When it closes (closed); undefined when the user never wrote. */
  expireTime: Date | undefined;
}

/** The window at `now` (the caller's clock, so tests can move it), given the user's last inbound message. */
export function serviceWindowAt(lastInboundTime: Date | undefined, now: Date): ServiceWindow {
  if (lastInboundTime === undefined) return { open: false, expireTime: undefined };
  const expireTime = new Date(lastInboundTime.getTime() + SERVICE_WINDOW_MS);
  return { open: now.getTime() < expireTime.getTime(), expireTime };
}
