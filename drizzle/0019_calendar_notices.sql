CREATE TABLE "calendar_notices" (
	"id" serial PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"year" integer,
	"source" text,
	"days" jsonb,
	"baseline" text,
	"platform" text,
	"conversation_id" text,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"applied_by" text,
	"applied_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "calendar_statutory_days" (
	"year" integer NOT NULL,
	"date" text NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"in_lieu" boolean DEFAULT false NOT NULL,
	"notice_id" integer NOT NULL,
	CONSTRAINT "calendar_statutory_days_year_date_pk" PRIMARY KEY("year","date")
);
--> statement-breakpoint
ALTER TABLE "calendar_statutory_days" ADD CONSTRAINT "calendar_statutory_days_notice_id_calendar_notices_id_fk" FOREIGN KEY ("notice_id") REFERENCES "public"."calendar_notices"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "calendar_notices_awaiting_idx" ON "calendar_notices" USING btree ("platform","conversation_id","created_by") WHERE status = 'awaiting';