import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true },
  // `npm run dev -w web` serves the page with hot reload; the API stays on the server.
  // The dev server (:5173) forwards what the API serves: GraphQL (and graphql-ws), uploads, downloads, the feed.
  server: {
    proxy: {
      '/graphql': { target: 'http://localhost:4000', ws: true },
      '/import': 'http://localhost:4000',
      '/export': 'http://localhost:4000',
      '/feeds': 'http://localhost:4000',
    },
  },
})
