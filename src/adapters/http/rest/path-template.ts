/**
 * `google.api.http` path templates (google/api/http.proto):
 *
 *     Template = "/" Segments [ Verb ] ;
 *     Segments = Segment { "/" Segment } ;
 *     Segment  = "*" | "**" | LITERAL | Variable ;
 *     Variable = "{" FieldPath [ "=" Segments ] "}" ;
 *     FieldPath = IDENT { "." IDENT } ;
 *     Verb     = ":" LITERAL ;
 *
 * `{id}` is `{id=*}`: one segment. `**` matches the rest of the path (zero or
 * more segments) and may only be last. A variable's value is the text of the
 * segments it covers: one segment is percent-decoded whole; several keep
 * `%2F` so a decoded `/` cannot be told from a separator (as the spec says).
 */

export type Segment = { kind: "literal"; value: string } | { kind: "one" } | { kind: "rest" };

export interface TemplateVariable {
  /** Proto field path, e.g. `account.id`. */
  fieldPath: string;
  /** Segments [start, end) of the template it covers; `end` is Infinity when it ends with `**`. */
  start: number;
  end: number;
}

export interface PathTemplate {
  /** As written in the annotation. */
  source: string;
  segments: Segment[];
  variables: TemplateVariable[];
  verb: string | undefined;
}

export class TemplateSyntaxError extends Error {
  constructor(template: string, problem: string) {
    super(`path template ${JSON.stringify(template)}: ${problem}`);
  }
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Unreserved and sub-delims (RFC 3986) plus ':' '@' — what a literal may hold unescaped.
const LITERAL = /^[A-Za-z0-9\-._~!$&'()+,;=@%]+$/;

export function parseTemplate(source: string): PathTemplate {
  if (!source.startsWith("/")) throw new TemplateSyntaxError(source, "must start with '/'");
  let body = source.slice(1);
  let verb: string | undefined;
  // The verb is the text after the last ':' outside braces.
  const lastClose = body.lastIndexOf("}");
  const colon = body.indexOf(":", lastClose + 1);
  if (colon >= 0) {
    verb = body.slice(colon + 1);
    body = body.slice(0, colon);
    if (!LITERAL.test(verb)) throw new TemplateSyntaxError(source, `bad verb ${JSON.stringify(verb)}`);
  }
  const segments: Segment[] = [];
  const variables: TemplateVariable[] = [];
  let i = 0;
  const parseSegment = (text: string) => {
    if (text === "*") segments.push({ kind: "one" });
    else if (text === "**") segments.push({ kind: "rest" });
    else if (LITERAL.test(text)) segments.push({ kind: "literal", value: text });
    else throw new TemplateSyntaxError(source, `bad segment ${JSON.stringify(text)}`);
  };
  while (i <= body.length) {
    if (body[i] === "{") {
      const close = body.indexOf("}", i);
      if (close < 0) throw new TemplateSyntaxError(source, "unclosed '{'");
      const inner = body.slice(i + 1, close);
      const eq = inner.indexOf("=");
      const fieldPath = eq < 0 ? inner : inner.slice(0, eq);
      if (!fieldPath.split(".").every((part) => IDENT.test(part))) throw new TemplateSyntaxError(source, `bad field path ${JSON.stringify(fieldPath)}`);
      if (variables.some((v) => v.fieldPath === fieldPath)) throw new TemplateSyntaxError(source, `variable ${fieldPath} bound twice`);
      const start = segments.length;
      const sub = eq < 0 ? "*" : inner.slice(eq + 1);
      if (sub.includes("{")) throw new TemplateSyntaxError(source, "nested variables");
      for (const part of sub.split("/")) parseSegment(part);
      variables.push({ fieldPath, start, end: segments.length });
      i = close + 1;
    } else {
      let end = body.indexOf("/", i);
      if (end < 0) end = body.length;
      parseSegment(body.slice(i, end));
      i = end;
    }
    if (i >= body.length) break;
    if (body[i] !== "/") throw new TemplateSyntaxError(source, `expected '/' at ${i + 1}`);
    i++;
  }
  const rest = segments.findIndex((s) => s.kind === "rest");
  if (rest >= 0 && rest !== segments.length - 1) throw new TemplateSyntaxError(source, "'**' must be the last segment");
  for (const v of variables) if (v.end === segments.length && rest >= 0) v.end = Infinity;
  return { source, segments, variables, verb };
}

/**
 * Matches a request path (still percent-encoded, without the query) against
 * the template: the variables' decoded values, or undefined when it does not
 * match. A malformed escape does not match.
 */
export function matchTemplate(template: PathTemplate, path: string): Map<string, string> | undefined {
  if (!path.startsWith("/")) return undefined;
  let rawPath = path.slice(1);
  if (template.verb !== undefined) {
    const suffix = `:${template.verb}`;
    if (!rawPath.endsWith(suffix)) return undefined;
    rawPath = rawPath.slice(0, -suffix.length);
  }
  const parts = rawPath === "" ? [] : rawPath.split("/");
  const { segments } = template;
  const endsWithRest = segments.at(-1)?.kind === "rest";
  if (endsWithRest ? parts.length < segments.length - 1 : parts.length !== segments.length) return undefined;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment.kind === "rest") break;
    const part = parts[i]!;
    if (segment.kind === "literal" ? part !== segment.value : part === "") return undefined;
  }
  const values = new Map<string, string>();
  try {
    for (const v of template.variables) {
      const covered = parts.slice(v.start, v.end === Infinity ? undefined : v.end);
      const single = v.end - v.start === 1;
      values.set(v.fieldPath, single ? decodeURIComponent(covered[0]!) : covered.map((p) => decodeURIComponent(p.replace(/%2F/gi, "%252F"))).join("/"));
    }
  } catch {
    return undefined;
  }
  return values;
}

/**
 * Orders templates so the most specific comes first: at the first segment
 * where they differ, a literal beats `*`, which beats `**`; then the longer
 * template; then one with a verb. `GET /api/messages/failed` thus wins over
 * `GET /api/messages/{message_id}`.
 */
export function compareSpecificity(a: PathTemplate, b: PathTemplate): number {
  const rank = (s: Segment | undefined) => (s === undefined ? 3 : s.kind === "literal" ? 0 : s.kind === "one" ? 1 : 2);
  const n = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const diff = rank(a.segments[i]) - rank(b.segments[i]);
    if (diff !== 0) return diff;
  }
  return (a.verb === undefined ? 1 : 0) - (b.verb === undefined ? 1 : 0);
}
