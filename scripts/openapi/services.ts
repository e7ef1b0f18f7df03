import type { DescService, FileRegistry } from "@bufbuild/protobuf";

/** The product's services (package whatsapp.v1), in file then declaration order: what the REST surface is made of. */
export function apiServices(registry: FileRegistry): DescService[] {
  const services: DescService[] = [];
  const files = [...registry.files].filter((f) => f.proto.package === "whatsapp.v1").sort((a, b) => a.name.localeCompare(b.name));
  for (const file of files) services.push(...file.services);
  return services;
}
