-- AlterTable
ALTER TABLE "WebhookEndpoint" ADD COLUMN     "lastFailureAt" TIMESTAMP(3);
