import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true },
  // `npm run dev -w web` serves the page with hot reload; the API stays on the server.
  server: { proxy: { '/graphql': { target: 'http://localhost:4000', ws: true } } },
})
