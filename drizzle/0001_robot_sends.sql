CREATE TABLE "robot_sends" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"rate_key" text NOT NULL,
	"sent_at" timestamp with time zone NOT NULL,
	"outbox_id" integer
);
--> statement-breakpoint
CREATE INDEX "robot_sends_key_idx" ON "robot_sends" USING btree ("rate_key","sent_at");