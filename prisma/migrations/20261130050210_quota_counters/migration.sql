-- AlterTable
ALTER TABLE "User" ADD COLUMN     "calendarEventCount" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "contactCount" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "groupCount" INTEGER NOT NULL DEFAULT 0;

-- Existing rows count from the start (one pass per table; later writes keep the counters).
UPDATE "User" u SET "contactCount" = c.n FROM (SELECT "userId", count(*)::int AS n FROM "Contact" GROUP BY "userId") c WHERE c."userId" = u.id;
UPDATE "User" u SET "groupCount" = g.n FROM (SELECT "userId", count(*)::int AS n FROM "Group" GROUP BY "userId") g WHERE g."userId" = u.id;
UPDATE "User" u SET "calendarEventCount" = e.n FROM (SELECT "userId", count(*)::int AS n FROM "CalendarEvent" GROUP BY "userId") e WHERE e."userId" = u.id;
