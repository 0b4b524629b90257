import type { PrismaClient } from '../generated/prisma/client.ts'
import { badUserInput } from '../errors.ts'
import { emailAddress } from '../validation.ts'

/**
 * The user with this email (trimmed, lower-cased), created if missing.
 * Throws BAD_USER_INPUT naming `email` for anything the contact email rule refuses.
 */
export async function ensureUser(prisma: PrismaClient, email: string, name?: string): Promise<{ id: string; email: string }> {
  const normalized = email.trim().toLowerCase()
  if (!emailAddress.safeParse(normalized).success) throw badUserInput(`not an email address: ${email}`, 'email')
  return prisma.user.upsert({
    where: { email: normalized },
    create: { email: normalized, name: name ?? null },
    update: {},
    select: { id: true, email: true },
  })
}
