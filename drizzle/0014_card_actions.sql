CREATE TABLE "card_actions" (
	"token" text PRIMARY KEY NOT NULL,
	"platform" text NOT NULL,
	"conversation_id" text NOT NULL,
	"command" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
