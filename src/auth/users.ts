import { Prisma, type PrismaClient } from '../generated/prisma/client.ts'
import { badUserInput } from '../errors.ts'
import { emailAddress } from '../validation.ts'

/**
 * The user with this email (trimmed, lower-cased), created if missing.
 * Throws BAD_USER_INPUT naming `email` for anything the contact email rule refuses.
 */
export async function ensureUser(prisma: PrismaClient, email: string, name?: string): Promise<{ id: string; email: string }> {
  const normalized = email.trim().toLowerCase()
  if (!emailAddress.safeParse(normalized).success) throw badUserInput(`not an email address: ${email}`, 'email')
  const select = { id: true, email: true } as const
  try {
    return await prisma.user.upsert({ where: { email: normalized }, create: { email: normalized, name: name ?? null }, update: {}, select })
  } catch (error) {
    // Two first sign-ins of one address at once: Prisma's upsert may read then insert (not ON CONFLICT),
    // and the later insert fails on the unique email. The user the other one created is the answer.
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return prisma.user.findUniqueOrThrow({ where: { email: normalized }, select })
    throw error
  }
}
