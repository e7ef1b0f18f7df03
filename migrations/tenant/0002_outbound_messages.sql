CREATE TABLE "send_idempotency_keys" (
	"key" text PRIMARY KEY NOT NULL,
	"message_id" uuid NOT NULL,
	"create_time" timestamp with time zone NOT NULL,
	"expire_time" timestamp with time zone NOT NULL
);
--> statement-breakpoint
DROP INDEX "messages_idempotency_key_key";--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "priority" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "recipient" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "reply_to_message_id" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "attempt_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "next_attempt_time" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "send_idempotency_keys_expire_time_idx" ON "send_idempotency_keys" USING btree ("expire_time");--> statement-breakpoint
CREATE INDEX "messages_idempotency_key_idx" ON "messages" USING btree ("idempotency_key") WHERE "messages"."idempotency_key" is not null;--> statement-breakpoint
CREATE INDEX "messages_outbound_status_idx" ON "messages" USING btree ("account_id","status","create_time") WHERE "messages"."direction" = 'outbound' and "messages"."status" in ('queued', 'sending');--> statement-breakpoint
CREATE INDEX "messages_failed_time_idx" ON "messages" USING btree ("failed_time","id") WHERE "messages"."status" = 'failed';