import type { ConnectRouter } from "@connectrpc/connect";
import type { AppContext } from "../../context.js";
import { Health } from "../../../gen/grpc/health/v1/health_pb.js";
import { AccountService } from "../../../gen/whatsapp/v1/account_pb.js";
import { ConversationService } from "../../../gen/whatsapp/v1/conversation_pb.js";
import { MessagingService } from "../../../gen/whatsapp/v1/messaging_pb.js";
import { OtpService } from "../../../gen/whatsapp/v1/otp_pb.js";
import { TemplateService } from "../../../gen/whatsapp/v1/template_pb.js";
import { accountService } from "./accounts/index.js";
import { createHealthService } from "./health.js";
import { messagingService } from "./messaging/index.js";
import { registerReflection } from "./reflection.js";
import { conversationService } from "./conversations/index.js";
import { otpService } from "./otp/index.js";
import { templateService } from "./templates/index.js";

/** The API, service by service. Reflection lists whatever is registered here. */
export function routes(app: AppContext) {
  return (router: ConnectRouter) => {
    router.service(Health, createHealthService(app.health));
    router.service(AccountService, accountService(app));
    router.service(MessagingService, messagingService(app));
    router.service(ConversationService, conversationService(app));
    router.service(TemplateService, templateService(app));
    router.service(OtpService, otpService(app));
    registerReflection(router);
  };
}
