/** zod schemas for client input; the first issue becomes BAD_USER_INPUT naming its field. */
import { z } from 'zod'
import { isValidTimeZone } from './calendar/free-slots.ts'
import { badUserInput } from './errors.ts'

/** Parses `value` or throws BAD_USER_INPUT with `extensions.field` = the path of the first issue (prefixed). */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, prefix: string): T {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issue = result.error.issues[0]!
  const field = [prefix, ...issue.path.map(String)].filter(Boolean).join('.')
  throw badUserInput(`${field}: ${issue.message}`, field)
}

export const timeZone = z.string().trim().refine(isValidTimeZone, 'must be an IANA time zone, e.g. Europe/Berlin')
export const handle = z
  .string()
  .trim()
  .max(200)
  .regex(/^(https?:\/\/)?[\w@.\-/~%?=&+#:]+$/, 'must be a handle or a URL without spaces')
export const text = (max: number) => z.string().trim().min(1).max(max)
