/**
 * Focus after a row leaves a list: the row that took its place (a renamed row keyed by its name),
 * else the next row's first button, else the previous one's, else the heading.
 */
import { useCallback, useEffect, useRef, type RefObject } from 'react'

/**
 * `removed(key, index, replacedBy?)` after the row `key` at `index` was deleted (or renamed to
 * `replacedBy`); once `keys` no longer has it (the list answered again), focus moves to the first
 * button of the row `replacedBy` (rows carry `data-key`) if the list has it, else of the row now at
 * `index`, or the last row, or to `heading`.
 */
export function useFocusAfterRemoval(keys: readonly string[], list: RefObject<HTMLElement | null>, heading: RefObject<HTMLElement | null>) {
  const pending = useRef<{ key: string; index: number; replacedBy?: string } | null>(null)
  const current = useRef(keys)
  current.current = keys
  const focusAt = useCallback(
    (index: number, replacedBy?: string) => {
      pending.current = null
      const rows = list.current ? [...list.current.querySelectorAll<HTMLElement>(':scope > li')] : []
      const row = rows.find((candidate) => replacedBy !== undefined && candidate.dataset.key === replacedBy) ?? rows[Math.min(index, rows.length - 1)]
      const target = row?.querySelector<HTMLElement>('button') ?? heading.current
      target?.focus()
    },
    [list, heading],
  )
  useEffect(() => {
    const removal = pending.current
    if (removal && !keys.includes(removal.key)) focusAt(removal.index, removal.replacedBy)
  }, [keys, focusAt])
  return useCallback(
    (key: string, index: number, replacedBy?: string) => {
      pending.current = { key, index, replacedBy }
      // The list may have answered again already.
      if (!current.current.includes(key)) focusAt(index, replacedBy)
    },
    [focusAt],
  )
}
