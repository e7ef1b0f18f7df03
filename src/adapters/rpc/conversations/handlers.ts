import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";

import { getContact, listContacts } from "../../../app/conversations/contacts.js";
import { listMessages } from "../../../app/conversations/list-messages.js";
import { getConversation, listConversations } from "../../../app/conversations/read-conversations.js";
import { getConversationSettings, updateConversationSettings } from "../../../app/conversations/settings.js";
import { startConversation } from "../../../app/conversations/start-conversation.js";
import { updateConversation } from "../../../app/conversations/update-conversation.js";
import type { AppContext } from "../../../context.js";
import type { ConversationChange } from "../../../domain/conversations/conversation-update.js";
import type { SettingsChange } from "../../../domain/conversations/settings.js";
import { DomainError } from "../../../domain/errors.js";
import { ConversationSource as PbConversationSource } from "../../../../gen/whatsapp/v1/common_pb.js";
import {
  GetContactResponseSchema,
  GetConversationResponseSchema,
  GetConversationSettingsResponseSchema,
  ListContactsResponseSchema,
  ListConversationsResponseSchema,
  ListMessagesResponseSchema,
  StartConversationResponseSchema,
  UpdateConversationResponseSchema,
  UpdateConversationSettingsResponseSchema,
  type ConversationService,
  type ConversationSettings as PbConversationSettings,
  type StartConversationRequest,
  type UpdateConversationRequest,
  type UpdateConversationSettingsRequest,
} from "../../../../gen/whatsapp/v1/conversation_pb.js";
import type { Conversation as PbConversation } from "../../../../gen/whatsapp/v1/common_pb.js";
import { contactToPb } from "../../events/contact-pb.js";
import { contentFromPb, priorityFromPb } from "../messaging/content-from-pb.js";
import { messageToPb } from "../messaging/message-to-pb.js";
import { tenantOf } from "../tenant-context.js";
import { conversationViewToPb, directionFromPb, orderFromPb, settingsToPb, sourceFromPb, statusFromPb } from "./conversation-to-pb.js";

const emptyToUndefined = (value: string) => (value === "" ? undefined : value);

/** Every ConversationService method except WatchEvents (watch-events.ts). */
export function conversationHandlers(app: AppContext): Omit<ServiceImpl<typeof ConversationService>, "watchEvents"> {
  const deps = {
    conversations: app.conversations,
    newId: app.newId,
    now: app.now,
    templates: app.templates,
    defaultInactivityTimeoutSeconds: app.config.conversationInactivityTimeoutSeconds,
  };
  return {
    async listConversations(req, ctx) {
      const page = await listConversations(deps, tenantOf(ctx), {
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        accountId: emptyToUndefined(req.accountId),
        status: statusFromPb(req.status),
        contactPhone: emptyToUndefined(req.contactPhone),
        contactUserId: emptyToUndefined(req.contactUserId),
        contactUsername: emptyToUndefined(req.contactUsername),
        contactId: emptyToUndefined(req.contactId),
        minUpdateTime: req.minUpdateTime && timestampDate(req.minUpdateTime),
        windowOpen: req.windowOpen,
        source: sourceFromPb(req.source),
      });
      return create(ListConversationsResponseSchema, { conversations: page.items.map(conversationViewToPb), nextPageToken: page.nextPageToken });
    },

    async getConversation(req, ctx) {
      const view = await getConversation(deps, tenantOf(ctx), req.conversationId);
      return create(GetConversationResponseSchema, { conversation: conversationViewToPb(view) });
    },

    async listMessages(req, ctx) {
      const page = await listMessages(deps, tenantOf(ctx), {
        conversationId: req.conversationId,
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        order: orderFromPb(req.order),
        direction: directionFromPb(req.direction),
      });
      return create(ListMessagesResponseSchema, { messages: page.items.map(messageToPb), nextPageToken: page.nextPageToken });
    },

    async updateConversation(req: UpdateConversationRequest, ctx: HandlerContext) {
      const input = req.conversation!;
      const view = await updateConversation(deps, tenantOf(ctx), input.id, conversationChange(input, req.updateMask?.paths ?? []));
      return create(UpdateConversationResponseSchema, { conversation: conversationViewToPb(view) });
    },

    async startConversation(req: StartConversationRequest, ctx: HandlerContext) {
      const template = contentFromPb({ case: "template", value: req.template! });
      if (template?.kind !== "template") throw DomainError.invalid([{ field: "template", description: "is required" }]);
      const result = await startConversation(deps, tenantOf(ctx), {
        requestId: req.requestId,
        accountId: req.accountId,
        // The app takes either: a phone number or a BSUID (exactly one is set, per the proto).
        phone: req.phone || req.userId,
        template,
        context: req.context,
        externalRefs: req.externalRefs,
        metadata: req.metadata,
        source: req.source === PbConversationSource.POST_CALL ? "post_call" : "manual",
        priority: priorityFromPb(req.priority),
      });
      return create(StartConversationResponseSchema, { conversation: conversationViewToPb(result.conversation), message: messageToPb(result.message) });
    },

    async getContact(req, ctx) {
      const contact = await getContact(deps, tenantOf(ctx), req.contactId);
      return create(GetContactResponseSchema, { contact: contactToPb(contact) });
    },

    async listContacts(req, ctx) {
      const page = await listContacts(deps, tenantOf(ctx), {
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        phone: emptyToUndefined(req.phone),
        profileName: emptyToUndefined(req.profileName),
        userId: emptyToUndefined(req.userId),
        parentUserId: emptyToUndefined(req.parentUserId),
        username: emptyToUndefined(req.username),
        optedOut: req.optedOut,
        minLastSeenTime: req.minLastSeenTime && timestampDate(req.minLastSeenTime),
      });
      return create(ListContactsResponseSchema, { contacts: page.items.map(contactToPb), nextPageToken: page.nextPageToken });
    },

    async getConversationSettings(_req, ctx) {
      const settings = await getConversationSettings(deps, tenantOf(ctx));
      return create(GetConversationSettingsResponseSchema, { settings: settingsToPb(settings) });
    },

    async updateConversationSettings(req: UpdateConversationSettingsRequest, ctx: HandlerContext) {
      const settings = await updateConversationSettings(deps, tenantOf(ctx), settingsChange(req.settings!, req.updateMask?.paths ?? []));
      return create(UpdateConversationSettingsResponseSchema, { settings: settingsToPb(settings) });
    },
  };
}

