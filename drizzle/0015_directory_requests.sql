ALTER TABLE "directory_syncs" ALTER COLUMN "plan" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "directory_syncs" ADD COLUMN "status" text DEFAULT 'proposed' NOT NULL;--> statement-breakpoint
ALTER TABLE "directory_syncs" ADD COLUMN "platform" text;--> statement-breakpoint
ALTER TABLE "directory_syncs" ADD COLUMN "conversation_id" text;--> statement-breakpoint
ALTER TABLE "directory_syncs" ADD COLUMN "next_attempt_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "directory_syncs" ADD COLUMN "attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "directory_syncs" ADD COLUMN "last_error" text;