import { act, render, screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createFakeClient, type FakeClient } from '../test/fake-client.tsx'
import { batch, range } from '../test/fixtures.ts'
import { ApiError } from './api/errors.ts'
import { App, REFUSED_NOTICE, streamInputFromSearch } from './App.tsx'
import { SIGNED_OUT_KEY, TOKEN_KEY } from './auth/session.ts'

const me = { id: 'VXNlcjox', email: 'demo@example.com', name: 'Demo User', timezone: 'Europe/Berlin', groups: [{ id: 'R3JvdXA6MQ==', name: 'Climbing' }] }

function setup(config: { demoToken?: string } = {}, meAnswer: () => unknown = () => ({ me }), fetchConfig = vi.fn(async (): Promise<{ demoToken?: string }> => ({}))) {
  const clients: { token: string; client: FakeClient }[] = []
  const createClient = vi.fn((token: string) => {
    const client = createFakeClient({ Me: meAnswer })
    clients.push({ token, client })
    return client
  })
  const view = render(<App config={config} storage={localStorage} createClient={createClient} fetchConfig={fetchConfig} />)
  return { clients, latest: () => clients.at(-1)!, user: userEvent.setup(), fetchConfig, view }
}

beforeEach(() => {
  localStorage.clear()
  window.history.replaceState(null, '', '/')
})

describe('App: signing in', () => {
  it('opens signed in with the demo token in development, and streams suggestions', async () => {
    const { latest } = setup({ demoToken: 'demo-token' })
    await waitFor(() => expect(latest().client.subscriptions).toHaveLength(1))
    expect(latest().token).toBe('demo-token')
    act(() => latest().client.current.emit(batch(range(1, 1))))
    expect(screen.getByRole('link', { name: 'Person 1' })).toBeInTheDocument()
    expect(await screen.findByText('Demo User')).toBeInTheDocument()
  })

  it('without a token shows the sign-in screen; a token signed in with is kept in localStorage', async () => {
    const { latest, user } = setup()
    expect(screen.getByRole('heading', { name: 'Sign in' })).toBeInTheDocument()
    await user.type(screen.getByLabelText('API token'), 'my-token')
    await user.click(screen.getByRole('button', { name: 'Sign in' }))
    await waitFor(() => expect(latest().client.subscriptions).toHaveLength(1))
    expect(latest().token).toBe('my-token')
    expect(localStorage.getItem(TOKEN_KEY)).toBe('my-token')
    // The form that had focus is gone: the page that opens takes it.
    expect(screen.getByRole('heading', { level: 1, name: 'Reach out' })).toHaveFocus()
  })

  it('a stored token wins over the demo token', async () => {
    localStorage.setItem(TOKEN_KEY, 'stored')
    const { latest } = setup({ demoToken: 'demo-token' })
    await waitFor(() => expect(latest().token).toBe('stored'))
  })

  it('sign out forgets the token, disposes the client, and does not fall back to the demo token', async () => {
    localStorage.setItem(TOKEN_KEY, 'stored')
    const { latest, user } = setup({ demoToken: 'demo-token' })
    await waitFor(() => expect(latest().client.subscriptions).toHaveLength(1))
    await user.click(screen.getByRole('button', { name: 'Sign out' }))
    expect(screen.getByRole('heading', { name: 'Sign in' })).toBeInTheDocument()
    expect(screen.getByLabelText('API token')).toHaveFocus()
    expect(document.title).toBe('Sign in · Reach out')
    expect(localStorage.getItem(TOKEN_KEY)).toBeNull()
    expect(localStorage.getItem(SIGNED_OUT_KEY)).toBe('1')
    expect(latest().client.disposed).toBe(true)
    expect(latest().client.current.stopped).toBe(true)
  })

  it('in development the sign-in screen offers the demo user back after a sign-out', async () => {
    const { latest, user } = setup({ demoToken: 'demo-token' })
    await waitFor(() => expect(latest().client.subscriptions).toHaveLength(1))
    await user.click(screen.getByRole('button', { name: 'Sign out' }))
    expect(screen.getByText(/npm run -s token -- --user/)).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Sign in as the demo user' }))
    await waitFor(() => expect(latest().token).toBe('demo-token'))
    // Nothing stored: the page keeps following the server's demo token (a new one after a reset included).
    expect(localStorage.getItem(TOKEN_KEY)).toBeNull()
    expect(localStorage.getItem(SIGNED_OUT_KEY)).toBeNull()
  })

  it('outside development the sign-in screen has no demo user', () => {
    setup()
    expect(screen.queryByRole('button', { name: 'Sign in as the demo user' })).toBeNull()
  })
})

