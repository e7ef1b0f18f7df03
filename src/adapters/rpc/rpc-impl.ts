import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";

/**
 * What one RPC file contributes to its service: the one method it
 * implements, typed by the generated service descriptor. A service's
 * `index.ts` spreads these parts into a `ServiceImpl<typeof Service>`, so the
 * compiler names any RPC that has no file (Connect itself would accept a
 * partial implementation and answer Unimplemented at run time).
 */
export type RpcImpl<S extends DescService, M extends keyof ServiceImpl<S>> = Pick<ServiceImpl<S>, M>;
