import type { PrismaClient } from '../generated/prisma/client.ts'
import { badUserInput } from '../errors.ts'

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

/** The user with this email, created if missing. */
export async function ensureUser(prisma: PrismaClient, email: string, name?: string): Promise<{ id: string; email: string }> {
  const normalized = email.trim().toLowerCase()
  if (!EMAIL.test(normalized) || normalized.length > 254) throw badUserInput(`not an email address: ${email}`, 'email')
  return prisma.user.upsert({
    where: { email: normalized },
    create: { email: normalized, name: name ?? null },
    update: {},
    select: { id: true, email: true },
  })
}
