/** Open conversations idle past their tenant's timeout (adapters/postgres inactive-conversations.ts). */
export interface InactiveConversations {
  /** Every tenant, in a stable order. */
  tenantIds(): Promise<string[]>;
  /**
   * Closes up to `batchSize` of the tenant's idle conversations in one
   * transaction (close_reason `inactivity`, a conversation.closed event each);
   * conversations being written to right now are skipped this round. How many.
   */
  closeIdleBatch(tenantId: string, options: { defaultTimeoutSeconds: number; batchSize: number; now: Date; newId: () => string }): Promise<number>;
}
