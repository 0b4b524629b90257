import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { createFakeClient, renderWithClient, type FakeClient } from '../../test/fake-client.tsx'
import { SCOPES } from '../../../src/auth/scopes.ts'
import { ApiError } from '../api/errors.ts'
import { matchRoute } from '../router.tsx'
import { ApiKeysPage } from './ApiKeysPage.tsx'
import { keyState, SCOPE_CHOICES } from './scopes.ts'

const NOW = Date.parse('2026-12-01T12:00:00Z')
const SECRET = 'prm_key_AbCd0123456789012345678901234567xyzXYZ'

interface Key {
  __typename: 'ApiKey'
  id: string
  name: string
  displayPrefix: string
  scopes: string[]
  createdAt: string
  expiresAt: string
  lastUsedAt: string | null
  revokedAt: string | null
}

function apiKey(overrides: Partial<Key> = {}): Key {
  return {
    __typename: 'ApiKey',
    id: 'QXBpS2V5OjE=',
    name: 'Backup',
    displayPrefix: 'prm_key_AbCd',
    scopes: ['contacts:read', 'suggestions:subscribe'],
    createdAt: '2026-11-01T10:00:00Z',
    expiresAt: '2027-01-30T10:00:00Z',
    lastUsedAt: null,
    revokedAt: null,
    ...overrides,
  }
}

/** A BAD_USER_INPUT as the server sends it: the message prefixed with the field, which `extensions.field` names. */
const badInput = (field: string, message: string) => Object.assign(new ApiError(`${field}: ${message}`, 'BAD_USER_INPUT'), { field })

function setup(handlers: Record<string, (variables: Record<string, unknown>) => unknown>) {
  const onUnauthorized = vi.fn()
  const client = createFakeClient(handlers)
  const user = userEvent.setup()
  renderWithClient(client, <ApiKeysPage onUnauthorized={onUnauthorized} userZone="Europe/Berlin" now={() => NOW} />)
  return { client, user, onUnauthorized }
}

const requestsOf = (client: FakeClient, operation: string) => client.requests.filter((request) => request.operation === operation)

