CREATE TABLE "app_secrets" (
	"name" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "link_revocations" (
	"purpose" text NOT NULL,
	"userid" text NOT NULL,
	"revoked_at" timestamp with time zone NOT NULL,
	CONSTRAINT "link_revocations_purpose_userid_pk" PRIMARY KEY("purpose","userid")
);
--> statement-breakpoint
CREATE TABLE "link_uses" (
	"token_id" text PRIMARY KEY NOT NULL,
	"used_at" timestamp with time zone NOT NULL
);
