#!/usr/bin/env node
// Rebuilds third_party/proto/buf/validate/validate.proto from the file
// descriptor embedded in @bufbuild/protovalidate's generated code.
//
// Why: the npm package ships only generated code (validate_pb.js), not the
// .proto, and buf cannot fetch buf.build/bufbuild/protovalidate offline. The
// embedded FileDescriptorProto carries everything needed to print the source
// back: messages, fields, oneofs, enums, reserved ranges, extension ranges,
// extensions and the options (including the `(predefined).cel` rules).
//
// Usage:
//   node scripts/vendor/rebuild-validate-proto.mjs            write the .proto
//   node scripts/vendor/rebuild-validate-proto.mjs --stdout   print it instead
//   node scripts/vendor/rebuild-validate-proto.mjs --check    compile the
//     written file with buf and compare its descriptor with the embedded one
//     (exit 1 on any difference)
//
// Comments of the upstream file are not recoverable (source info is stripped
// from embedded descriptors).

import { Buffer } from "node:buffer";
import { execFileSync } from "node:child_process";
import console from "node:console";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

import {
  clone,
  createRegistry,
  fromBinary,
  getExtension,
  hasExtension,
  isFieldSet,
  toJson,
} from "@bufbuild/protobuf";
import { protoCamelCase, reflect } from "@bufbuild/protobuf/reflect";
import {
  Edition,
  EnumOptionsSchema as EnumOptionsDesc,
  EnumValueOptionsSchema as EnumValueOptionsDesc,
  ExtensionRangeOptionsSchema as ExtensionRangeOptionsDesc,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FieldDescriptorProtoSchema,
  FieldOptionsSchema as FieldOptionsDesc,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
  FileOptionsSchema as FileOptionsDesc,
  MessageOptionsSchema as MessageOptionsDesc,
  OneofOptionsSchema as OneofOptionsDesc,
} from "@bufbuild/protobuf/wkt";
import { file_buf_validate_validate } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const outPath = join(root, "third_party/proto/buf/validate/validate.proto");
const require = createRequire(import.meta.url);
const pkgVersion = JSON.parse(
  readFileSync(join(dirname(require.resolve("@bufbuild/protovalidate")), "../../package.json"), "utf8"),
).version;

const source = file_buf_validate_validate.proto;
// The registry knows buf.validate's own extensions, so custom options stored
// as unknown fields in *Options messages can be decoded and printed.
const registry = createRegistry(file_buf_validate_validate);

// ---------------------------------------------------------------------------
// Printing
// ---------------------------------------------------------------------------

const SCALAR_NAMES = {
  [Type.DOUBLE]: "double",
  [Type.FLOAT]: "float",
  [Type.INT64]: "int64",
  [Type.UINT64]: "uint64",
  [Type.INT32]: "int32",
  [Type.FIXED64]: "fixed64",
  [Type.FIXED32]: "fixed32",
  [Type.BOOL]: "bool",
  [Type.STRING]: "string",
  [Type.BYTES]: "bytes",
  [Type.UINT32]: "uint32",
  [Type.SFIXED32]: "sfixed32",
  [Type.SFIXED64]: "sfixed64",
  [Type.SINT32]: "sint32",
  [Type.SINT64]: "sint64",
};

const MAX_FIELD_NUMBER = 536870911; // 2^29 - 1
const MAX_ENUM_NUMBER = 2147483647;

