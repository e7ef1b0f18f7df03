CREATE TABLE "otps" (
	"id" uuid PRIMARY KEY NOT NULL,
	"account_id" uuid NOT NULL,
	"contact_id" uuid,
	"wa_id" text NOT NULL,
	"message_id" uuid,
	"code_hash" text NOT NULL,
	"code_salt" text NOT NULL,
	"code_length" integer NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer NOT NULL,
	"request_id" text,
	"template_name" text NOT NULL,
	"template_language" text NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"create_time" timestamp with time zone DEFAULT now() NOT NULL,
	"expire_time" timestamp with time zone NOT NULL,
	"resend_available_time" timestamp with time zone NOT NULL,
	"verify_time" timestamp with time zone,
	"verified_via" text,
	CONSTRAINT "otps_state_check" CHECK ("otps"."state" in ('pending', 'verified', 'expired', 'locked', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "template_versions" (
	"template_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"category" text NOT NULL,
	"components" jsonb NOT NULL,
	"status" text NOT NULL,
	"rejected_reason" text,
	"create_time" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "template_versions_template_id_version_pk" PRIMARY KEY("template_id","version")
);
--> statement-breakpoint
CREATE TABLE "templates" (
	"id" uuid PRIMARY KEY NOT NULL,
	"account_id" uuid NOT NULL,
	"waba_id" text NOT NULL,
	"name" text NOT NULL,
	"language" text NOT NULL,
	"category" text NOT NULL,
	"components" jsonb NOT NULL,
	"message_send_ttl_seconds" integer,
	"meta_template_id" text,
	"status" text NOT NULL,
	"rejected_reason" text,
	"quality_score" text,
	"version" integer DEFAULT 1 NOT NULL,
	"approved_version" integer,
	"approved_components" jsonb,
	"create_time" timestamp with time zone DEFAULT now() NOT NULL,
	"update_time" timestamp with time zone DEFAULT now() NOT NULL,
	"status_update_time" timestamp with time zone,
	"delete_time" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "tenant_settings" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"opt_out_keywords" jsonb,
	"opt_in_keywords" jsonb,
	"inactivity_timeout_seconds" integer,
	"otp_template_name" text,
	"otp_template_language" text,
	"update_time" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tenant_settings_singleton_check" CHECK ("tenant_settings"."id" = 1)
);
--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "close_reason" text;--> statement-breakpoint
ALTER TABLE "otps" ADD CONSTRAINT "otps_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "template_versions" ADD CONSTRAINT "template_versions_template_id_templates_id_fk" FOREIGN KEY ("template_id") REFERENCES "public"."templates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "otps_wa_id_create_time_idx" ON "otps" USING btree ("wa_id","create_time");--> statement-breakpoint
CREATE UNIQUE INDEX "otps_request_id_key" ON "otps" USING btree ("request_id") WHERE "otps"."request_id" is not null;--> statement-breakpoint
CREATE INDEX "otps_expire_time_idx" ON "otps" USING btree ("expire_time") WHERE "otps"."state" = 'pending';--> statement-breakpoint
CREATE UNIQUE INDEX "templates_waba_name_language_key" ON "templates" USING btree ("waba_id","name","language") WHERE "templates"."delete_time" is null;--> statement-breakpoint
CREATE INDEX "templates_meta_template_id_idx" ON "templates" USING btree ("meta_template_id");--> statement-breakpoint
CREATE INDEX "templates_account_name_idx" ON "templates" USING btree ("account_id","name");--> statement-breakpoint
CREATE INDEX "contacts_create_time_idx" ON "contacts" USING btree ("create_time","id");--> statement-breakpoint
CREATE INDEX "contacts_last_seen_time_idx" ON "contacts" USING btree ("last_seen_time");--> statement-breakpoint
CREATE INDEX "conversations_open_update_time_idx" ON "conversations" USING btree ("update_time") WHERE "conversations"."status" <> 'closed';--> statement-breakpoint
CREATE INDEX "conversations_create_time_idx" ON "conversations" USING btree ("create_time","id");