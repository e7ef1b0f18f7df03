/**
 * Message templates of a WhatsApp Business Account (reference §7.6, §8):
 * what a template is made of, its review status and its versions. Pure
 * data; validation, placeholders, rendering and the send check live beside.
 */

export const TEMPLATE_CATEGORIES = ["MARKETING", "UTILITY", "AUTHENTICATION"] as const;
export type TemplateCategory = (typeof TEMPLATE_CATEGORIES)[number];

/** Meta's review statuses, plus DRAFT: stored here, not (yet) accepted for review. */
export const TEMPLATE_STATUSES = [
  "DRAFT",
  "PENDING",
  "APPROVED",
  "REJECTED",
  "PAUSED",
  "DISABLED",
  "IN_APPEAL",
  "PENDING_DELETION",
  "DELETED",
  "ARCHIVED",
  "LIMIT_EXCEEDED",
] as const;
export type TemplateStatus = (typeof TEMPLATE_STATUSES)[number];

export type ParameterFormat = "POSITIONAL" | "NAMED";

export interface TemplateExamples {
  /** POSITIONAL: one per placeholder, in order. */
  positional: string[];
  /** NAMED: example by placeholder name. */
  named: Record<string, string>;
}

export type HeaderFormat = "TEXT" | "IMAGE" | "VIDEO" | "DOCUMENT" | "LOCATION";

export interface TemplateHeader {
  format: HeaderFormat;
  /** TEXT only. */
  text: string;
  examples: TemplateExamples;
  /** Media headers: a sample for review (upload handle or URL). */
  exampleMedia: string;
}

export interface TemplateBody {
  /** "" for AUTHENTICATION templates (Meta fixes the text). */
  text: string;
  examples: TemplateExamples;
  /** AUTHENTICATION only. */
  addSecurityRecommendation: boolean;
}

export interface TemplateFooter {
  text: string;
  /** AUTHENTICATION only: 1–90; 0 = none. */
  codeExpirationMinutes: number;
}

export type OtpType = "COPY_CODE" | "ONE_TAP" | "ZERO_TAP";

export type TemplateButton =
  | { kind: "quick_reply"; text: string }
  | { kind: "url"; text: string; url: string; example: string }
  | { kind: "phone_number"; text: string; phoneNumber: string }
  | { kind: "copy_code"; example: string }
  | { kind: "otp"; otpType: OtpType; text: string; supportedApps: { packageName: string; signatureHash: string }[] };

export interface TemplateComponents {
  header: TemplateHeader | undefined;
  body: TemplateBody;
  footer: TemplateFooter | undefined;
  buttons: TemplateButton[];
}

/** What a caller defines (and what each version holds). */
export interface TemplateContent {
  category: TemplateCategory;
  parameterFormat: ParameterFormat;
  components: TemplateComponents;
  /** 0 = the provider's default. */
  messageSendTtlSeconds: number;
}

export interface Template extends TemplateContent {
  id: string;
  accountId: string;
  /** The account's WABA id ("" for an account without one). */
  wabaId: string;
  name: string;
  language: string;
  /** The provider's id; "" until submitted. */
  metaTemplateId: string;
  status: TemplateStatus;
  rejectedReason: string;
  qualityScore: string;
  version: number;
  /** 0 when no version was ever approved. */
  approvedVersion: number;
  /** What sends must match: the approved version's content (undefined when none). */
  approved: { parameterFormat: ParameterFormat; components: TemplateComponents; category: TemplateCategory } | undefined;
  createTime: Date;
  updateTime: Date;
  statusUpdateTime: Date | undefined;
}

/**
 * Templates of one WABA are shared by its numbers; an account without a
 * WABA id (sandbox, or not configured yet) keeps its own.
 */
export function templateOwnerKey(account: { id: string; wabaId: string }): string {
  return account.wabaId !== "" ? account.wabaId : `account:${account.id}`;
}

export function emptyExamples(): TemplateExamples {
  return { positional: [], named: {} };
}

/**
 * Whether messages may be sent with the template now: approved, or an edit
 * of an approved version under review (the approved content stays in use).
 */
export function isSendable(template: Pick<Template, "status" | "approved">): boolean {
  if (template.approved === undefined) return false;
  return template.status === "APPROVED" || template.status === "PENDING" || template.status === "IN_APPEAL";
}

/** Meta allows edits of these statuses only (reference §7.6). */
export function isEditable(status: TemplateStatus): boolean {
  return status === "APPROVED" || status === "REJECTED" || status === "PAUSED" || status === "DRAFT";
}

/**
 * The stored status a provider event leads to; undefined when the event
 * does not change it (FLAGGED keeps the template APPROVED; LOCKED/UNLOCKED
 * say nothing about review).
 */
export function statusForProviderEvent(event: string): TemplateStatus | undefined {
  const e = event.toUpperCase();
  switch (e) {
    case "APPROVED":
    case "REINSTATED":
    case "UNARCHIVED":
      return "APPROVED";
    case "PENDING":
    case "REJECTED":
    case "PAUSED":
    case "DISABLED":
    case "IN_APPEAL":
    case "PENDING_DELETION":
    case "DELETED":
    case "ARCHIVED":
    case "LIMIT_EXCEEDED":
      return e;
    default:
      return undefined;
  }
}

/** A status string from the provider (any case) → ours, or undefined when unknown. */
export function parseTemplateStatus(value: string): TemplateStatus | undefined {
  const upper = value.toUpperCase();
  return (TEMPLATE_STATUSES as readonly string[]).includes(upper) ? (upper as TemplateStatus) : statusForProviderEvent(upper);
}

export function parseTemplateCategory(value: string): TemplateCategory | undefined {
  const upper = value.toUpperCase();
  return (TEMPLATE_CATEGORIES as readonly string[]).includes(upper) ? (upper as TemplateCategory) : undefined;
}

/**
 * Meta's sample template present in every new WABA; the sandbox provides
 * it too, so a fresh sandbox account can send a template at once.
 */
export const HELLO_WORLD: Pick<Template, "name" | "language"> & TemplateContent = {
  name: "hello_world",
  language: "en_US",
  category: "UTILITY",
  parameterFormat: "POSITIONAL",
  messageSendTtlSeconds: 0,
  components: {
    header: { format: "TEXT", text: "Hello World", examples: emptyExamples(), exampleMedia: "" },
    body: {
      text: "Welcome and congratulations!! This message demonstrates your ability to send a WhatsApp message notification from the Cloud API, hosted by Meta. Thank you for taking the time to test with us.",
      examples: emptyExamples(),
      addSecurityRecommendation: false,
    },
    footer: { text: "WhatsApp Business Platform sample message", codeExpirationMinutes: 0 },
    buttons: [],
  },
};
