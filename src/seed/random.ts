/**
 * The seed generator's random numbers: a seeded PRNG with 128 bits of state,
 * one instance per named stream, so every attribute of every block can be
 * drawn without drawing the ones before it. Pure: no `Math.random`.
 */

/**
 * cyrb128: hashes a string to four 32-bit words, the seed state of {@link Random}.
 * 128 bits of state keep the streams of different users and labels apart (a
 * 32-bit generator such as mulberry32 has one 2^32 cycle: two users' streams
 * of a million contacts each could overlap, and so could their UUIDs).
 */
function cyrb128(text: string): [number, number, number, number] {
  let h1 = 1779033703
  let h2 = 3144134277
  let h3 = 1013904242
  let h4 = 2773480762
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i)
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067)
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233)
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213)
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179)
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067)
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233)
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213)
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179)
  h1 ^= h2 ^ h3 ^ h4
  h2 ^= h1
  h3 ^= h1
  h4 ^= h1
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0]
}

/** Values with weights, prepared for {@link Random.weighted}. */
export interface WeightedTable<T> {
  values: readonly T[]
  cumulative: readonly number[]
  total: number
}

/** `[[value, weight], ...]` as a {@link WeightedTable}. */
export function weightedTable<T>(choices: readonly (readonly [T, number])[]): WeightedTable<T> {
  let total = 0
  const cumulative = choices.map(([, weight]) => (total += weight))
  return { values: choices.map(([value]) => value), cumulative, total }
}

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'))

/** A seeded PRNG (sfc32, period about 2^128). One instance per stream: `new Random(seed, 'contact-ids')`. */
export class Random {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: number, label: string) {
    ;[this.a, this.b, this.c, this.d] = cyrb128(`${seed}:${label}`)
    for (let i = 0; i < 12; i++) this.uint32() // mix the initial state
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  /** A uniform integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1)
  }

  chance(probability: number): boolean {
    return this.next() < probability
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T
  }

  /** Picks from a {@link WeightedTable}. */
  weighted<T>(table: WeightedTable<T>): T {
    const roll = this.next() * table.total
    const { cumulative, values } = table
    let low = 0
    let high = cumulative.length - 1
    while (low < high) {
      const middle = (low + high) >>> 1
      if (roll < (cumulative[middle] as number)) high = middle
      else low = middle + 1
    }
    return values[low] as T
  }

  /** 16 random bytes formatted as a UUID version 4 string. */
  uuid(): string {
    return this.uuidAfter(this.uint32(), this.uint32() >>> 16)
  }

  /**
   * A UUID version 4 string whose first six bytes are given (`high32`, then
   * the 16 bits `next16`) and whose other bytes are random: ids that ascend in
   * the order they are made, as the `uuid(7)` ids Prisma creates do.
   */
  uuidAfter(high32: number, next16: number): string {
    const w0 = high32 >>> 0
    const w1 = (((next16 & 0xffff) << 16) | (this.uint32() & 0x0fff) | 0x4000) >>> 0 // version 4 in byte 6
    const w2 = ((this.uint32() & 0x3fffffff) | 0x80000000) >>> 0 // RFC 4122 variant in byte 8
    const w3 = this.uint32()
    return (
      HEX[w0 >>> 24]! + HEX[(w0 >>> 16) & 255]! + HEX[(w0 >>> 8) & 255]! + HEX[w0 & 255]! + '-' +
      HEX[w1 >>> 24]! + HEX[(w1 >>> 16) & 255]! + '-' + HEX[(w1 >>> 8) & 255]! + HEX[w1 & 255]! + '-' +
      HEX[w2 >>> 24]! + HEX[(w2 >>> 16) & 255]! + '-' + HEX[(w2 >>> 8) & 255]! + HEX[w2 & 255]! +
      HEX[w3 >>> 24]! + HEX[(w3 >>> 16) & 255]! + HEX[(w3 >>> 8) & 255]! + HEX[w3 & 255]!
    )
  }
}
