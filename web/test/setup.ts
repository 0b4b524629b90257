import '@testing-library/jest-dom/vitest'
import { cleanup, configure } from '@testing-library/react'
import { afterEach } from 'vitest'

// findBy* / waitFor wait for an event, not for a time: give them room on a busy machine
// (CI shares 2 cores; rendering 100 rows in jsdom took over the default 1 s under load).
configure({ asyncUtilTimeout: 5_000 })

afterEach(() => cleanup())