const CONVERSATION_FIELDS = ["status", "context", "summary", "external_refs", "metadata"] as const;

/**
 * AIP-134: with a mask, exactly the named fields change (an empty value
 * clears; status must then be set); without one, every populated field.
 */
function conversationChange(input: PbConversation, paths: readonly string[]): ConversationChange {
  const fields = maskedFields(paths, CONVERSATION_FIELDS, {
    status: input.status !== 0,
    context: input.context !== "",
    summary: input.summary !== "",
    external_refs: Object.keys(input.externalRefs).length > 0,
    metadata: Object.keys(input.metadata).length > 0,
  });
  const change: ConversationChange = {};
  if (fields.has("status")) change.status = statusFromPb(input.status);
  if (fields.has("context")) change.context = input.context;
  if (fields.has("summary")) change.summary = input.summary;
  if (fields.has("external_refs")) change.externalRefs = { ...input.externalRefs };
  if (fields.has("metadata")) change.metadata = { ...input.metadata };
  return change;
}

const SETTINGS_FIELDS = ["opt_out_keywords", "opt_in_keywords", "inactivity_timeout_seconds"] as const;

/** With a mask, an empty list or 0 restores the default; without one, only populated fields change. */
function settingsChange(input: PbConversationSettings, paths: readonly string[]): SettingsChange {
  const fields = maskedFields(paths, SETTINGS_FIELDS, {
    opt_out_keywords: input.optOutKeywords.length > 0,
    opt_in_keywords: input.optInKeywords.length > 0,
    inactivity_timeout_seconds: input.inactivityTimeoutSeconds !== 0,
  });
  const change: SettingsChange = {};
  if (fields.has("opt_out_keywords")) change.optOutKeywords = input.optOutKeywords.length === 0 ? null : input.optOutKeywords;
  if (fields.has("opt_in_keywords")) change.optInKeywords = input.optInKeywords.length === 0 ? null : input.optInKeywords;
  if (fields.has("inactivity_timeout_seconds")) change.inactivityTimeoutSeconds = input.inactivityTimeoutSeconds === 0 ? null : input.inactivityTimeoutSeconds;
  return change;
}

function maskedFields<F extends string>(paths: readonly string[], allowed: readonly F[], populated: Record<F, boolean>): Set<F> {
  if (paths.length === 0) return new Set(allowed.filter((f) => populated[f]));
  const unknown = paths.filter((p) => !(allowed as readonly string[]).includes(p));
  if (unknown.length > 0) throw DomainError.invalid(unknown.map((p) => ({ field: "update_mask", description: `"${p}" cannot be updated` })));
  return new Set(paths as F[]);
}
