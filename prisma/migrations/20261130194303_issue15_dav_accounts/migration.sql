-- CreateEnum
CREATE TYPE "AccountKind" AS ENUM ('CARDDAV', 'CALDAV');

-- CreateEnum
CREATE TYPE "AccountStatus" AS ENUM ('OK', 'SYNCING', 'NEEDS_REAUTH', 'ERROR');

-- CreateEnum
CREATE TYPE "AccountAuth" AS ENUM ('BASIC', 'BEARER');

-- CreateEnum
CREATE TYPE "CollectionKind" AS ENUM ('ADDRESS_BOOK', 'CALENDAR');

-- AlterEnum
ALTER TYPE "ContactSource" ADD VALUE 'CARDDAV';

-- DropIndex
DROP INDEX "Contact_userId_googleResourceName_key";

-- AlterTable
ALTER TABLE "CalendarEvent" ADD COLUMN     "accountId" UUID,
ADD COLUMN     "remoteHref" TEXT;

-- AlterTable
ALTER TABLE "CalendarSeries" ADD COLUMN     "accountId" UUID,
ADD COLUMN     "remoteHref" TEXT;

-- AlterTable
-- The seed's Google-only fields, generalised (renamed, so what they hold is kept).
ALTER TABLE "Contact" RENAME COLUMN "googleResourceName" TO "remoteHref";
ALTER TABLE "Contact" RENAME COLUMN "googleEtag" TO "remoteEtag";
ALTER TABLE "Contact" ADD COLUMN     "accountId" UUID,
ADD COLUMN     "remoteCard" TEXT,
ADD COLUMN     "remoteDeletedAt" TIMESTAMP(3),
ADD COLUMN     "remoteDirty" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- CreateTable
CREATE TABLE "Account" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "kind" "AccountKind" NOT NULL,
    "url" TEXT NOT NULL,
    "auth" "AccountAuth" NOT NULL,
    "credentials" TEXT NOT NULL,
    "status" "AccountStatus" NOT NULL DEFAULT 'OK',
    "lastSyncedAt" TIMESTAMP(3),
    "lastAttemptAt" TIMESTAMP(3),
    "lastError" TEXT,
    "syncLeaseUntil" TIMESTAMP(3),
    "syncLeaseOwner" TEXT,
    "retryAfter" TIMESTAMP(3),
    "contactsCount" INTEGER NOT NULL DEFAULT 0,
    "eventsCount" INTEGER NOT NULL DEFAULT 0,
    "writeCalendarUrl" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Account_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AccountCollection" (
    "id" UUID NOT NULL,
    "accountId" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "displayName" TEXT,
    "kind" "CollectionKind" NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT false,
    "syncToken" TEXT,
    "ctag" TEXT,
    "lastSyncedAt" TIMESTAMP(3),

    CONSTRAINT "AccountCollection_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SyncConflict" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "contactId" UUID NOT NULL,
    "accountId" UUID,
    "field" TEXT NOT NULL,
    "localValue" TEXT,
    "remoteValue" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolvedAt" TIMESTAMP(3),

    CONSTRAINT "SyncConflict_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Account_userId_id_idx" ON "Account"("userId", "id");

-- CreateIndex
CREATE INDEX "Account_lastAttemptAt_idx" ON "Account"("lastAttemptAt");

-- CreateIndex
CREATE UNIQUE INDEX "AccountCollection_accountId_url_key" ON "AccountCollection"("accountId", "url");

-- CreateIndex
CREATE INDEX "SyncConflict_userId_createdAt_idx" ON "SyncConflict"("userId", "createdAt");

-- CreateIndex
CREATE INDEX "SyncConflict_contactId_idx" ON "SyncConflict"("contactId");

-- CreateIndex
CREATE INDEX "CalendarEvent_accountId_remoteHref_idx" ON "CalendarEvent"("accountId", "remoteHref");

-- CreateIndex
CREATE INDEX "CalendarSeries_accountId_remoteHref_idx" ON "CalendarSeries"("accountId", "remoteHref");

-- CreateIndex
CREATE UNIQUE INDEX "Contact_accountId_remoteHref_key" ON "Contact"("accountId", "remoteHref");

-- AddForeignKey
ALTER TABLE "Contact" ADD CONSTRAINT "Contact_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CalendarEvent" ADD CONSTRAINT "CalendarEvent_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CalendarSeries" ADD CONSTRAINT "CalendarSeries_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Account" ADD CONSTRAINT "Account_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AccountCollection" ADD CONSTRAINT "AccountCollection_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SyncConflict" ADD CONSTRAINT "SyncConflict_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SyncConflict" ADD CONSTRAINT "SyncConflict_contactId_fkey" FOREIGN KEY ("contactId") REFERENCES "Contact"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SyncConflict" ADD CONSTRAINT "SyncConflict_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE SET NULL ON UPDATE CASCADE;
