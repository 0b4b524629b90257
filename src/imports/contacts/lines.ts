/**
 * Physical lines of a byte stream, LF or CRLF, each at most `maxLineBytes`: a longer line is cut (its
 * first `maxLineBytes` kept, the rest counted and dropped as it streams), so a 10 MB line without a
 * break never sits in memory. Lines are bytes: the caller decodes them (a vCard line names its charset).
 */

/** One line of the stream, without its line break. */
export interface PhysicalLine {
  /** The line's bytes (at most `maxLineBytes`). */
  bytes: Uint8Array
  /** The line's full length in bytes, cut part included. */
  length: number
  /** True when the line was longer than `maxLineBytes`. */
  cut: boolean
  /** 1-based line number. */
  number: number
  /** Bytes of the stream before this line. */
  offset: number
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0]!
  const out = new Uint8Array(size)
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

/** The lines of `chunks`; a last line without a break is a line too. Memory: one line (capped) at a time. */
export async function* physicalLines(chunks: AsyncIterable<Uint8Array>, maxLineBytes: number): AsyncGenerator<PhysicalLine> {
  let parts: Uint8Array[] = []
  let kept = 0
  let length = 0
  let number = 0
  let offset = 0
  const take = (piece: Uint8Array) => {
    length += piece.length
    const room = maxLineBytes - kept
    if (room <= 0) return
    const part = piece.length > room ? piece.subarray(0, room) : piece
    parts.push(part)
    kept += part.length
  }
  const finish = (): PhysicalLine => {
    let bytes = concat(parts, kept)
    let full = length
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d && full === bytes.length) {
      bytes = bytes.subarray(0, bytes.length - 1)
      full -= 1
    }
    const line = { bytes, length: full, cut: length > maxLineBytes, number: ++number, offset }
    offset += length + 1
    parts = []
    kept = 0
    length = 0
    return line
  }
  for await (const chunk of chunks) {
    let start = 0
    while (start < chunk.length) {
      const end = chunk.indexOf(0x0a, start)
      if (end === -1) {
        take(chunk.subarray(start))
        break
      }
      take(chunk.subarray(start, end))
      yield finish()
      start = end + 1
    }
  }
  if (length > 0) yield finish()
}
