/** Debian's Chromium driven by playwright-core (no browser downloads here). In CI it must exist. */
import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** True when Chromium is installed; in CI a missing Chromium is a failure, not a skip. */
export function chromiumAvailable(): boolean {
  const found = existsSync(CHROMIUM_PATH)
  if (!found && process.env.CI) throw new Error(`Chromium is missing at ${CHROMIUM_PATH} (apt-get install chromium); browser tests never skip in CI`)
  if (!found) process.stderr.write(`warning: ${CHROMIUM_PATH} is missing; the browser tests are skipped (outside CI only)\n`)
  return found
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    // Without the background-networking flags Chromium keeps dialling Google's hosts, which this network refuses.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
}
