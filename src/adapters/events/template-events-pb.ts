/**
 * `template.status` (TemplateStatusEvent) for the outbox, and the template
 * enums between the domain and the protos (shared with the RPC mappers).
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";

import type { ParameterFormat, TemplateCategory, TemplateStatus } from "../../domain/templates/index.js";
import { TemplateStatusEventSchema } from "../../../gen/whatsapp/v1/events_pb.js";
import {
  TemplateCategory as PbCategory,
  TemplateParameterFormat as PbFormat,
  TemplateStatus as PbStatus,
} from "../../../gen/whatsapp/v1/template_pb.js";
import type { TemplateStatusChanged } from "../../domain/events.js";
import type { EncodedEvent } from "./encoded-event.js";

export function templateStatusEvent(e: TemplateStatusChanged): EncodedEvent {
  const payload = create(TemplateStatusEventSchema, {
    eventId: e.eventId,
    tenantId: e.tenantId,
    accountId: e.accountId,
    occurredAt: timestampFromDate(e.occurredAt),
    wabaId: e.wabaId,
    templateId: e.templateId,
    metaTemplateId: e.metaTemplateId,
    name: e.name,
    language: e.language,
    category: templateCategoryToPb(e.category),
    status: templateStatusToPb(e.status),
    previousStatus: templateStatusToPb(e.previousStatus),
    reason: e.reason,
    providerEvent: e.providerEvent,
    version: e.version,
  });
  return { id: e.eventId, tenantId: e.tenantId, name: "template.status", payload: toBinary(TemplateStatusEventSchema, payload) };
}

const STATUS_TO_PB: Record<TemplateStatus, PbStatus> = {
  DRAFT: PbStatus.DRAFT,
  PENDING: PbStatus.PENDING,
  APPROVED: PbStatus.APPROVED,
  REJECTED: PbStatus.REJECTED,
  PAUSED: PbStatus.PAUSED,
  DISABLED: PbStatus.DISABLED,
  IN_APPEAL: PbStatus.IN_APPEAL,
  PENDING_DELETION: PbStatus.PENDING_DELETION,
  DELETED: PbStatus.DELETED,
  ARCHIVED: PbStatus.ARCHIVED,
  LIMIT_EXCEEDED: PbStatus.LIMIT_EXCEEDED,
};

export function templateStatusToPb(status: TemplateStatus): PbStatus {
  return STATUS_TO_PB[status];
}

export function templateStatusFromPb(status: PbStatus): TemplateStatus | undefined {
  return (Object.keys(STATUS_TO_PB) as TemplateStatus[]).find((s) => STATUS_TO_PB[s] === status);
}

const CATEGORY_TO_PB: Record<TemplateCategory, PbCategory> = {
  MARKETING: PbCategory.MARKETING,
  UTILITY: PbCategory.UTILITY,
  AUTHENTICATION: PbCategory.AUTHENTICATION,
};

export function templateCategoryToPb(category: TemplateCategory): PbCategory {
  return CATEGORY_TO_PB[category];
}

export function templateCategoryFromPb(category: PbCategory): TemplateCategory | undefined {
  return (Object.keys(CATEGORY_TO_PB) as TemplateCategory[]).find((c) => CATEGORY_TO_PB[c] === category);
}

export function parameterFormatToPb(format: ParameterFormat): PbFormat {
  return format === "NAMED" ? PbFormat.NAMED : PbFormat.POSITIONAL;
}

export function parameterFormatFromPb(format: PbFormat): ParameterFormat {
  return format === PbFormat.NAMED ? "NAMED" : "POSITIONAL";
}
