-- CreateEnum
CREATE TYPE "ImportKind" AS ENUM ('CONTACTS', 'CALENDAR');

-- CreateEnum
CREATE TYPE "ImportStatus" AS ENUM ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED');

-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "ContactSource" ADD VALUE 'VCARD';
ALTER TYPE "ContactSource" ADD VALUE 'CSV';

-- AlterTable
ALTER TABLE "CalendarEvent" ADD COLUMN     "uid" TEXT;

-- AlterTable
ALTER TABLE "Contact" ADD COLUMN     "birthday" TEXT,
ADD COLUMN     "emails" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "externalId" TEXT,
ADD COLUMN     "importHash" TEXT,
ADD COLUMN     "matchKeys" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "phones" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "calendarFeedCreatedAt" TIMESTAMP(3),
ADD COLUMN     "calendarFeedHash" TEXT;

-- CreateTable
CREATE TABLE "CalendarSeries" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "uid" TEXT NOT NULL,
    "ics" TEXT NOT NULL,
    "expandedUntil" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "CalendarSeries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Import" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "kind" "ImportKind" NOT NULL,
    "format" TEXT NOT NULL,
    "status" "ImportStatus" NOT NULL DEFAULT 'QUEUED',
    "byteSize" INTEGER NOT NULL,
    "total" INTEGER,
    "done" INTEGER NOT NULL DEFAULT 0,
    "created" INTEGER NOT NULL DEFAULT 0,
    "updated" INTEGER NOT NULL DEFAULT 0,
    "unchanged" INTEGER NOT NULL DEFAULT 0,
    "rejected" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "Import_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ImportChunk" (
    "importId" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "data" BYTEA NOT NULL,

    CONSTRAINT "ImportChunk_pkey" PRIMARY KEY ("importId","seq")
);

-- CreateTable
CREATE TABLE "ImportError" (
    "id" UUID NOT NULL,
    "importId" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "field" TEXT,
    "reason" TEXT NOT NULL,
    "raw" TEXT,

    CONSTRAINT "ImportError_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "CalendarSeries_expandedUntil_idx" ON "CalendarSeries"("expandedUntil");

-- CreateIndex
CREATE UNIQUE INDEX "CalendarSeries_userId_uid_key" ON "CalendarSeries"("userId", "uid");

-- CreateIndex
CREATE INDEX "Import_userId_id_idx" ON "Import"("userId", "id");

-- CreateIndex
CREATE INDEX "Import_status_idx" ON "Import"("status");

-- CreateIndex
CREATE INDEX "ImportError_importId_id_idx" ON "ImportError"("importId", "id");

-- CreateIndex
CREATE INDEX "CalendarEvent_userId_uid_idx" ON "CalendarEvent"("userId", "uid");

-- CreateIndex
-- fastupdate off: a lookup probes the index at once instead of scanning its pending list (about 3 ms a key with it on; bench/contact-import.ts)
CREATE INDEX "Contact_matchKeys_idx" ON "Contact" USING GIN ("matchKeys") WITH (fastupdate = off);

-- CreateIndex
CREATE UNIQUE INDEX "Contact_userId_externalId_key" ON "Contact"("userId", "externalId");

-- CreateIndex
CREATE UNIQUE INDEX "User_calendarFeedHash_key" ON "User"("calendarFeedHash");

-- AddForeignKey
ALTER TABLE "CalendarSeries" ADD CONSTRAINT "CalendarSeries_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Import" ADD CONSTRAINT "Import_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ImportChunk" ADD CONSTRAINT "ImportChunk_importId_fkey" FOREIGN KEY ("importId") REFERENCES "Import"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ImportError" ADD CONSTRAINT "ImportError_importId_fkey" FOREIGN KEY ("importId") REFERENCES "Import"("id") ON DELETE CASCADE ON UPDATE CASCADE;
