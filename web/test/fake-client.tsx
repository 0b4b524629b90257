/**
 * A mocked ApiClient: queries and mutations go through the app's real urql client
 * (document cache, fetch exchange) to a `fetch` that answers per operation name;
 * subscriptions are driven by the test.
 */
import { render, type RenderOptions } from '@testing-library/react'
import type { ReactElement, ReactNode } from 'react'
import { vi } from 'vitest'
import { Kind, type DocumentNode } from 'graphql'
import { authorizedFetch, createQueryClient, type ApiClient, type StreamSink } from '../src/api/client.ts'
import { ApiError } from '../src/api/errors.ts'
import { ApiProvider } from '../src/api/provider.tsx'
import type { SuggestionEvent } from '../src/suggestions/reducer.ts'

/** The operation's `data`; throwing (or rejecting with) an {@link ApiError} answers with that GraphQL error. */
type Handler = (variables: Record<string, unknown>) => unknown

export interface FakeSubscription {
  /** The subscription's operation name (`Suggestions`, `ImportProgress`). */
  operation: string
  variables: { input: Record<string, unknown> } & Record<string, unknown>
  stopped: boolean
  /** The socket opened (graphql-ws `connected`). */
  open(): void
  /** A `Suggestions` event. */
  emit(event: SuggestionEvent): void
  /** Any subscription's `data`, as the server sends it. */
  send(data: unknown): void
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

export interface FakeClientOptions {
  /** What {@link ApiClient.http} calls (bearer header added); default: the global `fetch` when called, so `vi.stubGlobal('fetch')` works. */
  fetch?: typeof fetch
}

const operationName = (document: DocumentNode) =>
  document.definitions.flatMap((definition) => (definition.kind === Kind.OPERATION_DEFINITION && definition.name ? [definition.name.value] : []))[0] ?? ''

const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/graphql-response+json' } })

/** A `fetch` that answers GraphQL POSTs with the handler of their operation (an error without one). */
function fakeFetch(handlers: Record<string, Handler>, requests: FakeClient['requests']): typeof fetch {
  return vi.fn(async (_url: unknown, init?: RequestInit) => {
    const { operationName: operation, variables = {} } = JSON.parse(String(init?.body)) as { operationName: string; variables?: Record<string, unknown> }
    requests.push({ operation, variables })
    try {
      const handler = handlers[operation]
      if (!handler) throw new Error(`no handler for ${operation}`)
      return json({ data: await handler(variables) })
    } catch (error) {
      if (!(error instanceof ApiError)) return json({ errors: [{ message: error instanceof Error ? error.message : String(error) }] })
      const retry = error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }
      // A BAD_USER_INPUT names its field as the server does: `Object.assign(new ApiError(…), { field: 'input.birthday' })`.
      const field = (error as ApiError & { field?: unknown }).field
      return json({ errors: [{ message: error.message, extensions: { code: error.code, ...retry, ...(typeof field === 'string' ? { field } : {}) } }] })
    }
  })
}

export function createFakeClient(handlers: Record<string, Handler> = {}, options: FakeClientOptions = {}): FakeClient {
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
    urql: createQueryClient({ token: 'fake-token', httpUrl: 'http://app.test/graphql', fetch: fakeFetch(handlers, requests) }),
    streamScope: 'fake-scope',
    subscribe: vi.fn((document: DocumentNode, variables, sink: StreamSink<never>) => {
      const subscription: FakeSubscription = {
        operation: operationName(document),
        variables: variables as FakeSubscription['variables'],
        stopped: false,
        open: () => !subscription.stopped && sink.open?.(),
        emit: (event) => !subscription.stopped && sink.next({ suggestions: event } as never),
        send: (data) => !subscription.stopped && sink.next(data as never),
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
    http: authorizedFetch('fake-token', 'http://app.test/graphql', options.fetch),
    dispose: () => void (client.disposed = true),
  }
  return client
}

/** `render` under an `ApiProvider` of `client`, as the app renders its pages. */
export function renderWithClient(client: ApiClient, ui: ReactElement, options: Omit<RenderOptions, 'wrapper'> = {}) {
  return render(ui, { ...options, wrapper: ({ children }: { children: ReactNode }) => <ApiProvider client={client}>{children}</ApiProvider> })
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
