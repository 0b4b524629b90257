/**
 * What a page change does for people who do not see the screen change: the document title
 * names the page, and focus moves to the new page's `<h1>` (WCAG 2.4.2, 2.4.3), so a screen
 * reader announces it and Tab starts from the top of the new content.
 */
import { useEffect, useRef, type RefObject } from 'react'

/** The app's name, last in every title. */
export const APP_NAME = 'Reach out'

/** "Contacts · Reach out"; the app's name alone without a page name. */
export function pageTitle(page: string | null | undefined): string {
  return page ? `${page} · ${APP_NAME}` : APP_NAME
}

/** How long a page whose heading comes with its data (a contact) may take before focus stops waiting for it. */
export const HEADING_WAIT_MS = 10_000

export interface PageChangeOptions {
  /** Changes when the page does (the path): each change is a page change. */
  pageKey: string
  /** The page's name for the title; null: the text of its `<h1>` once it is there. */
  title: string | null
  /** Move focus on the first render too (after signing in); the first load of the app leaves focus where the browser put it. */
  focusOnMount: boolean
}

/**
 * On each page change, sets the title and focuses the first `<h1>` inside `container` (made
 * focusable with tabindex=-1, without scrolling: going back keeps its scroll position). A heading
 * not there yet is waited for, up to {@link HEADING_WAIT_MS}; if the user clicks or types
 * meanwhile, focus stays where they put it (the title still takes the heading's text).
 */
export function usePageChange(container: RefObject<HTMLElement | null>, { pageKey, title, focusOnMount }: PageChangeOptions): void {
  // The page of the previous run: a run for the same page (StrictMode runs effects twice) is no change.
  const previous = useRef<string | null>(null)

  useEffect(() => {
    document.title = pageTitle(title)
  }, [pageKey, title])

  useEffect(() => {
    const root = container.current
    if (!root) return
    const changed = previous.current !== null && previous.current !== pageKey
    previous.current = pageKey
    let wantFocus = changed || focusOnMount
    const headingFound = () => {
      const heading = root.querySelector('h1')
      if (!heading) return false
      if (title === null && heading.textContent) document.title = pageTitle(heading.textContent)
      if (wantFocus) {
        if (!heading.hasAttribute('tabindex')) heading.setAttribute('tabindex', '-1')
        heading.focus({ preventScroll: true })
      }
      return true
    }
    if (headingFound()) return
    const userActed = () => {
      wantFocus = false
    }
    const observer = new MutationObserver(() => {
      if (headingFound()) stop()
    })
    const timer = setTimeout(() => stop(), HEADING_WAIT_MS)
    const stop = () => {
      observer.disconnect()
      clearTimeout(timer)
      document.removeEventListener('pointerdown', userActed, true)
      document.removeEventListener('keydown', userActed, true)
    }
    observer.observe(root, { childList: true, subtree: true, characterData: true })
    document.addEventListener('pointerdown', userActed, true)
    document.addEventListener('keydown', userActed, true)
    return stop
    // `title` and `focusOnMount` are read at the page change only.
  }, [container, pageKey])
}
