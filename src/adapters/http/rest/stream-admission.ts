import { createContextKey, type Interceptor } from "@connectrpc/connect";

/**
 * Set by the REST layer on a server-stream call; called once every interceptor
 * before the handler has let the call through.
 */
export const streamAdmittedKey = createContextKey<(() => void) | undefined>(undefined, { description: "REST stream admitted" });

/**
 * The last interceptor of the chain. An RPC stream reports a refusal (401,
 * 403, 400…) in its body, after a 200 — fine for Connect and gRPC clients, not
 * for a REST caller or KrakenD, which read the HTTP status. So the REST layer
 * writes its event-stream headers only once this interceptor says that auth,
 * rate limits and validation passed; a refusal before that is a plain HTTP
 * error with the right status. Calls that do not come from the REST layer
 * carry no callback and pass untouched.
 */
export function createStreamAdmissionInterceptor(): Interceptor {
  return (next) => async (req) => {
    const admitted = req.contextValues.get(streamAdmittedKey);
    if (admitted === undefined || !req.stream) return next(req);
    const response = await next(req);
    admitted();
    return response;
  };
}
