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

/**
 * Cuts chunks into lines as they come: `push` each chunk (its complete lines come out), then `end`
 * (the last line, when the stream does not end with a break). Synchronous, so a reader pays no
 * promise per line. Memory: one line (capped) at a time.
 */
export class LineSplitter {
  private parts: Uint8Array[] = []
  private kept = 0
  private length = 0
  private number = 0
  private offset = 0
  constructor(private readonly maxLineBytes: number) {}

  /** The lines that `chunk` completes. */
  *push(chunk: Uint8Array): Generator<PhysicalLine> {
    let start = 0
    while (start < chunk.length) {
      const end = chunk.indexOf(0x0a, start)
      if (end === -1) {
        this.take(chunk.subarray(start))
        return
      }
      this.take(chunk.subarray(start, end))
      yield this.finish()
      start = end + 1
    }
  }

  /** The last line, if the stream did not end with a line break. */
  *end(): Generator<PhysicalLine> {
    if (this.length > 0) yield this.finish()
  }

  private take(piece: Uint8Array): void {
    this.length += piece.length
    const room = this.maxLineBytes - this.kept
    if (room <= 0) return
    const part = piece.length > room ? piece.subarray(0, room) : piece
    this.parts.push(part)
    this.kept += part.length
  }

  private finish(): PhysicalLine {
    let bytes = concat(this.parts, this.kept)
    let full = this.length
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d && full === bytes.length) {
      bytes = bytes.subarray(0, bytes.length - 1)
      full -= 1
    }
    const line = { bytes, length: full, cut: this.length > this.maxLineBytes, number: ++this.number, offset: this.offset }
    this.offset += this.length + 1
    this.parts = []
    this.kept = 0
    this.length = 0
    return line
  }
}
