/** Templates between the protos (template.proto) and the domain. */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";

import { emptyExamples, type HeaderFormat, type OtpType, type Template, type TemplateButton, type TemplateComponents, type TemplateExamples } from "../../../domain/templates/index.js";
import {
  OtpButton_OtpType as PbOtpType,
  TemplateHeader_Format as PbHeaderFormat,
  TemplateSchema,
  type Template as PbTemplate,
  type TemplateButton as PbButton,
  type TemplateComponents as PbComponents,
  type TemplateExamples as PbExamples,
} from "../../../../gen/whatsapp/v1/template_pb.js";
import { parameterFormatToPb, templateCategoryToPb, templateStatusToPb } from "../../events/template-events-pb.js";

const HEADER_FORMATS: [HeaderFormat, PbHeaderFormat][] = [
  ["TEXT", PbHeaderFormat.TEXT],
  ["IMAGE", PbHeaderFormat.IMAGE],
  ["VIDEO", PbHeaderFormat.VIDEO],
  ["DOCUMENT", PbHeaderFormat.DOCUMENT],
  ["LOCATION", PbHeaderFormat.LOCATION],
];
const OTP_TYPES: [OtpType, PbOtpType][] = [
  ["COPY_CODE", PbOtpType.COPY_CODE],
  ["ONE_TAP", PbOtpType.ONE_TAP],
  ["ZERO_TAP", PbOtpType.ZERO_TAP],
];

export function componentsFromPb(pb: PbComponents | undefined): TemplateComponents {
  const header = pb?.header;
  const footer = pb?.footer;
  return {
    header: header && {
      format: HEADER_FORMATS.find(([, p]) => p === header.format)?.[0] ?? "TEXT",
      text: header.text,
      examples: examplesFromPb(header.examples),
      exampleMedia: header.exampleMedia,
    },
    body: { text: pb?.body?.text ?? "", examples: examplesFromPb(pb?.body?.examples), addSecurityRecommendation: pb?.body?.addSecurityRecommendation ?? false },
    footer: footer && { text: footer.text, codeExpirationMinutes: footer.codeExpirationMinutes },
    buttons: (pb?.buttons ?? []).map(buttonFromPb),
  };
}

function examplesFromPb(pb: PbExamples | undefined): TemplateExamples {
  return pb ? { positional: [...pb.positional], named: { ...pb.named } } : emptyExamples();
}

function buttonFromPb(pb: PbButton): TemplateButton {
  const k = pb.kind;
  switch (k.case) {
    case "url":
      return { kind: "url", text: k.value.text, url: k.value.url, example: k.value.example };
    case "phoneNumber":
      return { kind: "phone_number", text: k.value.text, phoneNumber: k.value.phoneNumber };
    case "copyCode":
      return { kind: "copy_code", example: k.value.example };
    case "otp":
      return {
        kind: "otp",
        otpType: OTP_TYPES.find(([, p]) => p === k.value.otpType)?.[0] ?? "COPY_CODE",
        text: k.value.text,
        supportedApps: k.value.supportedApps.map((a) => ({ packageName: a.packageName, signatureHash: a.signatureHash })),
      };
    case "quickReply":
      return { kind: "quick_reply", text: k.value.text };
    default:
      return { kind: "quick_reply", text: "" };
  }
}

export function templateToPb(t: Template): PbTemplate {
  const c = t.components;
  return create(TemplateSchema, {
    id: t.id,
    accountId: t.accountId,
    wabaId: t.wabaId,
    name: t.name,
    language: t.language,
    category: templateCategoryToPb(t.category),
    parameterFormat: parameterFormatToPb(t.parameterFormat),
    components: {
      ...(c.header
        ? {
            header: {
              format: HEADER_FORMATS.find(([d]) => d === c.header!.format)?.[1] ?? PbHeaderFormat.TEXT,
              text: c.header.text,
              examples: c.header.examples,
              exampleMedia: c.header.exampleMedia,
            },
          }
        : {}),
      body: { text: c.body.text, examples: c.body.examples, addSecurityRecommendation: c.body.addSecurityRecommendation },
      ...(c.footer ? { footer: { text: c.footer.text, codeExpirationMinutes: c.footer.codeExpirationMinutes } } : {}),
      buttons: c.buttons.map(buttonToPb),
    },
    messageSendTtlSeconds: t.messageSendTtlSeconds,
    metaTemplateId: t.metaTemplateId,
    status: templateStatusToPb(t.status),
    rejectedReason: t.rejectedReason,
    version: t.version,
    approvedVersion: t.approvedVersion,
    qualityScore: t.qualityScore,
    createTime: timestampFromDate(t.createTime),
    updateTime: timestampFromDate(t.updateTime),
    ...(t.statusUpdateTime ? { statusUpdateTime: timestampFromDate(t.statusUpdateTime) } : {}),
  });
}

function buttonToPb(b: TemplateButton) {
  switch (b.kind) {
    case "quick_reply":
      return { kind: { case: "quickReply" as const, value: { text: b.text } } };
    case "url":
      return { kind: { case: "url" as const, value: { text: b.text, url: b.url, example: b.example } } };
    case "phone_number":
      return { kind: { case: "phoneNumber" as const, value: { text: b.text, phoneNumber: b.phoneNumber } } };
    case "copy_code":
      return { kind: { case: "copyCode" as const, value: { example: b.example } } };
    case "otp":
      return {
        kind: {
          case: "otp" as const,
          value: { otpType: OTP_TYPES.find(([d]) => d === b.otpType)?.[1] ?? PbOtpType.COPY_CODE, text: b.text, supportedApps: b.supportedApps },
        },
      };
  }
}
