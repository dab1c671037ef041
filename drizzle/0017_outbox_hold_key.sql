ALTER TABLE "outbox" ADD COLUMN "hold_key" text;--> statement-breakpoint
UPDATE "outbox" SET "hold_key" = 'dept:' || "department_id" WHERE "department_id" IS NOT NULL;--> statement-breakpoint
ALTER TABLE "outbox" drop column "department_id";--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "department_id" integer GENERATED ALWAYS AS (case when hold_key ~ '^dept:[0-9]{1,9}$' then substring(hold_key from 6)::integer end) STORED;
