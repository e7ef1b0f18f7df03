ALTER TABLE "contacts" ALTER COLUMN "wa_id" DROP NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "contacts_bsuid_key" ON "contacts" USING btree ("bsuid") WHERE "contacts"."bsuid" is not null;--> statement-breakpoint
CREATE INDEX "contacts_parent_bsuid_idx" ON "contacts" USING btree ("parent_bsuid") WHERE "contacts"."parent_bsuid" is not null;--> statement-breakpoint
CREATE INDEX "contacts_username_idx" ON "contacts" USING btree ("username") WHERE "contacts"."username" is not null;--> statement-breakpoint
ALTER TABLE "contacts" ADD CONSTRAINT "contacts_identified_check" CHECK ("contacts"."wa_id" is not null or "contacts"."bsuid" is not null);