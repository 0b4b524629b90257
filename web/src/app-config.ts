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
