-- CreateEnum
CREATE TYPE "TokenKind" AS ENUM ('SESSION', 'API_KEY');

-- AlterTable
ALTER TABLE "AuthToken" ADD COLUMN     "displayPrefix" TEXT,
ADD COLUMN     "kind" "TokenKind" NOT NULL DEFAULT 'SESSION',
ADD COLUMN     "scopes" TEXT[] DEFAULT ARRAY[]::TEXT[];
