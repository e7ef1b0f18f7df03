CREATE TABLE "control"."webhook_unroutable" (
	"id" uuid PRIMARY KEY NOT NULL,
	"inbox_id" uuid NOT NULL,
	"provider" text NOT NULL,
	"field" text NOT NULL,
	"phone_number_id" text DEFAULT '' NOT NULL,
	"waba_id" text DEFAULT '' NOT NULL,
	"message_count" integer DEFAULT 0 NOT NULL,
	"status_count" integer DEFAULT 0 NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "control"."webhook_inbox" ADD COLUMN "locked_by" text;--> statement-breakpoint
ALTER TABLE "control"."webhook_inbox" ADD COLUMN "locked_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "control"."webhook_unroutable" ADD CONSTRAINT "webhook_unroutable_inbox_id_webhook_inbox_id_fk" FOREIGN KEY ("inbox_id") REFERENCES "control"."webhook_inbox"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "webhook_unroutable_created_at_idx" ON "control"."webhook_unroutable" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "webhook_unroutable_phone_number_id_idx" ON "control"."webhook_unroutable" USING btree ("phone_number_id");