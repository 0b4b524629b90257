/**
 * The pure parts of the production surface: who counts as loopback, which
 * request ids are kept, how "Did you mean" hints are cut, what of an error is logged.
 */
import { describe, expect, it } from 'vitest'
import { withoutSuggestions } from '../../src/graphql/anonymous-surface.ts'
import { isLoopbackAddress, isLoopbackHost } from '../../src/http/loopback.ts'
import { requestIdFrom } from '../../src/http/request-id.ts'
import { serializeError } from '../../src/logger.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

describe('loopback', () => {
  it('knows loopback addresses in every spelling, and nothing else', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(address)).toBe(true)
    for (const address of ['192.0.2.2', '10.0.0.1', '::', '0.0.0.0', '::ffff:192.0.2.2', 'fd00::2', 'localhost', '', undefined]) {
      expect(isLoopbackAddress(address)).toBe(false)
    }
  })

  it('knows loopback host names, with or without a port, and nothing that only starts like one', () => {
    for (const host of ['localhost', 'LocalHost:4000', '127.0.0.1', '127.0.0.1:80', '[::1]', '[::1]:4000']) expect(isLoopbackHost(host)).toBe(true)
    for (const host of ['localhost.evil.example', 'evil.example', '127.0.0.1.nip.io', '::1', '[::2]', '', undefined]) expect(isLoopbackHost(host)).toBe(false)
  })
})

describe('requestIdFrom', () => {
  it("keeps a client's plain id of 1 to 64 characters", () => {
    for (const id of ['a', 'req-1', 'trace.id:span_01', 'x'.repeat(64), '0f8fad5b-d9cb-469f-a165-70867728950e']) expect(requestIdFrom(id)).toBe(id)
  })

  it('replaces a missing, long or odd one with a fresh UUID', () => {
    for (const id of [null, undefined, '', 'x'.repeat(65), 'a b', 'a\nb', '"}{"level":50', '<b>', 'é', 'a/b']) expect(requestIdFrom(id)).toMatch(UUID)
    expect(requestIdFrom(null)).not.toBe(requestIdFrom(null))
  })
})

describe('withoutSuggestions', () => {
  it('cuts every kind of hint graphql-js gives', () => {
    expect(withoutSuggestions('Cannot query field "mee" on type "Query". Did you mean "me"?')).toBe('Cannot query field "mee" on type "Query".')
    expect(withoutSuggestions('Cannot query field "x" on type "Query". Did you mean "a", "b", or "c"?')).toBe('Cannot query field "x" on type "Query".')
    expect(withoutSuggestions('Value "INNR" does not exist in "DunbarCircle" enum. Did you mean the enum value "INNER"?')).toBe('Value "INNR" does not exist in "DunbarCircle" enum.')
    expect(withoutSuggestions('Unknown type "Contat". Did you mean "Contact"?')).toBe('Unknown type "Contat".')
    expect(withoutSuggestions('Syntax Error: Expected Name, found <EOF>.')).toBe('Syntax Error: Expected Name, found <EOF>.')
  })
})

describe('serializeError', () => {
  it('drops the statement and parameters of a database error, keeping its code and message', () => {
    const error = Object.assign(new Error('relation "x" does not exist'), { code: '42P01', query: 'SELECT secret FROM x WHERE a = $1', params: ['s3cret'], detail: 'Key (email)=(a@b.c)' })
    const serialized = JSON.stringify(serializeError(error))
    expect(serialized).toContain('42P01')
    expect(serialized).toContain('relation \\"x\\" does not exist')
    expect(serialized).not.toMatch(/SELECT|s3cret|a@b\.c/)
  })

  it("keeps only the reason of a Prisma message, not the call it quotes", () => {
    class PrismaClientValidationError extends Error {
      clientVersion = '7.10.0'
    }
    const message = '\nInvalid `prisma.contact.create()` invocation in\n/app/src/contacts/contact-writes.ts:60:22\n\n  59 }\n→ 60 return prisma.contact.create({\n      data: {\n        name: "s3cret name",\n    +   nextDueAt: DateTime\n      }\n    })\n\nArgument `nextDueAt` is missing.'
    const serialized = serializeError(new PrismaClientValidationError(message)) as { message: string; stack: string; type: string }
    expect(serialized.message).toBe('Argument `nextDueAt` is missing.')
    expect(serialized.stack).toMatch(/^PrismaClientValidationError: Argument `nextDueAt` is missing.\n\s+at /)
    expect(JSON.stringify(serialized)).not.toMatch(/s3cret|prisma\.contact\.create/)
  })
})
