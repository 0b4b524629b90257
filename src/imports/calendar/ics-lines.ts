/**
 * iCalendar content lines from a byte stream, in bounded memory: physical lines end at LF (a CR
 * before it is dropped), a line starting with a space or a tab continues the previous one
 * (RFC 5545 folding, undone on bytes so a fold inside a multi-byte character is joined right), and
 * each unfolded line is decoded as strict UTF-8. A line longer than `maxLineBytes` is cut: its
 * first bytes are kept and it is marked `truncated`; the rest is counted, never buffered.
 */

/** One unfolded content line. */
export interface ContentLine {
  /** The decoded line (when not valid UTF-8: decoded with U+FFFD for the bad bytes, and `valid` false). */
  text: string
  /** False when the line's bytes are not valid UTF-8. */
  valid: boolean
  /** True when the line was longer than `maxLineBytes` (then `text` is its beginning, or null). */
  truncated: boolean
  /** 1-based number of the physical line it starts on. */
  lineNumber: number
}

/** The default cap on one unfolded line: 1 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024

const LF = 0x0a
const CR = 0x0d
const SPACE = 0x20
const TAB = 0x09

/**
 * Splits and unfolds `chunks` into content lines (see the module comment). Empty lines are skipped.
 * Memory: at most `maxLineBytes` plus one chunk.
 */
export async function* readContentLines(
  chunks: AsyncIterable<Uint8Array>,
  maxLineBytes = DEFAULT_MAX_LINE_BYTES,
): AsyncGenerator<ContentLine, void, undefined> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })
  const lossy = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false })
  // The logical line being built: kept parts (at most maxLineBytes in all) and whether bytes were dropped.
  let parts: Uint8Array[] = []
  let kept = 0
  let truncated = false
  let started = false
  let startLine = 0
  // The physical line being read.
  let physical = 0
  let atLineStart = true

  const append = (bytes: Uint8Array) => {
    if (bytes.length === 0) return
    const room = maxLineBytes - kept
    if (room <= 0) {
      truncated = true
      return
    }
    const piece = bytes.length > room ? bytes.subarray(0, room) : bytes
    if (bytes.length > room) truncated = true
    // Copy: the chunk may be reused by its producer.
    parts.push(piece.slice())
    kept += piece.length
  }

  const finish = (): ContentLine | undefined => {
    if (!started) return undefined
    let bytes = parts.length === 1 ? parts[0]! : concat(parts, kept)
    // A CR ending the line (CRLF) is not part of it.
    if (bytes.length > 0 && bytes[bytes.length - 1] === CR && !truncated) bytes = bytes.subarray(0, bytes.length - 1)
    parts = []
    kept = 0
    const strict = decode(decoder, bytes)
    const line: ContentLine = { text: strict ?? lossy.decode(bytes), valid: strict !== null, truncated, lineNumber: startLine }
    truncated = false
    started = false
    return line.text.trim() === '' && !line.truncated ? undefined : line
  }

  for await (const chunk of chunks) {
    let offset = 0
    while (offset < chunk.length) {
      if (atLineStart) {
        physical++
        atLineStart = false
        const first = chunk[offset]!
        if ((first === SPACE || first === TAB) && started) {
          // Folding: drop the CR that ended the previous physical line, then the space.
          dropTrailingCr()
          offset++
          continue
        }
        const done = finish()
        if (done) yield done
        started = true
        startLine = physical
      }
      const lf = chunk.indexOf(LF, offset)
      const end = lf === -1 ? chunk.length : lf
      append(chunk.subarray(offset, end))
      if (lf === -1) break
      offset = lf + 1
      atLineStart = true
    }
  }
  const last = finish()
  if (last) yield last

  function dropTrailingCr() {
    const tail = parts[parts.length - 1]
    if (tail && tail.length > 0 && tail[tail.length - 1] === CR) {
      parts[parts.length - 1] = tail.subarray(0, tail.length - 1)
      kept--
    }
  }
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length)
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

/** Strict UTF-8 (a leading BOM dropped); null when the bytes are not UTF-8. */
function decode(decoder: TextDecoder, bytes: Uint8Array): string | null {
  try {
    return decoder.decode(bytes)
  } catch {
    return null
  }
}
