-- AlterTable
ALTER TABLE "User" ADD COLUMN     "isDeveloper" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "OAuthPayload" (
    "kind" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "grantId" TEXT,
    "userCode" TEXT,
    "uid" TEXT,
    "accountId" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3),
    "consumedAt" TIMESTAMP(3),

    CONSTRAINT "OAuthPayload_pkey" PRIMARY KEY ("kind","id")
);

-- CreateIndex
CREATE INDEX "OAuthPayload_grantId_idx" ON "OAuthPayload"("grantId");

-- CreateIndex
CREATE INDEX "OAuthPayload_kind_uid_idx" ON "OAuthPayload"("kind", "uid");

-- CreateIndex
CREATE INDEX "OAuthPayload_kind_userCode_idx" ON "OAuthPayload"("kind", "userCode");

-- CreateIndex
CREATE INDEX "OAuthPayload_kind_accountId_idx" ON "OAuthPayload"("kind", "accountId");

-- CreateIndex
CREATE INDEX "OAuthPayload_expiresAt_idx" ON "OAuthPayload"("expiresAt");

-- AddForeignKey
ALTER TABLE "OAuthPayload" ADD CONSTRAINT "OAuthPayload_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;
