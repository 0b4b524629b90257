/**
 * One suggestions subscription for all the tabs of a browser: the tab holding a Web
 * Lock (`navigator.locks`) runs the stream and fans its events out over a
 * BroadcastChannel; the others (followers) render those events, and a tab that joins
 * asks for the current state and gets it at once. The lock frees when the leader tab
 * closes, navigates away or crashes; the next tab in line takes it and resumes where
 * the stream got to (after the last batch's cursor, or a fresh walk once the list was
 * complete). Without Web Locks or BroadcastChannel, every tab runs its own stream.
 */
import { initialSuggestionsState, isStreamEvent, streamSnapshot, suggestionsReducer, type StreamSnapshot, type SuggestionsEvent, type SuggestionsState } from './reducer.ts'
import { nextPosition, startSuggestionsStream, type StreamOptions, type StreamPosition } from './stream.ts'

/** The part of `navigator.locks` used: an exclusive lock held while the callback's promise is pending. */
export interface LockManagerLike {
  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<void>): Promise<unknown>
}

/** The part of a BroadcastChannel used. */
export interface ChannelLike {
  postMessage(message: unknown): void
  onmessage: ((event: MessageEvent) => void) | null
  close(): void
}

/** What tabs say to each other. */
export type TabMessage =
  /** A tab joined: the leader answers with a snapshot. */
  | { kind: 'hello' }
  | { kind: 'snapshot'; stream: StreamSnapshot; position: StreamPosition }
  | { kind: 'event'; event: SuggestionsEvent }

export type StreamRole = 'leader' | 'follower'

export interface SharedStreamOptions extends StreamOptions {
  /** Tabs with the same scope share one stream (the same token, endpoint and stream input). */
  scope: string
  /** Default `navigator.locks`; null: no sharing. */
  locks?: LockManagerLike | null
  /** Default a BroadcastChannel of that name; null: no sharing. */
  openChannel?: ((name: string) => ChannelLike) | null
  /** Told when this tab leads (runs the stream) or follows. */
  onRole?: (role: StreamRole) => void
}

function defaultLocks(): LockManagerLike | null {
  const locks = (globalThis.navigator as (Navigator & { locks?: LockManagerLike }) | undefined)?.locks
  return locks ?? null
}

function defaultChannel(): ((name: string) => ChannelLike) | null {
  return typeof BroadcastChannel === 'function' ? (name) => new BroadcastChannel(name) : null
}

/** Starts this tab's part of the shared stream; returns the function that stops it (a leader hands over). */
export function startSharedSuggestionsStream(options: SharedStreamOptions): () => void {
  const locks = options.locks === undefined ? defaultLocks() : options.locks
  const openChannel = options.openChannel === undefined ? defaultChannel() : options.openChannel
  if (!locks || !openChannel) {
    options.onRole?.('leader')
    return startSuggestionsStream(options)
  }
  const { dispatch, onUnauthorized, scope } = options
  const name = `suggestions-stream:${scope}`
  const channel = openChannel(name)
  // What the stream made so far, whoever ran it: the snapshot for a tab that joins, the position for a take-over.
  let mirror: SuggestionsState = initialSuggestionsState
  let position: StreamPosition = { cursor: null, complete: false }
  let leader = false
  let stopped = false
  let stopStream: (() => void) | null = null
  const track = (event: SuggestionsEvent) => {
    mirror = suggestionsReducer(mirror, event)
    position = nextPosition(position, event)
  }

  channel.onmessage = ({ data }: MessageEvent) => {
    const message = data as TabMessage
    if (stopped) return
    if (message.kind === 'hello') {
      if (leader) channel.postMessage({ kind: 'snapshot', stream: streamSnapshot(mirror), position } satisfies TabMessage)
      return
    }
    if (leader) return
    if (message.kind === 'snapshot') {
      mirror = { ...mirror, ...message.stream }
      position = message.position
      dispatch({ type: 'snapshot', stream: message.stream })
      return
    }
    track(message.event)
    dispatch(message.event)
    if (message.event.type === 'unauthorized') onUnauthorized()
  }

  const abort = new AbortController()
  locks
    .request(name, { signal: abort.signal }, () => {
      if (stopped) return Promise.resolve()
      leader = true
      options.onRole?.('leader')
      return new Promise<void>((release) => {
        const stopInner = startSuggestionsStream({
          ...options,
          from: position,
          dispatch: (event) => {
            if (isStreamEvent(event)) {
              track(event)
              channel.postMessage({ kind: 'event', event } satisfies TabMessage)
            }
            dispatch(event)
          },
        })
        stopStream = () => {
          stopInner()
          release()
        }
      })
    })
    // Stopped while waiting in line: the request is aborted, nothing to do.
    .catch(() => {})
  if (!leader) options.onRole?.('follower')
  channel.postMessage({ kind: 'hello' } satisfies TabMessage)

  return () => {
    stopped = true
    abort.abort()
    stopStream?.()
    channel.close()
  }
}
