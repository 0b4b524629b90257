-- CreateIndex
CREATE INDEX "Contact_userId_dunbarCircle_frequencyPreference_nextDueAt_i_idx" ON "Contact"("userId", "dunbarCircle", "frequencyPreference", "nextDueAt", "id");
