import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { readAppConfig } from './app-config.ts'

function App() {
  const config = readAppConfig()
  return <main>{config.demoToken ? 'Signed in as the demo user' : 'Sign in'}</main>
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
)
