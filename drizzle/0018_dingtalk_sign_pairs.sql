CREATE TABLE "dingtalk_sign_pairs" (
	"pair_digest" text PRIMARY KEY NOT NULL,
	"msg_id" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "dingtalk_sign_pairs_expires_idx" ON "dingtalk_sign_pairs" USING btree ("expires_at");