describe('App: a rejected token', () => {
  it('goes to the sign-in screen when the socket closes with 4403, saying why once', async () => {
    const { latest, fetchConfig, view } = setup({ demoToken: 'revoked' }, () => new Promise(() => {}))
    await waitFor(() => expect(latest().client.subscriptions).toHaveLength(1))
    act(() => latest().client.current.fail(new ApiError('The token was rejected.', 'FORBIDDEN_TOKEN')))
    expect(await screen.findByRole('heading', { name: 'Sign in' })).toBeInTheDocument()
    expect(screen.getByRole('alert')).toHaveTextContent(REFUSED_NOTICE)
    expect(latest().client.subscriptions).toHaveLength(1)
    // It asked the server for its current demo token, which was the refused one.
    expect(fetchConfig).toHaveBeenCalledTimes(1)
    // A refusal is not a sign-out: a reload with the server's (new) demo token opens signed in, without the notice.
    view.unmount()
    const again = setup({ demoToken: 'after-restart' })
    await waitFor(() => expect(again.latest().token).toBe('after-restart'))
    expect(screen.queryByRole('alert')).toBeNull()
  })

  it('in development, a refused demo token is replaced by the server\'s current one without a sign-in screen', async () => {
    const { clients, latest, fetchConfig } = setup({ demoToken: 'old-demo' }, () => new Promise(() => {}), vi.fn(async () => ({ demoToken: 'new-demo' })))
    await waitFor(() => expect(latest().client.subscriptions).toHaveLength(1))
    act(() => latest().client.current.fail(new ApiError('The token was rejected.', 'FORBIDDEN_TOKEN')))
    await waitFor(() => expect(latest().token).toBe('new-demo'))
    expect(clients[0]!.client.disposed).toBe(true)
    expect(fetchConfig).toHaveBeenCalledTimes(1)
    expect(screen.queryByRole('heading', { name: 'Sign in' })).toBeNull()
    await waitFor(() => expect(latest().client.subscriptions).toHaveLength(1))
  })

  it('a token the user signed in with, once refused, leads to sign-in (never to the demo user)', async () => {
    localStorage.setItem(TOKEN_KEY, 'mine')
    const { latest, fetchConfig } = setup({ demoToken: 'demo' }, () => new Promise(() => {}), vi.fn(async () => ({ demoToken: 'demo' })))
    await waitFor(() => expect(latest().client.subscriptions).toHaveLength(1))
    act(() => latest().client.current.fail(new ApiError('The token was rejected.', 'FORBIDDEN_TOKEN')))
    expect(await screen.findByRole('heading', { name: 'Sign in' })).toBeInTheDocument()
    expect(fetchConfig).not.toHaveBeenCalled()
    expect(localStorage.getItem(TOKEN_KEY)).toBeNull()
  })

  it('goes to the sign-in screen when a query answers UNAUTHENTICATED', async () => {
    window.history.replaceState(null, '', '/contacts')
    setup({ demoToken: 'revoked' }, () => Promise.reject(new ApiError('Sign in', 'UNAUTHENTICATED')))
    expect(await screen.findByRole('heading', { name: 'Sign in' })).toBeInTheDocument()
  })
})

