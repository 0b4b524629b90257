import { act, render, screen } from '@testing-library/react'
import { useRef, useState } from 'react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { HEADING_WAIT_MS, pageTitle, usePageChange } from './page-change.ts'

/** A page whose heading is there at once, or comes later (`late`), under a container using the hook. */
function Harness({ initial, focusOnMount = false }: { initial: { key: string; title: string | null; late?: boolean }; focusOnMount?: boolean }) {
  const [page, setPage] = useState(initial)
  const [loaded, setLoaded] = useState(!initial.late)
  const main = useRef<HTMLElement>(null)
  usePageChange(main, { pageKey: page.key, title: page.title, focusOnMount })
  return (
    <>
      <button type="button" onClick={() => setPage({ key: 'b', title: 'Bee' })}>
        to b
      </button>
      <button
        type="button"
        onClick={() => {
          setLoaded(false)
          setPage({ key: 'c', title: null, late: true })
        }}
      >
        to c
      </button>
      <button type="button" onClick={() => setLoaded(true)}>
        load
      </button>
      <main ref={main}>{loaded ? <h1>{page.key === 'c' ? 'Carla' : page.title}</h1> : <p>Loading…</p>}</main>
    </>
  )
}

afterEach(() => vi.useRealTimers())

describe('pageTitle', () => {
  it('names the page, then the app', () => {
    expect(pageTitle('Contacts')).toBe('Contacts · Reach out')
    expect(pageTitle(null)).toBe('Reach out')
  })
})

describe('usePageChange', () => {
  it('sets the title on the first page without moving focus', () => {
    render(<Harness initial={{ key: 'a', title: 'Ay' }} />)
    expect(document.title).toBe('Ay · Reach out')
    expect(document.activeElement).toBe(document.body)
    expect(screen.getByRole('heading')).not.toHaveAttribute('tabindex')
  })

  it('focuses the first page heading when asked to (after signing in)', () => {
    render(<Harness initial={{ key: 'a', title: 'Ay' }} focusOnMount />)
    expect(screen.getByRole('heading', { name: 'Ay' })).toHaveFocus()
  })

  it('on a page change focuses the new heading (tabindex -1) and retitles', () => {
    render(<Harness initial={{ key: 'a', title: 'Ay' }} />)
    act(() => screen.getByRole('button', { name: 'to b' }).click())
    const heading = screen.getByRole('heading', { name: 'Bee' })
    expect(heading).toHaveFocus()
    expect(heading).toHaveAttribute('tabindex', '-1')
    expect(document.title).toBe('Bee · Reach out')
  })

  it('waits for a heading that comes with the data, and takes the title from it', async () => {
    render(<Harness initial={{ key: 'a', title: 'Ay' }} />)
    act(() => screen.getByRole('button', { name: 'to c' }).click())
    expect(screen.queryByRole('heading')).toBeNull()
    expect(document.title).toBe('Reach out')
    act(() => screen.getByRole('button', { name: 'load' }).click())
    await vi.waitFor(() => expect(screen.getByRole('heading', { name: 'Carla' })).toHaveFocus())
    expect(document.title).toBe('Carla · Reach out')
  })

  it('leaves focus where the user put it while the heading was coming, but still retitles', async () => {
    render(<Harness initial={{ key: 'a', title: 'Ay' }} />)
    act(() => screen.getByRole('button', { name: 'to c' }).click())
    const load = screen.getByRole('button', { name: 'load' })
    load.focus()
    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Tab' }))
    act(() => load.click())
    await vi.waitFor(() => expect(document.title).toBe('Carla · Reach out'))
    expect(load).toHaveFocus()
  })

  it('stops waiting after a while: a heading much later does not take focus', () => {
    vi.useFakeTimers()
    render(<Harness initial={{ key: 'a', title: 'Ay' }} />)
    act(() => screen.getByRole('button', { name: 'to c' }).click())
    act(() => vi.advanceTimersByTime(HEADING_WAIT_MS + 1))
    act(() => screen.getByRole('button', { name: 'load' }).click())
    expect(screen.getByRole('heading', { name: 'Carla' })).not.toHaveFocus()
  })
})
