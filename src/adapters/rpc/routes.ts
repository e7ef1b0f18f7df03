import type { ConnectRouter } from "@connectrpc/connect";
import { Health } from "../../../gen/grpc/health/v1/health_pb.js";
import { AccountService } from "../../../gen/whatsapp/v1/account_pb.js";
import { ConversationService } from "../../../gen/whatsapp/v1/conversation_pb.js";
import { MessagingService } from "../../../gen/whatsapp/v1/messaging_pb.js";
import { OtpService } from "../../../gen/whatsapp/v1/otp_pb.js";
import { TemplateService } from "../../../gen/whatsapp/v1/template_pb.js";
import { accountService, type AccountServiceDeps } from "./accounts/index.js";
import { conversationService, type ConversationServiceDeps } from "./conversations/index.js";
import { createHealthService, type HealthStatus } from "./health.js";
import { messagingService, type MessagingServiceDeps } from "./messaging/index.js";
import { otpService, type OtpServiceDeps } from "./otp/index.js";
import { registerReflection } from "./reflection.js";
import { templateService, type TemplateServiceDeps } from "./templates/index.js";

/**
 * What the handlers use, service by service: ports and settings the
 * composition root (context.ts) builds once. Handlers never see the whole
 * context, and nothing here builds a store.
 */
export interface RpcDeps {
  health: HealthStatus;
  accountService: AccountServiceDeps;
  messagingService: MessagingServiceDeps;
  conversationService: ConversationServiceDeps;
  templateService: TemplateServiceDeps;
  otpService: OtpServiceDeps;
}

/**
 * The API, service by service — the table of contents: each service's
 * `index.ts` spreads one file per RPC (`rpc/<service>/<rpc>.ts`), which calls
 * its use case in `app/<service>/`. Reflection lists whatever is registered here.
 */
export function routes(deps: RpcDeps) {
  return (router: ConnectRouter) => {
    router.service(Health, createHealthService(deps.health));
    router.service(AccountService, accountService(deps.accountService));
    router.service(MessagingService, messagingService(deps.messagingService));
    router.service(ConversationService, conversationService(deps.conversationService));
    router.service(TemplateService, templateService(deps.templateService));
    router.service(OtpService, otpService(deps.otpService));
    registerReflection(router);
  };
}