describe('App: who the user is', () => {
  it('on the suggestions page, asks for me only once the stream has its first event, then shows slots in the user zone', async () => {
    const { latest } = setup({ demoToken: 'demo-token' })
    await waitFor(() => expect(latest().client.subscriptions).toHaveLength(1))
    expect(latest().client.requests).toEqual([])
    act(() => latest().client.current.emit(batch(range(1, 1))))
    // The slot in the user's zone waits for the zone; the contact's local time does not.
    expect(screen.getByTestId('suggestion')).toHaveTextContent('…')
    await waitFor(() => expect(latest().client.requests.map((r) => r.operation)).toEqual(['Me']))
    await waitFor(() => expect(screen.getByTestId('suggestion')).toHaveTextContent('Thu 26 Nov, 18:00–18:30'))
  })

  it('asks anyway after 1.5 s when the stream is slow', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true })
    try {
      const { latest } = setup({ demoToken: 'demo-token' })
      await waitFor(() => expect(latest().client.subscriptions).toHaveLength(1))
      expect(latest().client.requests).toEqual([])
      await act(async () => vi.advanceTimersByTime(1600))
      await waitFor(() => expect(latest().client.requests.map((r) => r.operation)).toEqual(['Me']))
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('App: pages', () => {
  it('navigates between suggestions and contacts with real links, without a reload', async () => {
    const { latest, user } = setup({ demoToken: 'demo-token' })
    await waitFor(() => expect(latest().client.subscriptions).toHaveLength(1))
    const client = latest().client
    await user.click(screen.getByRole('link', { name: 'Contacts' }))
    expect(window.location.pathname).toBe('/contacts')
    expect(screen.getByRole('heading', { name: 'Contacts' })).toBeInTheDocument()
    expect(client.current.stopped).toBe(true)
    expect(latest().client).toBe(client)
  })

  it('the Import & export link opens that page', async () => {
    const { latest, user } = setup({ demoToken: 'demo-token' })
    await waitFor(() => expect(latest().client.subscriptions).toHaveLength(1))
    await user.click(screen.getByRole('link', { name: 'Import & export' }))
    expect(window.location.pathname).toBe('/import')
    expect(screen.getByRole('heading', { level: 1, name: 'Import and export' })).toBeInTheDocument()
    expect(screen.getByRole('link', { name: 'Import & export' })).toHaveAttribute('aria-current', 'page')
    expect(screen.getByLabelText('Choose a file to import')).toBeInTheDocument()
  })

  it('a page change focuses the new page heading and retitles the document; the first page keeps focus where it was', async () => {
    const { latest, user } = setup({ demoToken: 'demo-token' })
    await waitFor(() => expect(latest().client.subscriptions).toHaveLength(1))
    expect(document.title).toBe('Suggestions · Reach out')
    expect(document.activeElement).toBe(document.body)
    await user.click(screen.getByRole('link', { name: 'Contacts' }))
    expect(screen.getByRole('heading', { level: 1, name: 'Contacts' })).toHaveFocus()
    expect(document.title).toBe('Contacts · Reach out')
  })

  it('an unknown address has a page of its own, with a heading and a way back', async () => {
    window.history.replaceState(null, '', '/nowhere')
    const { user } = setup({ demoToken: 'demo-token' })
    expect(await screen.findByRole('heading', { level: 1, name: 'Page not found' })).toBeInTheDocument()
    expect(document.title).toBe('Page not found · Reach out')
    await user.click(screen.getByRole('link', { name: 'Go to the suggestions' }))
    expect(window.location.pathname).toBe('/')
    expect(screen.getByRole('heading', { level: 1, name: 'Reach out' })).toHaveFocus()
  })

  it('reads ?max= and ?batch= for the stream', () => {
    expect(streamInputFromSearch('?max=500&batch=20')).toEqual({ maxSuggestions: 500, batchSize: 20 })
    expect(streamInputFromSearch('?max=0&batch=x')).toEqual({})
    expect(streamInputFromSearch('')).toEqual({})
  })
})
