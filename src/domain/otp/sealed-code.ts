/**
 * The code inside a queued message. The send queue stores the Graph API
 * message object until a worker sends it, and the code must not sit in the
 * database in clear: SendOtp stores it sealed (AES-256-GCM with the service
 * key, bound to the recipient) as `otp-sealed:<sealed>` in the template's
 * text parameters, and the provider boundary opens it just before the
 * request leaves (revealSealedCodes). Everything that reads stored messages
 * (GetMessage, events, logs) sees only the sealed form.
 */

export const SEALED_CODE_PREFIX = "otp-sealed:";

/** Associated data of a sealed code: only a send to this recipient opens it. */
export function sealedCodeBinding(recipientWaId: string): string {
  return `otp-code:${recipientWaId}`;
}

export function isSealedCode(text: string): boolean {
  return text.startsWith(SEALED_CODE_PREFIX);
}

/**
 * The Graph message body with every sealed text parameter of a template
 * opened by `open` (which throws when a value cannot be opened). Bodies
 * without sealed values are returned as they are (same object).
 */
export function revealSealedCodes<T extends Record<string, unknown>>(body: T, open: (sealed: string) => string): T {
  if (body.type !== "template") return body;
  const template = body.template as { components?: unknown } | undefined;
  if (!template || !Array.isArray(template.components)) return body;
  let changed = false;
  const components = (template.components as unknown[]).map((component) => {
    const parameters = (component as { parameters?: unknown }).parameters;
    if (!Array.isArray(parameters)) return component;
    return {
      ...(component as object),
      parameters: (parameters as unknown[]).map((parameter) => {
        const text = (parameter as { text?: unknown }).text;
        if ((parameter as { type?: unknown }).type !== "text" || typeof text !== "string" || !isSealedCode(text)) return parameter;
        changed = true;
        return { ...(parameter as object), text: open(text.slice(SEALED_CODE_PREFIX.length)) };
      }),
    };
  });
  return changed ? { ...body, template: { ...template, components } } : body;
}
