/**
 * What the server hands the page: in development, the demo token (the way it fills
 * GraphiQL's headers), as `<script id="app-config" type="application/json">` in index.html.
 */
export interface AppConfig {
  demoToken?: string
}

export function readAppConfig(doc: Document = document): AppConfig {
  const text = doc.getElementById('app-config')?.textContent
  if (!text) return {}
  try {
    const parsed = JSON.parse(text) as unknown
    return typeof parsed === 'object' && parsed !== null ? (parsed as AppConfig) : {}
  } catch {
    return {}
  }
}

/**
 * The config the server puts in the page now (GET `/` as a browser would): in development, a tab whose
 * demo token was refused takes the server's current one from here (issue 13: a restart or a new data
 * directory must not leave open tabs signed out). `{}` when the page cannot be read.
 */
export async function fetchAppConfig(fetchImpl: typeof fetch = fetch): Promise<AppConfig> {
  try {
    const response = await fetchImpl('/', { headers: { accept: 'text/html' }, cache: 'no-store' })
    if (!response.ok) return {}
    return readAppConfig(new DOMParser().parseFromString(await response.text(), 'text/html'))
  } catch {
    return {}
  }
}
