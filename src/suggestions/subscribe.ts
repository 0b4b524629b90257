/**
 * The suggestions subscription as one use case, whatever the transport (SSE
 * or graphql-ws): check the request, admit it, and open the user's live
 * stream under the per-user stream limit. The GraphQL resolver only hands it
 * the user, the input and its dependencies.
 */
import { z } from 'zod'
import { firstOverlapping, type Interval } from '../calendar/free-slots.ts'
import type { ChangeSource } from '../pubsub/changes.ts'
import { parseInput } from '../validation.ts'
import type { AdmissionControl } from './admission.ts'
import type { GenerateOptions, SuggestionEngine } from './generator.ts'
import { liveSuggestions, type LiveEvent, type LiveStreamStats } from './live.ts'
import type { AbortLike, SubscriptionLimiter } from './subscription-limit.ts'
import type { WalkSharing } from './walk-sharing.ts'

/** What a client asks of the stream (absent or null: the defaults). */
export interface SuggestionsRequest {
  /** 1..500 (default 50). */
  maxSuggestions?: number | null | undefined
  /** Contacts per page, 1..1000 (default 100). */
  batchSize?: number | null | undefined
  /** Free time to fit suggestions into, in any order, none overlapping; default: the user's availability. */
  slots?: readonly Interval[] | null | undefined
  /** The cursor of the last batch received. */
  resumeFrom?: string | null | undefined
  /** Stay open after the first walk and push the new list on every change (default true). */
  live?: boolean | null | undefined
}

/** What the stream runs on. */
export interface SuggestionsSubscriptionDependencies {
  /**
   * What runs the walks: the server's {@link WalkSharing} (one walk for the user's streams that ask the
   * same, admitted there through the same `admission`), or a bare engine (each stream its own walk).
   */
  engine: SuggestionEngine | WalkSharing
  /** Where walks wait for their place; a new stream is refused here first when the queue is full. */
  admission: AdmissionControl
  limiter: SubscriptionLimiter
  /** The key of the stream's place in `limiter` (auth/user-pools.ts perUserPoolKey); default the user's id (their own session's pool). */
  poolKey?: string | undefined
  /** Where the user's change notices come from; asked only for a live stream, once the stream is admitted (listened to while it runs). */
  changes: (userId: string) => ChangeSource
  /** How long the client may take nothing before the stream ends with a retryable TIMEOUT (milliseconds). */
  writeTimeoutMs: number
  /** Where the process counts its live streams waiting for a change. */
  stats?: LiveStreamStats | undefined
}

/**
 * The free time a client passes: at most `maxSlots` slots, each ending after it starts, none
 * overlapping another (two suggestions would share the same minutes); parsed, sorted by start.
 */
function buildSlotsSchema(maxSlots: number) {
  return z
    .array(z.object({ start: z.date(), end: z.date() }).refine((slot) => slot.end > slot.start, 'a slot must end after it starts'))
    .max(maxSlots, { error: (issue) => `at most ${maxSlots} slots, got ${(issue.input as unknown[]).length}` })
    .transform((slots) => slots.sort((a, b) => a.start.getTime() - b.start.getTime()))
    .refine((slots) => firstOverlapping(slots) < 0, 'slots must not overlap')
}

/** One schema per `maxSlots` (one in a process), built once: a zod schema costs more to build than to run. */
const slotsSchemas = new Map<number, ReturnType<typeof buildSlotsSchema>>()

function slotsSchema(maxSlots: number): ReturnType<typeof buildSlotsSchema> {
  let schema = slotsSchemas.get(maxSlots)
  if (!schema) slotsSchemas.set(maxSlots, (schema = buildSlotsSchema(maxSlots)))
  return schema
}

/**
 * Opens the user's suggestions stream: the ranked top suggestions batch by
 * batch, `complete`, then (live) the new list on every change. `request` is
 * checked before anything starts; `clientGone` (the HTTP request's signal, if
 * any) frees the stream's place as soon as the client leaves, even before the
 * transport takes the stream. `inputField` names the argument in error fields.
 *
 * Throws BAD_USER_INPUT naming `input.slots` (more than the engine's
 * `maxSlots`, or overlapping slots) or `input.slots.<i>` (a slot that does not
 * end after it starts); RATE_LIMITED (with `retryAfterSeconds`) when the
 * server is at capacity (admission.ts) or the user has the most streams open
 * (subscription-limit.ts). Bad `maxSuggestions`,
 * `batchSize` or `resumeFrom` fail the stream's first event with BAD_USER_INPUT.
 */
export function subscribeToSuggestions(
  deps: SuggestionsSubscriptionDependencies,
  userId: string,
  request: SuggestionsRequest | null | undefined,
  clientGone?: AbortLike | undefined,
  inputField = 'input',
): AsyncGenerator<LiveEvent, void, undefined> {
  const slots = request?.slots ? parseInput(slotsSchema(deps.engine.maxSlots), request.slots, `${inputField}.slots`) : undefined
  const options: GenerateOptions = {
    maxSuggestions: request?.maxSuggestions ?? undefined,
    batchSize: request?.batchSize ?? undefined,
    resumeFrom: request?.resumeFrom,
    ...(slots ? { slots } : {}),
  }
  deps.admission.assertCanAdmit()
  // The place is freed when the SSE request aborts (even before Yoga takes the stream), and when the
  // stream ends by itself (a write timeout) while the transport still hangs in a write.
  return deps.limiter.wrap(
    deps.poolKey ?? userId,
    (release) =>
      liveSuggestions(deps.engine, userId, options, {
        changes: request?.live === false ? undefined : deps.changes(userId),
        admission: deps.admission,
        writeTimeoutMs: deps.writeTimeoutMs,
        onEnd: release,
        stats: deps.stats,
      }),
    clientGone,
  )
}
