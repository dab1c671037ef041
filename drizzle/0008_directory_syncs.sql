CREATE TABLE "directory_syncs" (
	"id" serial PRIMARY KEY NOT NULL,
	"plan" jsonb NOT NULL,
	"requested_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"applied_at" timestamp with time zone,
	"applied_by" text
);
