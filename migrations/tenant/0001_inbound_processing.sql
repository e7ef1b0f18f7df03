CREATE TABLE "pending_statuses" (
	"id" uuid PRIMARY KEY NOT NULL,
	"wamid" text NOT NULL,
	"provider_status" text NOT NULL,
	"status_time" timestamp with time zone NOT NULL,
	"update" jsonb NOT NULL,
	"raw" jsonb NOT NULL,
	"received_time" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "provider_updates" (
	"id" uuid PRIMARY KEY NOT NULL,
	"account_id" uuid,
	"provider" text NOT NULL,
	"waba_id" text DEFAULT '' NOT NULL,
	"phone_number_id" text DEFAULT '' NOT NULL,
	"field" text NOT NULL,
	"event" text,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"payload" jsonb NOT NULL,
	"occurred_time" timestamp with time zone,
	"received_time" timestamp with time zone DEFAULT now() NOT NULL,
	"dedupe_key" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "conversations" ALTER COLUMN "status" SET DEFAULT 'active';--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "parent_bsuid" text;--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "username" text;--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "identity_key_hash" text;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "message_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "inbound_message_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "outbound_message_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "raw" jsonb;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "error_details" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "pricing" jsonb;--> statement-breakpoint
CREATE UNIQUE INDEX "pending_statuses_wamid_status_key" ON "pending_statuses" USING btree ("wamid","provider_status");--> statement-breakpoint
CREATE INDEX "pending_statuses_received_time_idx" ON "pending_statuses" USING btree ("received_time");--> statement-breakpoint
CREATE UNIQUE INDEX "provider_updates_dedupe_key" ON "provider_updates" USING btree ("dedupe_key");--> statement-breakpoint
CREATE INDEX "provider_updates_field_received_time_idx" ON "provider_updates" USING btree ("field","received_time");--> statement-breakpoint
CREATE UNIQUE INDEX "conversations_one_open_per_contact_key" ON "conversations" USING btree ("account_id","contact_id") WHERE "conversations"."status" <> 'closed';--> statement-breakpoint
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_status_check" CHECK ("conversations"."status" in ('active', 'escalated', 'closed'));