import { expect, it } from 'vitest'
import { createMetrics, METRIC_NAMES } from '../../src/metrics/metrics.ts'

it('exposes every metric once, with Prometheus names, and records generations', async () => {
  const metrics = createMetrics(() => ({ heapUsed: 50, heapLimit: 200 }))
  metrics.recordGeneration({ durationMs: 120, peakHeapUsedBytes: 40 * 1024 * 1024, contactsProcessed: 700 })
  metrics.recordGeneration({ durationMs: 30, peakHeapUsedBytes: 20 * 1024 * 1024, contactsProcessed: 5 })
  const text = await metrics.registry.metrics()
  for (const name of Object.values(METRIC_NAMES)) {
    expect(name).not.toContain('.')
    expect(text.match(new RegExp(`^# TYPE ${name} `, 'gm'))).toHaveLength(1)
  }
  expect(text).toMatch(/^nodejs_heap_used_bytes 50$/m)
  expect(text).toMatch(/^nodejs_heap_percent 25$/m)
  expect(text).toMatch(/^suggestion_generation_contacts_processed_total 705$/m)
  expect(text).toMatch(/^suggestion_generation_duration_seconds_count 2$/m)
  expect(text).toMatch(/^suggestion_generation_duration_seconds_bucket\{le="0.05"\} 1$/m)
  expect(text).toMatch(/^suggestion_generation_memory_peak_bytes_count 2$/m)
  expect(createMetrics().registry).not.toBe(metrics.registry)
})