/** Every symbol (package parts, messages, enums, enum values, fields) by full name. */
function collectSymbols(file) {
  const symbols = new Set();
  const parts = file.package ? file.package.split(".") : [];
  for (let i = 1; i <= parts.length; i++) symbols.add(parts.slice(0, i).join("."));
  const pkg = file.package ? `${file.package}.` : "";
  const addEnum = (e, scope) => {
    symbols.add(scope + e.name);
    // enum values are siblings of their enum (C++ scoping rules)
    for (const v of e.value) symbols.add(scope + v.name);
  };
  const addMsg = (m, scope) => {
    const full = scope + m.name;
    symbols.add(full);
    for (const f of m.field) symbols.add(`${full}.${f.name}`);
    for (const f of m.extension) symbols.add(`${full}.${f.name}`);
    for (const o of m.oneofDecl) symbols.add(`${full}.${o.name}`);
    for (const n of m.nestedType) addMsg(n, `${full}.`);
    for (const e of m.enumType) addEnum(e, `${full}.`);
  };
  for (const m of file.messageType) addMsg(m, pkg);
  for (const e of file.enumType) addEnum(e, pkg);
  for (const x of file.extension) symbols.add(pkg + x.name);
  return symbols;
}

const symbols = collectSymbols(source);

/**
 * Shortest way to write `fullName` (".a.b.C") from within `scope` ("a.b.M")
 * that resolves back to it; falls back to the fully-qualified ".a.b.C".
 */
function relName(fullName, scope) {
  const target = fullName.replace(/^\./, "");
  const scopes = [];
  for (let s = scope; s; s = s.includes(".") ? s.slice(0, s.lastIndexOf(".")) : "") scopes.push(s);
  scopes.push("");
  // Try candidates from the shortest suffix to the full name.
  const parts = target.split(".");
  for (let i = parts.length - 1; i >= 0; i--) {
    const cand = parts.slice(i).join(".");
    const first = parts[i];
    // Resolution: the first component binds to the innermost scope that has it.
    let resolved;
    for (const s of scopes) {
      const probe = s ? `${s}.${first}` : first;
      if (symbols.has(probe)) {
        resolved = s ? `${s}.${cand}` : cand;
        break;
      }
    }
    if (resolved === undefined) {
      // not defined in this file: resolves at the root (imported packages)
      resolved = cand;
    }
    if (resolved === target) return cand;
  }
  return `.${target}`;
}

/** A text-format string literal; `str` is text (UTF-8 kept) or raw bytes. */
function quote(str) {
  const raw = str instanceof Uint8Array;
  const bytes = raw ? str : Buffer.from(str, "utf8");
  let out = '"';
  for (const b of bytes) {
    if (b === 0x22) out += '\\"';
    else if (b === 0x5c) out += "\\\\";
    else if (b === 0x0a) out += "\\n";
    else if (b === 0x0d) out += "\\r";
    else if (b === 0x09) out += "\\t";
    else if (b < 0x20 || b === 0x7f || (raw && b > 0x7f)) out += `\\${b.toString(8).padStart(3, "0")}`;
    else out += String.fromCharCode(b); // ASCII printable or UTF-8 byte (re-joined below)
  }
  out += '"';
  // Re-decode non-ASCII bytes so UTF-8 text stays readable in the .proto.
  return Buffer.from(out, "latin1").toString("utf8");
}

function formatNumber(n) {
  if (typeof n === "bigint") return n.toString();
  if (Number.isNaN(n)) return "nan";
  if (n === Infinity) return "inf";
  if (n === -Infinity) return "-inf";
  return String(n);
}

