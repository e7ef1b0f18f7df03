export { authTemplateContent } from "./auth-template.js";
export { codeMatches, deriveCodeKey, generateCode, hashCode, newSalt } from "./code.js";
export * from "./otp.js";
export { isSealedCode, revealSealedCodes, SEALED_CODE_PREFIX, sealedCodeBinding } from "./sealed-code.js";
export { codeInText } from "./typed-code.js";
