CREATE TABLE "triage_jobs" (
	"id" serial PRIMARY KEY NOT NULL,
	"group_id" integer NOT NULL,
	"message_id" text NOT NULL,
	"sender_id" text NOT NULL,
	"sender_name" text,
	"text" text NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"rule_suggestion_id" integer,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"outcome" text,
	"last_error" text,
	"created_at" timestamp with time zone NOT NULL,
	"done_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "triage_jobs" ADD CONSTRAINT "triage_jobs_group_id_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."groups"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "triage_jobs" ADD CONSTRAINT "triage_jobs_rule_suggestion_id_triage_suggestions_id_fk" FOREIGN KEY ("rule_suggestion_id") REFERENCES "public"."triage_suggestions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "triage_jobs_message_uq" ON "triage_jobs" USING btree ("group_id","message_id");--> statement-breakpoint
CREATE INDEX "triage_jobs_due_idx" ON "triage_jobs" USING btree ("status","next_attempt_at");