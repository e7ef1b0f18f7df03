import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";

import { renderTemplate, type TemplateDeps } from "../../../app/templates/index.js";
import type { TemplateContent as SendTemplateContent } from "../../../domain/outbound/index.js";
import { TemplateContentSchema } from "../../../../gen/whatsapp/v1/message_pb.js";
import { RenderTemplateResponseSchema, type RenderTemplateRequest, type TemplateService } from "../../../../gen/whatsapp/v1/template_pb.js";
import { contentFromPb } from "../messaging/content-from-pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";
import { templateToPb } from "./template-mapper.js";

export function renderTemplateRpc(deps: Pick<TemplateDeps, "templates" | "accounts">): RpcImpl<typeof TemplateService, "renderTemplate"> {
  return {
    async renderTemplate(req: RenderTemplateRequest, ctx: HandlerContext) {
      const content = contentFromPb({ case: "template", value: create(TemplateContentSchema, { components: req.components }) }) as SendTemplateContent;
      const target = req.templateId !== "" ? { templateId: req.templateId } : { accountId: req.accountId, name: req.name, language: req.language };
      const rendered = await renderTemplate(deps, tenantOf(ctx), target, content.components);
      return create(RenderTemplateResponseSchema, {
        header: rendered.header,
        body: rendered.body,
        footer: rendered.footer,
        buttons: rendered.buttons,
        text: rendered.text,
        missingParameters: rendered.missing,
        template: templateToPb(rendered.template),
      });
    },
  };
}