/** A scalar/enum value in text format. */
function scalarText(field, value) {
  if (field.fieldKind === "enum" || field.listKind === "enum" || field.mapKind === "enum") {
    const v = field.enum.values.find((x) => x.number === value);
    return v ? v.name : String(value);
  }
  if (typeof value === "string") return quote(value);
  if (value instanceof Uint8Array) return quote(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  return formatNumber(value);
}

/** Text-format body of a message (`{ ... }` contents), one entry per line. */
function messageText(desc, msg, indent) {
  const r = reflect(desc, msg);
  const lines = [];
  for (const f of r.sortedFields) {
    if (!r.isSet(f)) continue;
    const v = r.get(f);
    if (f.fieldKind === "list") {
      for (const item of v) {
        if (f.listKind === "message") {
          lines.push(`${indent}${f.name}: {`, ...messageText(f.message, item.message, `${indent}  `), `${indent}}`);
        } else {
          lines.push(`${indent}${f.name}: ${scalarText(f, item)}`);
        }
      }
    } else if (f.fieldKind === "message") {
      lines.push(`${indent}${f.name}: {`, ...messageText(f.message, v.message, `${indent}  `), `${indent}}`);
    } else if (f.fieldKind === "map") {
      throw new Error(`map fields in option values are not supported (${f.name})`);
    } else {
      lines.push(`${indent}${f.name}: ${scalarText(f, v)}`);
    }
  }
  return lines;
}

/**
 * Options of an element as a list of assignments (`name = value`, the value
 * possibly spanning several lines). Known option fields print by name,
 * custom options (extensions in `registry`) print as `(ext).field = ...`.
 */
function optionAssignments(optionsDesc, opts, scope, skip = []) {
  if (!opts) return [];
  const out = [];
  const r = reflect(optionsDesc, opts);
  for (const f of r.sortedFields) {
    if (skip.includes(f.name) || !r.isSet(f)) continue;
    const v = r.get(f);
    if (f.fieldKind === "list") {
      for (const item of v) {
        out.push(
          f.listKind === "message"
            ? [`${f.name} = {`, ...messageText(f.message, item.message, "  "), "}"]
            : [`${f.name} = ${scalarText(f, item)}`],
        );
      }
    } else if (f.fieldKind === "message") {
      out.push([`${f.name} = {`, ...messageText(f.message, v.message, "  "), "}"]);
    } else {
      out.push([`${f.name} = ${scalarText(f, v)}`]);
    }
  }
  const handled = new Set();
  for (const ext of registry) {
    if (ext.kind !== "extension" || ext.extendee.typeName !== optionsDesc.typeName) continue;
    if (!hasExtension(opts, ext)) continue;
    handled.add(ext.number);
    const name = `(${relName(`.${ext.typeName}`, scope)})`;
    const value = getExtension(opts, ext);
    if (ext.fieldKind === "message") {
      // Expand the first level like upstream does: `(ext).field = {...}`,
      // one assignment per element of a repeated field.
      const er = reflect(ext.message, value);
      for (const f of er.sortedFields) {
        if (!er.isSet(f)) continue;
        const v = er.get(f);
        const items = f.fieldKind === "list" ? [...v] : [v];
        for (const item of items) {
          const isMsg = f.fieldKind === "list" ? f.listKind === "message" : f.fieldKind === "message";
          out.push(
            isMsg
              ? [`${name}.${f.name} = {`, ...messageText(f.message, item.message, "  "), "}"]
              : [`${name}.${f.name} = ${scalarText(f, item)}`],
          );
        }
      }
    } else if (ext.fieldKind === "list") {
      for (const item of value) out.push([`${name} = ${scalarText(ext, item)}`]);
    } else {
      out.push([`${name} = ${scalarText(ext, value)}`]);
    }
  }
  for (const u of opts.$unknown ?? []) {
    if (!handled.has(u.no)) throw new Error(`cannot print unknown option field ${u.no} of ${optionsDesc.typeName}`);
  }
  return out;
}

/** `option x = y;` statements. */
function optionStatements(optionsDesc, opts, scope, indent) {
  const lines = [];
  for (const a of optionAssignments(optionsDesc, opts, scope)) {
    const [first, ...rest] = a;
    if (rest.length === 0) {
      lines.push(`${indent}option ${first};`);
    } else {
      lines.push(`${indent}option ${first}`, ...rest.slice(0, -1).map((l) => indent + l), `${indent}${rest.at(-1)};`);
    }
  }
  return lines;
}

/** ` [a = b, c = {...}]` suffix for fields and enum values (multi-line when needed). */
function bracketOptions(assignments, indent) {
  if (assignments.length === 0) return [""];
  if (assignments.every((a) => a.length === 1)) {
    return [` [${assignments.map((a) => a[0]).join(", ")}]`];
  }
  const lines = [" ["];
  assignments.forEach((a, i) => {
    const sep = i < assignments.length - 1 ? "," : "";
    a.forEach((l, j) => lines.push(`${indent}  ${l}${j === a.length - 1 ? sep : ""}`));
  });
  lines.push(`${indent}]`);
  return lines;
}

function fieldType(f, scope) {
  if (f.type === Type.MESSAGE || f.type === Type.ENUM) return relName(f.typeName, scope);
  if (f.type === Type.GROUP) throw new Error(`groups are not supported (${f.name})`);
  return SCALAR_NAMES[f.type];
}

function isProto3(file) {
  return file.syntax === "proto3";
}

function fieldLines(file, f, scope, indent, inOneof, mapEntries) {
  const optDesc = FieldOptionsDesc;
  let label = "";
  let type = fieldType(f, scope);
  const entry = f.type === Type.MESSAGE ? mapEntries.get(f.typeName) : undefined;
  if (entry) {
    const k = entry.field.find((x) => x.number === 1);
    const v = entry.field.find((x) => x.number === 2);
    type = `map<${fieldType(k, scope)}, ${fieldType(v, scope)}>`;
  } else if (!inOneof) {
    if (f.label === Label.REPEATED) label = "repeated ";
    else if (f.label === Label.REQUIRED) label = "required ";
    else if (!isProto3(file) && file.syntax !== "editions") label = "optional ";
    else if (f.proto3Optional) label = "optional ";
  }
  const assignments = [];
  if (isFieldSet(f, FieldDescriptorProtoFields.defaultValue)) {
    // bytes defaults are stored C-escaped already; strings are raw text
    const dv =
      f.type === Type.STRING ? quote(f.defaultValue) : f.type === Type.BYTES ? `"${f.defaultValue}"` : f.defaultValue;
    assignments.push([`default = ${dv}`]);
  }
  if (f.jsonName && f.jsonName !== protoCamelCase(f.name)) assignments.push([`json_name = ${quote(f.jsonName)}`]);
  assignments.push(...optionAssignments(optDesc, f.options, scope));
  const [head, ...rest] = bracketOptions(assignments, indent);
  if (rest.length === 0) return [`${indent}${label}${type} ${f.name} = ${f.number}${head};`];
  return [`${indent}${label}${type} ${f.name} = ${f.number}${head}`, ...rest.slice(0, -1), `${rest.at(-1)};`];
}

function rangeText(start, endInclusive, max) {
  if (start === endInclusive) return String(start);
  return `${start} to ${endInclusive === max ? "max" : endInclusive}`;
}

function enumLines(file, e, scope, indent) {
  const full = `${scope}.${e.name}`;
  const lines = [`${indent}enum ${e.name} {`];
  lines.push(...optionStatements(EnumOptionsDesc, e.options, full, `${indent}  `));
  for (const v of e.value) {
    const [head, ...rest] = bracketOptions(optionAssignments(EnumValueOptionsDesc, v.options, full), `${indent}  `);
    if (rest.length === 0) lines.push(`${indent}  ${v.name} = ${v.number}${head};`);
    else lines.push(`${indent}  ${v.name} = ${v.number}${head}`, ...rest.slice(0, -1), `${rest.at(-1)};`);
  }
  if (e.reservedRange.length) {
    lines.push(`${indent}  reserved ${e.reservedRange.map((r) => rangeText(r.start, r.end, MAX_ENUM_NUMBER)).join(", ")};`);
  }
  if (e.reservedName.length) lines.push(`${indent}  reserved ${e.reservedName.map(quote).join(", ")};`);
  lines.push(`${indent}}`);
  return lines;
}

function extendLines(file, exts, scope, indent) {
  const lines = [];
  const byExtendee = new Map();
  for (const x of exts) {
    if (!byExtendee.has(x.extendee)) byExtendee.set(x.extendee, []);
    byExtendee.get(x.extendee).push(x);
  }
  for (const [extendee, xs] of byExtendee) {
    lines.push(`${indent}extend ${relName(extendee, scope)} {`);
    for (const x of xs) lines.push(...fieldLines(file, x, scope, `${indent}  `, false, new Map()));
    lines.push(`${indent}}`);
  }
  return lines;
}

function messageLines(file, m, scope, indent) {
  const full = scope ? `${scope}.${m.name}` : m.name;
  const lines = [`${indent}message ${m.name} {`];
  const inner = `${indent}  `;
  lines.push(...optionStatements(MessageOptionsDesc, m.options, full, inner));
  // map entries are printed as map<K, V> fields, not as nested messages
  const mapEntries = new Map();
  for (const n of m.nestedType) {
    if (n.options?.mapEntry) mapEntries.set(`.${full}.${n.name}`, n);
  }
  const body = [];
  // Fields in declaration order; consecutive members of a (non-synthetic)
  // oneof are grouped into its block.
  const emittedOneofs = new Set();
  for (let i = 0; i < m.field.length; i++) {
    const f = m.field[i];
    const oneofIdx = isFieldSet(f, FieldDescriptorProtoFields.oneofIndex) && !f.proto3Optional ? f.oneofIndex : -1;
    if (oneofIdx < 0) {
      body.push(fieldLines(file, f, full, inner, false, mapEntries));
      continue;
    }
    if (emittedOneofs.has(oneofIdx)) throw new Error(`oneof ${m.oneofDecl[oneofIdx].name} of ${full} is not contiguous`);
    emittedOneofs.add(oneofIdx);
    const o = m.oneofDecl[oneofIdx];
    const block = [`${inner}oneof ${o.name} {`];
    block.push(...optionStatements(OneofOptionsDesc, o.options, full, `${inner}  `));
    while (i < m.field.length && m.field[i].oneofIndex === oneofIdx && isFieldSet(m.field[i], FieldDescriptorProtoFields.oneofIndex)) {
      block.push(...fieldLines(file, m.field[i], full, `${inner}  `, true, mapEntries));
      i++;
    }
    i--;
    block.push(`${inner}}`);
    body.push(block);
  }
  for (const n of m.nestedType) if (!n.options?.mapEntry) body.push(messageLines(file, n, full, inner));
  for (const e of m.enumType) body.push(enumLines(file, e, full, inner));
  if (m.extension.length) body.push(extendLines(file, m.extension, full, inner));
  if (m.extensionRange.length) {
    for (const r of m.extensionRange) {
      const opts = optionAssignments(ExtensionRangeOptionsDesc, r.options, full);
      const [head, ...rest] = bracketOptions(opts, inner);
      const text = `${inner}extensions ${rangeText(r.start, r.end - 1, MAX_FIELD_NUMBER)}${head}`;
      body.push(rest.length === 0 ? [`${text};`] : [text, ...rest.slice(0, -1), `${rest.at(-1)};`]);
    }
  }
  if (m.reservedRange.length) {
    body.push([`${inner}reserved ${m.reservedRange.map((r) => rangeText(r.start, r.end - 1, MAX_FIELD_NUMBER)).join(", ")};`]);
  }
  if (m.reservedName.length) body.push([`${inner}reserved ${m.reservedName.map(quote).join(", ")};`]);
  // blank lines between multi-line members keep the output readable
  body.forEach((b, i) => {
    if (i > 0 && (b.length > 1 || body[i - 1].length > 1)) lines.push("");
    lines.push(...b);
  });
  lines.push(`${indent}}`);
  return lines;
}

const FieldDescriptorProtoFields = FieldDescriptorProtoSchema.field;

function printFile(file) {
  if (file.syntax === "editions") {
    throw new Error(`editions files are not supported (edition ${Edition[file.edition]})`);
  }
  const lines = [
    `// Rebuilt from the file descriptor embedded in @bufbuild/protovalidate ${pkgVersion}`,
    "// (dist/esm/gen/buf/validate/validate_pb.js) by",
    "// scripts/vendor/rebuild-validate-proto.mjs; do not edit by hand.",
    "//",
    "// Upstream: https://github.com/bufbuild/protovalidate (proto/protovalidate/buf/validate/validate.proto),",
    "// Copyright 2023-2026 Buf Technologies, Inc., Apache License 2.0.",
    "// Upstream comments are not recoverable from the descriptor and are absent.",
    "// Messages, fields, numbers, types, oneofs, enums, reserved and extension",
    "// ranges, extensions and options (including the (predefined).cel rules)",
    "// are reproduced; `--check` verifies that buf compiles this file to the",
    "// same descriptor. At runtime the generated code imports the package's own",
    "// copy (buf.gen.yaml rewrite_imports), this file is only for compiling.",
    "",
    `syntax = ${quote(file.syntax || "proto2")};`,
    "",
  ];
  if (file.package) lines.push(`package ${file.package};`, "");
  for (const [i, d] of file.dependency.entries()) {
    const kind = file.publicDependency.includes(i) ? "public " : file.weakDependency.includes(i) ? "weak " : "";
    lines.push(`import ${kind}${quote(d)};`);
  }
  if (file.dependency.length) lines.push("");
  const fileOpts = optionStatements(FileOptionsDesc, file.options, file.package, "");
  if (fileOpts.length) lines.push(...fileOpts, "");
  const blocks = [];
  if (file.extension.length) blocks.push(extendLines(file, file.extension, file.package, ""));
  for (const m of file.messageType) blocks.push(messageLines(file, m, file.package, ""));
  for (const e of file.enumType) blocks.push(enumLines(file, e, file.package, ""));
  if (file.service.length) throw new Error("services are not supported");
  blocks.forEach((b, i) => {
    if (i > 0) lines.push("");
    lines.push(...b);
  });
  return `${lines.join("\n")}\n`;
}

// ---------------------------------------------------------------------------
// Check: compile with buf, compare descriptors
// ---------------------------------------------------------------------------

/** Normalise what legitimately differs between compilers/embedding. */
function normalise(file) {
  const f = clone(FileDescriptorProtoSchema, file);
  f.sourceCodeInfo = undefined;
  f.$unknown = undefined; // buf image extension (field 8042), if any
  if (f.syntax === "proto2") f.syntax = "";
  f.dependency = [...f.dependency].sort();
  const fixJson = (fields) => {
    for (const x of fields) if (!x.jsonName) x.jsonName = protoCamelCase(x.name);
  };
  const walk = (m) => {
    fixJson(m.field);
    fixJson(m.extension);
    m.nestedType.forEach(walk);
  };
  f.messageType.forEach(walk);
  fixJson(f.extension);
  return f;
}

function summary(file) {
  const rows = [];
  const fieldRow = (scope, x) =>
    `${scope}.${x.name} = ${x.number} ${Label[x.label]} ${Type[x.type]}${x.typeName ? ` ${x.typeName}` : ""}${
      x.extendee ? ` extends ${x.extendee}` : ""
    }${isFieldSet(x, FieldDescriptorProtoFields.oneofIndex) ? ` oneof#${x.oneofIndex}` : ""}`;
  const walk = (m, scope) => {
    const full = `${scope}.${m.name}`;
    rows.push(`message ${full}`);
    for (const x of m.field) rows.push(fieldRow(full, x));
    for (const x of m.extension) rows.push(fieldRow(full, x));
    for (const o of m.oneofDecl) rows.push(`oneof ${full}.${o.name}`);
    for (const r of m.extensionRange) rows.push(`extensions ${full} ${r.start}..${r.end}`);
    for (const r of m.reservedRange) rows.push(`reserved ${full} ${r.start}..${r.end}`);
    for (const n of m.reservedName) rows.push(`reserved ${full} "${n}"`);
    m.nestedType.forEach((n) => walk(n, full));
    for (const e of m.enumType) enumRows(e, full);
  };
  const enumRows = (e, scope) => {
    rows.push(`enum ${scope}.${e.name}`);
    for (const v of e.value) rows.push(`  ${scope}.${e.name}.${v.name} = ${v.number}`);
    for (const r of e.reservedRange) rows.push(`reserved ${scope}.${e.name} ${r.start}..${r.end}`);
    for (const n of e.reservedName) rows.push(`reserved ${scope}.${e.name} "${n}"`);
  };
  for (const m of file.messageType) walk(m, file.package);
  for (const e of file.enumType) enumRows(e, file.package);
  for (const x of file.extension) rows.push(fieldRow(file.package, x));
  return rows;
}

function diffLines(a, b) {
  const sa = new Set(a);
  const sb = new Set(b);
  return [...a.filter((x) => !sb.has(x)).map((x) => `- ${x}`), ...b.filter((x) => !sa.has(x)).map((x) => `+ ${x}`)];
}

function check() {
  const tmp = mkdtempSync(join(tmpdir(), "validate-proto-"));
  try {
    const out = join(tmp, "validate.binpb");
    const buf = join(root, "node_modules/.bin/buf");
    execFileSync(
      buf,
      [
        "build",
        "third_party/proto",
        "--path",
        "third_party/proto/buf/validate/validate.proto",
        "--exclude-imports",
        "--exclude-source-info",
        "--as-file-descriptor-set",
        "-o",
        out,
      ],
      { cwd: root, stdio: ["ignore", "inherit", "inherit"] },
    );
    const set = fromBinary(FileDescriptorSetSchema, readFileSync(out));
    const built = set.file.find((f) => f.name === "buf/validate/validate.proto");
    if (!built) throw new Error("buf output has no buf/validate/validate.proto");

    const a = normalise(source);
    const b = normalise(built);
    // 1. names, numbers, labels, types, oneofs, ranges, extensions
    const sa = summary(a);
    const sb = summary(b);
    const structural = diffLines(sa, sb);
    // 2. the whole descriptor, options included (custom options decoded)
    const ja = JSON.stringify(toJson(FileDescriptorProtoSchema, a, { registry }), null, 1).split("\n");
    const jb = JSON.stringify(toJson(FileDescriptorProtoSchema, b, { registry }), null, 1).split("\n");
    const full = ja.length === jb.length && ja.every((l, i) => l === jb[i]);
    const count = (p) => sa.filter((r) => r.startsWith(p)).length;
    console.log(
      `embedded descriptor: ${count("message ")} messages, ${sa.filter((r) => / = \d+ (OPTIONAL|REPEATED|REQUIRED) /.test(r) && !r.includes(" extends ")).length} fields, ` +
        `${count("enum ")} enums, ${sa.filter((r) => r.includes(" extends ")).length} extensions, ${count("oneof ")} oneofs`,
    );
    if (structural.length) {
      console.log("STRUCTURE DIFFERS (- embedded, + rebuilt):");
      console.log(structural.join("\n"));
    } else {
      console.log("structure: identical (messages, fields, numbers, labels, types, oneofs, enums, ranges, extensions)");
    }
    if (full) {
      console.log("full descriptor incl. options: identical (after normalising json_name defaults, proto2 syntax label, dependency order)");
    } else {
      console.log("full descriptor incl. options: DIFFERS; first differing lines:");
      const d = diffLines(ja, jb).slice(0, 40);
      console.log(d.join("\n"));
    }
    return structural.length === 0 && full;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------

const args = process.argv.slice(2);
if (args.includes("--check")) {
  process.exit(check() ? 0 : 1);
} else if (args.includes("--stdout")) {
  process.stdout.write(printFile(source));
} else {
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, printFile(source));
  console.log(`wrote ${outPath.slice(root.length + 1)}`);
}
