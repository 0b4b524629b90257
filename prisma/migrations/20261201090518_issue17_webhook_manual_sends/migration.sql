-- AlterTable
ALTER TABLE "User" ADD COLUMN     "webhookSends" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "webhookSendsSince" TIMESTAMP(3);