describe('the API keys page', () => {
  it('is at /api-keys, and offers exactly the server scopes', () => {
    expect(matchRoute('/api-keys')).toEqual({ page: 'apiKeys' })
    expect(SCOPE_CHOICES.map((choice) => choice.scope)).toEqual([...SCOPES])
  })

  it('tells active, expired and revoked keys apart', () => {
    expect(keyState(apiKey(), NOW)).toBe('active')
    expect(keyState(apiKey({ expiresAt: '2026-12-01T12:00:00Z' }), NOW)).toBe('expired')
    expect(keyState(apiKey({ revokedAt: '2026-11-02T00:00:00Z' }), NOW)).toBe('revoked')
  })

  it('makes a key with the ticked scopes in the list order, shows it once with Copy, and forgets it on Done', async () => {
    let keys: Key[] = []
    const create = vi.fn((variables: Record<string, unknown>) => {
      const made = apiKey({ name: 'Backup', scopes: (variables.input as { scopes: string[] }).scopes })
      keys = [made]
      return { createApiKey: { __typename: 'CreatedApiKey', key: SECRET, apiKey: made } }
    })
    const { client, user } = setup({ ApiKeys: () => ({ apiKeys: keys }), CreateApiKey: create })
    expect(await screen.findByText('No keys yet: make one below.')).toBeInTheDocument()
    await user.type(screen.getByLabelText('Name'), '  Backup ')
    await user.click(screen.getByRole('checkbox', { name: /Stream suggestions/ }))
    await user.click(screen.getByRole('checkbox', { name: /Read contacts/ }))
    await user.clear(screen.getByLabelText('Expires after (days)'))
    await user.type(screen.getByLabelText('Expires after (days)'), '30')
    await user.click(screen.getByRole('button', { name: 'Make key' }))

    const field = await screen.findByLabelText(/Key Backup/)
    expect(field).toHaveValue(SECRET)
    await waitFor(() => expect(field).toHaveFocus())
    expect(screen.getByText(/shown only once/)).toBeInTheDocument()
    expect(requestsOf(client, 'CreateApiKey').map((request) => request.variables)).toEqual([
      { input: { name: 'Backup', scopes: ['contacts:read', 'suggestions:subscribe'], expiresInDays: 30 } },
    ])
    await user.click(screen.getByRole('button', { name: 'Copy' }))
    expect(await screen.findByText('Key copied.')).toBeInTheDocument()
    expect(await navigator.clipboard.readText()).toBe(SECRET)
    // The list shows the new key by its first characters, never the key.
    const row = await screen.findByTestId('api-key')
    expect(row).toHaveTextContent('prm_key_AbCd…')
    expect(row).not.toHaveTextContent(SECRET)
    expect(row).toHaveTextContent('Read contacts · Stream suggestions')
    // The form is empty again.
    expect(screen.getByLabelText('Name')).toHaveValue('')
    await user.click(screen.getByRole('button', { name: 'Done' }))
    expect(screen.queryByLabelText(/Key Backup/)).toBeNull()
    expect(document.body).not.toHaveTextContent(SECRET)
  })

  it('checks the form before sending, and puts a server refusal under its field', async () => {
    const create = vi.fn((): unknown => {
      throw badInput('input.scopes', 'unknown scope "contacts:eat"')
    })
    const { client, user } = setup({ ApiKeys: () => ({ apiKeys: [] }), CreateApiKey: create })
    await user.click(await screen.findByRole('button', { name: 'Make key' }))
    expect(screen.getByLabelText('Name')).toHaveAccessibleDescription('Name the key: what is it for?')
    expect(screen.getByLabelText('Name')).toHaveFocus()
    expect(requestsOf(client, 'CreateApiKey')).toHaveLength(0)

    await user.type(screen.getByLabelText('Name'), 'CI')
    await user.click(screen.getByRole('checkbox', { name: /Import files/ }))
    await user.clear(screen.getByLabelText('Expires after (days)'))
    await user.type(screen.getByLabelText('Expires after (days)'), '400')
    await user.click(screen.getByRole('button', { name: 'Make key' }))
    expect(screen.getByLabelText('Expires after (days)')).toHaveAccessibleDescription('Between 1 and 365 days.')
    expect(requestsOf(client, 'CreateApiKey')).toHaveLength(0)

    await user.clear(screen.getByLabelText('Expires after (days)'))
    await user.type(screen.getByLabelText('Expires after (days)'), '90')
    await user.click(screen.getByRole('button', { name: 'Make key' }))
    await waitFor(() => expect(screen.getByRole('group', { name: 'What it may do' })).toHaveAttribute('aria-invalid', 'true'))
    expect(screen.getByText('unknown scope "contacts:eat"')).toBeInTheDocument()
  })

  it('revokes a key after a confirmation in its row; Escape keeps it', async () => {
    let keys = [apiKey(), apiKey({ id: 'QXBpS2V5OjI=', name: 'Old', revokedAt: '2026-11-20T00:00:00Z' })]
    const revoke = vi.fn((variables: Record<string, unknown>) => {
      keys = keys.map((key) => (key.id === variables.id ? { ...key, revokedAt: '2026-12-01T12:00:00Z' } : key))
      return { revokeApiKey: keys.find((key) => key.id === variables.id) }
    })
    const { client, user } = setup({ ApiKeys: () => ({ apiKeys: keys }), RevokeApiKey: revoke })
    const rows = await screen.findAllByTestId('api-key')
    expect(within(rows[1]!).getByText('Revoked')).toBeInTheDocument()
    expect(within(rows[1]!).queryByRole('button', { name: /Revoke/ })).toBeNull()

    await user.click(within(rows[0]!).getByRole('button', { name: 'Revoke Backup' }))
    await waitFor(() => expect(within(rows[0]!).getByRole('button', { name: 'Revoke' })).toHaveFocus())
    await user.keyboard('{Escape}')
    await waitFor(() => expect(within(rows[0]!).getByRole('button', { name: 'Revoke Backup' })).toHaveFocus())
    expect(requestsOf(client, 'RevokeApiKey')).toHaveLength(0)

    await user.click(within(rows[0]!).getByRole('button', { name: 'Revoke Backup' }))
    await user.click(within(rows[0]!).getByRole('button', { name: 'Revoke' }))
    expect(await screen.findByTestId('api-keys-announcement')).toHaveTextContent('Revoked Backup.')
    await waitFor(() => expect(within(screen.getAllByTestId('api-key')[0]!).getByText('Revoked')).toBeInTheDocument())
    expect(requestsOf(client, 'RevokeApiKey').map((request) => request.variables)).toEqual([{ id: 'QXBpS2V5OjE=' }])
  })

  it('a rejected token signs out', async () => {
    const { onUnauthorized } = setup({
      ApiKeys: () => {
        throw new ApiError('Sign in.', 'UNAUTHENTICATED')
      },
    })
    await waitFor(() => expect(onUnauthorized).toHaveBeenCalled())
  })
})
