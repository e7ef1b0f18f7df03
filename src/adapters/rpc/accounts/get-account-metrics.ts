import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext } from "@connectrpc/connect";
import { getAccountMetrics } from "../../../app/accounts/read-accounts.js";
import type { AccountRepository } from "../../../ports/account-repository.js";
import {
  AccountMetricsSchema,
  GetAccountMetricsResponseSchema,
  type AccountService,
  type GetAccountMetricsRequest,
  type GetAccountMetricsResponse,
} from "../../../../gen/whatsapp/v1/account_pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";

export function getAccountMetricsRpc(deps: { accounts: AccountRepository; now: () => Date }): RpcImpl<typeof AccountService, "getAccountMetrics"> {
  return {
    async getAccountMetrics(req: GetAccountMetricsRequest, ctx: HandlerContext): Promise<GetAccountMetricsResponse> {
      const report = await getAccountMetrics(deps, tenantOf(ctx), req.accountId, {
        from: req.startTime ? timestampDate(req.startTime) : undefined,
        to: req.endTime ? timestampDate(req.endTime) : undefined,
      });
      return create(GetAccountMetricsResponseSchema, {
        metrics: create(AccountMetricsSchema, {
          accountId: report.accountId,
          startTime: timestampFromDate(report.from),
          endTime: timestampFromDate(report.to),
          sent: BigInt(report.sent),
          delivered: BigInt(report.delivered),
          read: BigInt(report.read),
          failed: BigInt(report.failed),
          received: BigInt(report.received),
          deliveryRate: report.deliveryRate,
          readRate: report.readRate,
          failureRate: report.failureRate,
        }),
      });
    },
  };
}
