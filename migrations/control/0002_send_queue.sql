CREATE TABLE "control"."send_pacing" (
	"account_id" uuid PRIMARY KEY NOT NULL,
	"next_slot_at" timestamp with time zone DEFAULT now() NOT NULL,
	"circuit_state" text DEFAULT 'closed' NOT NULL,
	"consecutive_failures" integer DEFAULT 0 NOT NULL,
	"circuit_open_until" timestamp with time zone,
	"update_time" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "control"."send_pacing" ADD CONSTRAINT "send_pacing_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "control"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "jobs_send_account_claim_idx" ON "control"."jobs" USING btree (("payload"->>'accountId'),"priority" DESC NULLS LAST,"run_at","id") WHERE "control"."jobs"."kind" = 'send_message';