DROP INDEX "groups_department_idx";--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "department_id" integer;--> statement-breakpoint
-- One 部门群 per department: keep the internal group last set by /部门群 (from the audit trail), else the
-- oldest internal one (the group that received the notices until now); client groups never are one.
UPDATE "groups" g SET "department_id" = NULL
WHERE g."department_id" IS NOT NULL AND g."id" IS DISTINCT FROM (
  SELECT c."id" FROM "groups" c
  LEFT JOIN LATERAL (
    SELECT max(e."id") AS last_set FROM "events" e
    WHERE e."action" = 'group.department_set' AND e."subject" = 'group:' || c."id"
  ) s ON true
  WHERE c."department_id" = g."department_id" AND c."kind" = 'internal'
  ORDER BY s.last_set DESC NULLS LAST, c."id" ASC
  LIMIT 1
);--> statement-breakpoint
CREATE UNIQUE INDEX "groups_department_uq" ON "groups" USING btree ("department_id");
