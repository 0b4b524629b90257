-- DropIndex
DROP INDEX "Interaction_contactId_occurredAt_idx";

-- AlterTable
ALTER TABLE "Contact" ADD COLUMN     "anniversary" TEXT,
ADD COLUMN     "frequencyFromGroup" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "Group" ADD COLUMN     "defaultFrequency" "FrequencyPreference";

-- AlterTable
ALTER TABLE "Suggestion" ADD COLUMN     "previousId" TEXT,
ADD COLUMN     "previousSetAt" TIMESTAMP(3),
ADD COLUMN     "previousSlotEnd" TIMESTAMP(3),
ADD COLUMN     "previousSlotStart" TIMESTAMP(3),
ADD COLUMN     "previousSnoozedUntil" TIMESTAMP(3),
ADD COLUMN     "previousStatus" "SuggestionStatus";

-- CreateIndex
CREATE INDEX "Interaction_contactId_occurredAt_id_idx" ON "Interaction"("contactId", "occurredAt", "id");

-- CreateIndex
CREATE INDEX "Suggestion_userId_updatedAt_id_idx" ON "Suggestion"("userId", "updatedAt", "id");
