-- CreateTable
CREATE TABLE "TrustedDocument" (
    "clientKind" TEXT NOT NULL DEFAULT 'Client',
    "clientId" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "document" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TrustedDocument_pkey" PRIMARY KEY ("clientId","id")
);

-- CreateTable
CREATE TABLE "OAuthAppSettings" (
    "clientKind" TEXT NOT NULL DEFAULT 'Client',
    "clientId" TEXT NOT NULL,
    "trustedDocumentsOnly" BOOLEAN NOT NULL DEFAULT false,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "OAuthAppSettings_pkey" PRIMARY KEY ("clientId")
);

-- CreateIndex
CREATE INDEX "TrustedDocument_clientKind_clientId_idx" ON "TrustedDocument"("clientKind", "clientId");

-- CreateIndex
CREATE UNIQUE INDEX "OAuthAppSettings_clientKind_clientId_key" ON "OAuthAppSettings"("clientKind", "clientId");

-- AddForeignKey
ALTER TABLE "TrustedDocument" ADD CONSTRAINT "TrustedDocument_clientKind_clientId_fkey" FOREIGN KEY ("clientKind", "clientId") REFERENCES "OAuthPayload"("kind", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "OAuthAppSettings" ADD CONSTRAINT "OAuthAppSettings_clientKind_clientId_fkey" FOREIGN KEY ("clientKind", "clientId") REFERENCES "OAuthPayload"("kind", "id") ON DELETE CASCADE ON UPDATE CASCADE;
