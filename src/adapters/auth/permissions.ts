/**
 * The access table: for every RPC, the permission a token must carry and
 * whether the call changes state (mutations get an audit line). One place, so
 * a reviewer sees the whole policy at once; a unit test fails when a method of
 * a service in gen/whatsapp/v1 has no row, or a row names no method.
 *
 * Permissions follow seed 000 (§3.1, §4.2): `admin` manages accounts and
 * templates, `send` sends and changes conversations, `read` reads (including
 * the `WatchEvents` stream), `verify` checks one-time codes. A permission does
 * not imply another: an admin token that should also read carries both.
 */

export const Permission = {
  ADMIN: "whatsapp:admin",
  SEND: "whatsapp:send",
  READ: "whatsapp:read",
  VERIFY: "whatsapp:verify",
} as const;
export type Permission = (typeof Permission)[keyof typeof Permission];

export interface RpcRule {
  permission: Permission;
  /** True when the call changes state: it gets an audit line whatever its outcome. */
  mutates: boolean;
}

const read: RpcRule = { permission: Permission.READ, mutates: false };
const admin: RpcRule = { permission: Permission.ADMIN, mutates: true };
const send: RpcRule = { permission: Permission.SEND, mutates: true };
const verify: RpcRule = { permission: Permission.VERIFY, mutates: true };

export const RPC_RULES: Readonly<Record<string, Readonly<Record<string, RpcRule>>>> = {
  "whatsapp.v1.AccountService": {
    CreateAccount: admin,
    GetAccount: read,
    UpdateAccount: admin,
    ListAccounts: read,
    DeleteAccount: admin,
    GetAccountMetrics: read,
  },
  "whatsapp.v1.MessagingService": {
    SendMessage: send,
    GetMessage: read,
    MarkAsRead: send,
    ListFailedMessages: read,
    RetryMessage: send,
    GetQueueStats: read,
  },
  "whatsapp.v1.ConversationService": {
    ListConversations: read,
    GetConversation: read,
    ListMessages: read,
    UpdateConversation: send,
    StartConversation: send,
    GetContact: read,
    ListContacts: read,
    GetConversationSettings: read,
    UpdateConversationSettings: admin,
    WatchEvents: read,
  },
  "whatsapp.v1.TemplateService": {
    CreateTemplate: admin,
    GetTemplate: read,
    UpdateTemplate: admin,
    ListTemplates: read,
    DeleteTemplate: admin,
    SyncTemplates: admin,
    RenderTemplate: read,
  },
  "whatsapp.v1.OtpService": {
    SendOtp: send,
    VerifyOtp: verify,
  },
};

/**
 * Services of the server itself, not of a tenant: health for load balancers
 * and reflection for `buf curl`/`grpcurl` (it describes the public schema, no
 * data). They need no token.
 */
export const PUBLIC_SERVICES: ReadonlySet<string> = new Set([
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
]);

export type AccessRule = { kind: "public" } | ({ kind: "tenant" } & RpcRule);

/**
 * The rule for one RPC, by its proto names. Undefined for an RPC the table
 * does not know: callers refuse it (fail closed) rather than guess.
 */
export function accessRuleFor(serviceTypeName: string, methodName: string): AccessRule | undefined {
  if (PUBLIC_SERVICES.has(serviceTypeName)) return { kind: "public" };
  // Own properties only: "constructor" or "toString" must not look like a rule.
  const methods = Object.hasOwn(RPC_RULES, serviceTypeName) ? RPC_RULES[serviceTypeName] : undefined;
  const rule = methods !== undefined && Object.hasOwn(methods, methodName) ? methods[methodName] : undefined;
  return rule === undefined ? undefined : { kind: "tenant", ...rule };
}

/** The action named in the IAM request, in seed 000's style: SendMessage → `whatsapp:send_message`. */
export function iamActionFor(methodName: string): string {
  return `whatsapp:${methodName.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase()}`;
}
