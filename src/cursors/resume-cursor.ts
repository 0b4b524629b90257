/**
 * The suggestions stream's resume cursor (`SuggestionBatch.cursor`,
 * `input.resumeFrom`), on the shared {@link encodeCursor} codec: signed, bound
 * to the user and to the input that decides the ranking (maxSuggestions and
 * the slots passed, or the user's own), and refused with BAD_USER_INPUT
 * (`input.resumeFrom`) otherwise.
 */
import { z } from 'zod'
import type { Interval } from '../calendar/free-slots.ts'
import { isUuid } from '../db/uuid.ts'
import { MAX_DATE } from '../validation.ts'
import { decodeCursor, encodeCursor, scopeDigest } from './cursor-codec.ts'

/** Where a resumed walk goes on: the clock it replays, how many were emitted, and the last one's rank. */
export interface ResumePosition {
  /** The walk's clock, ms since the epoch: a resumed walk ranks and fits slots at the same time. */
  now: number
  emitted: number
  priority: number
  /** The contact id of the last suggestion delivered. */
  id: string
}

/** What decides a walk's ranking besides the user's data: a cursor resumes only a walk of the same. */
export interface ResumeScope {
  userId: string
  maxSuggestions: number
  /** The slots the client passed; undefined: the user's availability (replayed at the cursor's clock). */
  slots?: readonly Interval[] | undefined
}

const FIELD = 'input.resumeFrom'

/**
 * The clock of a resume cursor must lie in this range (defence in depth: only
 * the server signs cursors, with its own clock). The lower end is before this
 * code existed.
 */
export const MIN_RESUME_CLOCK = Date.UTC(2020, 0, 1)
export const MAX_RESUME_CLOCK = MAX_DATE.getTime()

/** The position schema of each `maxSuggestions` (at most 500 of them), built once: a zod schema costs more to build than to run. */
const positionSchemas = new Map<number, z.ZodType<[number, number, number, string]>>()

function positionSchemaFor(maxSuggestions: number): z.ZodType<[number, number, number, string]> {
  let schema = positionSchemas.get(maxSuggestions)
  if (!schema) {
    schema = z.tuple([
      z.number().int().min(MIN_RESUME_CLOCK).max(MAX_RESUME_CLOCK),
      z.number().int().min(1).max(maxSuggestions),
      z.number().min(0).max(Number.MAX_VALUE),
      z.string().refine(isUuid),
    ])
    positionSchemas.set(maxSuggestions, schema)
  }
  return schema
}

/**
 * Encoder and decoder of resume cursors for one walk (the scope digest is
 * computed once). `decodeResume` throws BAD_USER_INPUT (`input.resumeFrom`)
 * for a cursor that is altered, of another user or input, or out of range.
 */
export function resumeCursors(scope: ResumeScope) {
  const digest = scopeDigest({
    user: scope.userId,
    maxSuggestions: scope.maxSuggestions,
    slots: scope.slots ? scope.slots.map((slot) => [slot.start.getTime(), slot.end.getTime()]) : 'default',
  })
  const positionSchema = positionSchemaFor(scope.maxSuggestions)
  return {
    encodeResume(position: ResumePosition): string {
      return encodeCursor('suggestions', digest, [position.now, position.emitted, position.priority, position.id])
    },
    decodeResume(cursor: string): ResumePosition {
      const [now, emitted, priority, id] = decodeCursor('suggestions', digest, cursor, positionSchema, FIELD)
      return { now, emitted, priority, id }
    },
  }
}
