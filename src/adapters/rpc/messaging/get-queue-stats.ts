import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import type { HandlerContext } from "@connectrpc/connect";

import { getQueueStats } from "../../../app/messaging/get-queue-stats.js";
import type { OutboundStore } from "../../../ports/outbound-store.js";
import { GetQueueStatsResponseSchema, type GetQueueStatsRequest, type GetQueueStatsResponse, type MessagingService } from "../../../../gen/whatsapp/v1/messaging_pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";

export function getQueueStatsRpc(deps: { outbound: OutboundStore; now: () => Date }): RpcImpl<typeof MessagingService, "getQueueStats"> {
  return {
    async getQueueStats(req: GetQueueStatsRequest, ctx: HandlerContext): Promise<GetQueueStatsResponse> {
      const stats = await getQueueStats(deps, tenantOf(ctx), req.accountId || undefined);
      return create(GetQueueStatsResponseSchema, {
        accounts: stats.map((s) => ({
          accountId: s.accountId,
          queued: BigInt(s.queued),
          sending: BigInt(s.sending),
          retrying: BigInt(s.retrying),
          failed: BigInt(s.failed),
          oldestAge: durationFromMs(s.oldestAgeMs),
          oldestSendingAge: durationFromMs(s.oldestSendingAgeMs),
          rateLimitPerSecond: s.rateLimitPerSecond,
          circuitOpen: s.circuitOpen,
        })),
      });
    },
  };
}
