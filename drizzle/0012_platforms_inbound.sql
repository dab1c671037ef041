CREATE TABLE "directory_syncs" (
	"id" serial PRIMARY KEY NOT NULL,
	"plan" jsonb NOT NULL,
	"requested_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"applied_at" timestamp with time zone,
	"applied_by" text
);
--> statement-breakpoint
CREATE TABLE "inbound_notices" (
	"platform" text NOT NULL,
	"conversation_id" text NOT NULL,
	"kind" text NOT NULL,
	"last_at" timestamp with time zone NOT NULL,
	CONSTRAINT "inbound_notices_platform_conversation_id_kind_pk" PRIMARY KEY("platform","conversation_id","kind")
);
