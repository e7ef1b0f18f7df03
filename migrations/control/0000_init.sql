CREATE SCHEMA "control";
--> statement-breakpoint
CREATE TABLE "control"."accounts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"provider" text NOT NULL,
	"display_name" text DEFAULT '' NOT NULL,
	"phone_number_id" text NOT NULL,
	"waba_id" text DEFAULT '' NOT NULL,
	"display_phone_number" text DEFAULT '' NOT NULL,
	"business_id" text DEFAULT '' NOT NULL,
	"rate_limit_per_second" integer NOT NULL,
	"status" text NOT NULL,
	"credentials" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"request_id" text,
	"create_time" timestamp with time zone DEFAULT now() NOT NULL,
	"update_time" timestamp with time zone DEFAULT now() NOT NULL,
	"delete_time" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "control"."jobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" text,
	"kind" text NOT NULL,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"priority" integer DEFAULT 0 NOT NULL,
	"run_at" timestamp with time zone DEFAULT now() NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"locked_by" text,
	"locked_until" timestamp with time zone,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "control"."outbox" (
	"id" uuid PRIMARY KEY NOT NULL,
	"seq" bigserial NOT NULL,
	"tenant_id" text NOT NULL,
	"subject" text NOT NULL,
	"event_type" text NOT NULL,
	"payload" "bytea" NOT NULL,
	"headers" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone,
	CONSTRAINT "outbox_seq_key" UNIQUE("seq")
);
--> statement-breakpoint
CREATE TABLE "control"."tenants" (
	"id" text PRIMARY KEY NOT NULL,
	"schema_name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tenants_schema_name_key" UNIQUE("schema_name")
);
--> statement-breakpoint
CREATE TABLE "control"."webhook_inbox" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"provider" text NOT NULL,
	"path" text NOT NULL,
	"account_hint" text,
	"headers" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"body" "bytea" NOT NULL,
	"signature_valid" boolean NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"processed_at" timestamp with time zone,
	"error" text
);
--> statement-breakpoint
ALTER TABLE "control"."accounts" ADD CONSTRAINT "accounts_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "control"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "control"."jobs" ADD CONSTRAINT "jobs_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "control"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "accounts_tenant_request_id_key" ON "control"."accounts" USING btree ("tenant_id","request_id") WHERE "control"."accounts"."request_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "accounts_provider_phone_number_id_key" ON "control"."accounts" USING btree ("provider","phone_number_id") WHERE "control"."accounts"."delete_time" is null;--> statement-breakpoint
CREATE INDEX "accounts_tenant_create_time_id_idx" ON "control"."accounts" USING btree ("tenant_id","create_time","id");--> statement-breakpoint
CREATE INDEX "jobs_claim_idx" ON "control"."jobs" USING btree ("run_at","priority");--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "control"."outbox" USING btree ("seq") WHERE "control"."outbox"."published_at" is null;--> statement-breakpoint
CREATE INDEX "webhook_inbox_status_received_at_idx" ON "control"."webhook_inbox" USING btree ("status","received_at");