import type { DescEnum, DescEnumValue, DescField, DescFile, DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";

/**
 * The leading comment of a declaration, from the source info `buf build`
 * keeps in the descriptor set (the generated code in gen/ has none). The
 * location path follows descriptor.proto's field numbers: message_type 4,
 * enum_type 5 (4 when nested), service 6, field 2, nested_type 3, value 2,
 * method 2.
 */
export type Commented = DescMessage | DescField | DescEnum | DescEnumValue | DescService | DescMethod;

function pathOf(desc: Commented): number[] {
  switch (desc.kind) {
    case "message":
      return desc.parent === undefined ? [4, desc.file.proto.messageType.indexOf(desc.proto)] : [...pathOf(desc.parent), 3, desc.parent.proto.nestedType.indexOf(desc.proto)];
    case "enum":
      return desc.parent === undefined ? [5, desc.file.proto.enumType.indexOf(desc.proto)] : [...pathOf(desc.parent), 4, desc.parent.proto.enumType.indexOf(desc.proto)];
    case "field":
      return [...pathOf(desc.parent), 2, desc.parent.proto.field.indexOf(desc.proto)];
    case "enum_value":
      return [...pathOf(desc.parent), 2, desc.parent.proto.value.indexOf(desc.proto)];
    case "service":
      return [6, desc.file.proto.service.indexOf(desc.proto)];
    case "rpc":
      return [...pathOf(desc.parent), 2, desc.parent.proto.method.indexOf(desc.proto)];
  }
}

const byFile = new WeakMap<DescFile, Map<string, { leading: string; trailing: string }>>();

export function leadingComment(desc: Commented): string | undefined {
  const file = desc.kind === "field" || desc.kind === "enum_value" || desc.kind === "rpc" ? desc.parent.file : desc.file;
  let locations = byFile.get(file);
  if (locations === undefined) {
    locations = new Map();
    for (const location of file.proto.sourceCodeInfo?.location ?? []) {
      locations.set(location.path.join("."), { leading: location.leadingComments ?? "", trailing: location.trailingComments ?? "" });
    }
    byFile.set(file, locations);
  }
  const found = locations.get(pathOf(desc).join("."));
  const text = (found?.leading || found?.trailing || "")
    .split("\n")
    .map((line) => line.replace(/^ /, ""))
    .join("\n")
    .trim();
  return text === "" ? undefined : text;
}
