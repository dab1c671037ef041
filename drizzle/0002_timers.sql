CREATE TABLE "calendar_overrides" (
	"date" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"note" text,
	"created_by" text,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "timers" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"subject" text NOT NULL,
	"order_id" integer,
	"department_id" integer,
	"rule_id" text NOT NULL,
	"state" text NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"next_step_at" timestamp with time zone,
	"data" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "timers" ADD CONSTRAINT "timers_department_id_departments_id_fk" FOREIGN KEY ("department_id") REFERENCES "public"."departments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "timers_due_idx" ON "timers" USING btree ("next_step_at") WHERE state = 'running' and next_step_at is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "timers_active_uq" ON "timers" USING btree ("subject","rule_id") WHERE state in ('running', 'paused');--> statement-breakpoint
CREATE INDEX "timers_order_idx" ON "timers" USING btree ("order_id");--> statement-breakpoint
CREATE INDEX "timers_running_due_idx" ON "timers" USING btree ("due_at") WHERE state = 'running';