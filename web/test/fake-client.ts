/** A mocked ApiClient: scripted answers per operation name, and subscriptions the test drives. */
import { vi } from 'vitest'
import type { ApiClient, ApiError, StreamSink } from '../src/api/client.ts'
import type { SuggestionEvent } from '../src/suggestions/reducer.ts'

type Handler = (variables: Record<string, unknown>) => unknown

export interface FakeSubscription {
  variables: { input: Record<string, unknown> }
  stopped: boolean
  emit(event: SuggestionEvent): void
  fail(error: ApiError): void
  end(): void
}

export interface FakeClient extends ApiClient {
  subscriptions: FakeSubscription[]
  /** The latest subscription. */
  readonly current: FakeSubscription
  requests: { operation: string; variables: Record<string, unknown> }[]
  disposed: boolean
}

function operationName(document: { definitions: readonly { kind: string; name?: { value: string } }[] }): string {
  return document.definitions.find((definition) => definition.kind === 'OperationDefinition')?.name?.value ?? 'anonymous'
}

export function createFakeClient(handlers: Record<string, Handler> = {}): FakeClient {
  const subscriptions: FakeSubscription[] = []
  const requests: FakeClient['requests'] = []
  const client: FakeClient = {
    subscriptions,
    requests,
    disposed: false,
    get current() {
      const last = subscriptions.at(-1)
      if (!last) throw new Error('no subscription yet')
      return last
    },
    request: vi.fn(async (document, variables) => {
      const operation = operationName(document as never)
      requests.push({ operation, variables: variables as Record<string, unknown> })
      const handler = handlers[operation]
      if (!handler) throw new Error(`no handler for ${operation}`)
      return (await handler(variables as Record<string, unknown>)) as never
    }),
    subscribe: vi.fn((_document, variables, sink: StreamSink<never>) => {
      const subscription: FakeSubscription = {
        variables: variables as FakeSubscription['variables'],
        stopped: false,
        emit: (event) => !subscription.stopped && sink.next({ suggestions: event } as never),
        fail: (error) => {
          if (subscription.stopped) return
          subscription.stopped = true
          sink.error(error)
        },
        end: () => {
          if (subscription.stopped) return
          subscription.stopped = true
          sink.complete()
        },
      }
      subscriptions.push(subscription)
      return () => void (subscription.stopped = true)
    }),
    dispose: () => void (client.disposed = true),
  }
  return client
}

/** A promise with its resolve and reject exposed, to hold a mutation's answer. */
export function deferred<T>() {
  let resolve!: (value: T) => void
  let reject!: (reason: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}
