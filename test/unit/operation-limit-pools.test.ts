/**
 * MAX_OPERATIONS_PER_USER counts the user's own session and their partner credentials in separate
 * pools (auth/user-pools.ts): a partner holding every place never refuses the session's operations,
 * and the partners together are still refused past the cap.
 */
import type { ExecutionResult } from 'graphql'
import { describe, expect, it } from 'vitest'
import { perUserPoolKey } from '../../src/auth/user-pools.ts'
import { useOperationLimit } from '../../src/graphql/limits/operation-limit.ts'

type Hook = (payload: { args: { contextValue: unknown }; setResultAndStopExecution: (result: ExecutionResult) => void }) => { onExecuteDone?: () => void } | void

/** Runs the plugin's onExecute for `kind`: the refusal, or the end of the operation. */
function execute(onExecute: Hook, kind: 'session' | 'apiKey' | 'oauth') {
  let refused: ExecutionResult | undefined
  const hooks = onExecute({ args: { contextValue: { userId: 'u1', credential: { kind }, request: {} } }, setResultAndStopExecution: (result) => (refused = result) })
  return { refused, done: () => hooks?.onExecuteDone?.() }
}

describe('operations at once per user, by pool', () => {
  it('keys sessions by the user id, API keys and OAuth apps together, feeds apart', () => {
    expect(perUserPoolKey('u1', 'session')).toBe('u1')
    expect(perUserPoolKey('u1', undefined)).toBe('u1')
    expect(perUserPoolKey('u1', 'apiKey')).toBe('u1:partner')
    expect(perUserPoolKey('u1', 'oauth')).toBe('u1:partner')
    expect(perUserPoolKey('u1', 'feed')).toBe('u1:feed')
  })

  it('lets the session run its 10 while partners hold theirs, and refuses the 11th of either pool', () => {
    const running = new Map<string, number>()
    const onExecute = useOperationLimit(10, running).onExecute as unknown as Hook
    const partners = Array.from({ length: 10 }, (_, i) => execute(onExecute, i % 2 ? 'apiKey' : 'oauth'))
    expect(partners.every((operation) => operation.refused === undefined)).toBe(true)
    const partnerOver = execute(onExecute, 'apiKey')
    expect(partnerOver.refused?.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 1 })
    expect(partnerOver.refused?.errors?.[0]?.message).toContain('partner credentials together')

    const sessions = Array.from({ length: 10 }, () => execute(onExecute, 'session'))
    expect(sessions.every((operation) => operation.refused === undefined)).toBe(true)
    expect(execute(onExecute, 'session').refused?.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' })
    expect(running).toEqual(new Map([['u1:partner', 10], ['u1', 10]]))

    for (const operation of [...partners, ...sessions]) operation.done()
    expect(running.size).toBe(0)
    expect(execute(onExecute, 'apiKey').refused).toBeUndefined()
  })
})
