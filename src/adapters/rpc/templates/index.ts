import type { ServiceImpl } from "@connectrpc/connect";

import type { AppContext } from "../../../context.js";
import { TemplateService } from "../../../../gen/whatsapp/v1/template_pb.js";
import { unimplementedService } from "../unimplemented.js";

export function templateService(_app: AppContext): ServiceImpl<typeof TemplateService> {
  return unimplementedService(TemplateService, "the templates work");
}
