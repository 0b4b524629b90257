-- AlterTable
ALTER TABLE "WebhookEndpoint" ADD COLUMN     "suggestionsDigest" TEXT;

-- CreateIndex
CREATE INDEX "WebhookDelivery_state_nextAttemptAt_idx" ON "WebhookDelivery"("state", "nextAttemptAt");
