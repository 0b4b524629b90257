/** Keyboard conventions shared by every view: Escape closes what opened in place. */
import { useEffect } from 'react'

/**
 * Calls `onEscape` when Escape is pressed while `active` (a form or panel that opened in place),
 * from anywhere in the document, so it works whether or not focus is inside it.
 */
export function useEscapeKey(active: boolean, onEscape: () => void): void {
  useEffect(() => {
    if (!active) return
    const listener = (event: KeyboardEvent) => {
      if (event.key === 'Escape' && !event.defaultPrevented) {
        event.preventDefault()
        onEscape()
      }
    }
    document.addEventListener('keydown', listener)
    return () => document.removeEventListener('keydown', listener)
  }, [active, onEscape])
}
