import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { decodeCursor, encodeCursor, MAX_CURSOR_LENGTH, scopeDigest, useCursorSecret } from '../../src/cursors/cursor-codec.ts'
import { MIN_RESUME_CLOCK, resumeCursors } from '../../src/cursors/resume-cursor.ts'
import { ClientError } from '../../src/errors.ts'

const data = z.tuple([z.string(), z.number()])
const scope = scopeDigest({ user: 'u1', order: 'name', where: { a: 1, b: [1, 2] } })
const refusal = (run: () => unknown) => {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(ClientError)
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'after' } })
    return (error as Error).message
  }
  throw new Error('accepted')
}

describe('the cursor codec', () => {
  // A fixed key: the cursors, and so the property's cases, are the same on every run.
  beforeAll(() => useCursorSecret('k'.repeat(32)))

  it('reads back what it wrote, for the same kind and scope', () => {
    const cursor = encodeCursor('contacts', scope, ['Ann', 3])
    expect(decodeCursor('contacts', scope, cursor, data, 'after')).toEqual(['Ann', 3])
    // The digest ignores key order of plain objects.
    expect(scopeDigest({ where: { b: [1, 2], a: 1 }, order: 'name', user: 'u1' })).toBe(scope)
  })

  it('refuses another kind, another scope, and garbage', () => {
    const cursor = encodeCursor('contacts', scope, ['Ann', 3])
    expect(refusal(() => decodeCursor('suggestions', scope, cursor, data, 'after'))).toMatch(/a cursor of contacts, not of suggestions/)
    expect(refusal(() => decodeCursor('contacts', scopeDigest({ user: 'u2' }), cursor, data, 'after'))).toMatch(/another user or another query/)
    for (const garbage of ['', '.', 'a.b', `${cursor}.x`, 'x'.repeat(MAX_CURSOR_LENGTH + 1), cursor.replace('.', '')]) {
      refusal(() => decodeCursor('contacts', scope, garbage, data, 'after'))
    }
  })

  it('refuses every single-character change of a real cursor', () => {
    const cursor = encodeCursor('contacts', scope, ['Ann', 3])
    fc.assert(
      fc.property(fc.nat(cursor.length - 1), fc.constantFrom(...'ABCDabc019-_.'), (index, char) => {
        fc.pre(cursor[index] !== char)
        refusal(() => decodeCursor('contacts', scope, cursor.slice(0, index) + char + cursor.slice(index + 1), data, 'after'))
      }),
      { seed: 42, numRuns: 1000 },
    )
  })

  it('refuses a signature whose unused last bits were changed (canonical base64url only)', () => {
    const cursor = encodeCursor('contacts', scope, ['Ann', 3])
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    for (const char of alphabet) {
      const changed = cursor.slice(0, -1) + char
      if (changed !== cursor) refusal(() => decodeCursor('contacts', scope, changed, data, 'after'))
    }
  })

  it('refuses cursors signed with another SECRET_KEY, and reads those of the same key', () => {
    useCursorSecret('a'.repeat(32))
    const cursor = encodeCursor('contacts', scope, ['Ann', 3])
    useCursorSecret('b'.repeat(32))
    expect(refusal(() => decodeCursor('contacts', scope, cursor, data, 'after'))).toMatch(/altered or made by another server/)
    useCursorSecret('a'.repeat(32))
    expect(decodeCursor('contacts', scope, cursor, data, 'after')).toEqual(['Ann', 3])
    expect(() => useCursorSecret('short')).toThrow(/at least 32/)
  })
})

describe('the resume cursor', () => {
  const slots = [{ start: new Date('2026-12-01T09:00:00Z'), end: new Date('2026-12-01T09:30:00Z') }]
  const position = { now: Date.UTC(2026, 10, 25), emitted: 3, priority: 4.5, id: '00000000-0000-4000-8000-000000000001' }

  it('round-trips within its scope and is refused outside it', () => {
    const { encodeResume, decodeResume } = resumeCursors({ userId: 'u1', maxSuggestions: 10, slots })
    const cursor = encodeResume(position)
    expect(decodeResume(cursor)).toEqual(position)
    for (const other of [
      { userId: 'u2', maxSuggestions: 10, slots },
      { userId: 'u1', maxSuggestions: 11, slots },
      { userId: 'u1', maxSuggestions: 10 },
      { userId: 'u1', maxSuggestions: 10, slots: [{ ...slots[0]!, end: new Date('2026-12-01T10:00:00Z') }] },
    ]) {
      expect(() => resumeCursors(other).decodeResume(cursor)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', details: { field: 'input.resumeFrom' } }))
    }
  })

  it('refuses a signed cursor whose clock or count is out of range (defence in depth)', () => {
    const { encodeResume, decodeResume } = resumeCursors({ userId: 'u1', maxSuggestions: 10 })
    for (const bad of [{ now: 1e300 }, { now: 0 }, { now: MIN_RESUME_CLOCK - 1 }, { now: Number.NaN }, { emitted: 11 }, { emitted: 0 }, { priority: -1 }, { id: 'x' }]) {
      expect(() => decodeResume(encodeResume({ ...position, ...bad })), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }))
    }
  })
})
