import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App.tsx'
import { readAppConfig } from './app-config.ts'
import './styles.css'

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App config={readAppConfig()} storage={window.localStorage} />
  </StrictMode>,
)
