ALTER TABLE "control"."jobs" ADD COLUMN "trace_context" text;--> statement-breakpoint
ALTER TABLE "control"."webhook_inbox" ADD COLUMN "trace_context" text;