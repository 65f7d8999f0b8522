import { afterEach, describe, expect, jest, test } from '@jest/globals'
import { appendFile, rm } from 'node:fs/promises'
import { saveDockerImage, type CommandRunner } from '../../src/core/image/docker.js'
import type { Logger } from '../../src/core/logger.js'
import { Progress } from '../../src/core/progress.js'
import { makeTempDir } from '../helpers/images.js'

function recordingLogger (onLine: (line: string) => void = () => {}): Logger & { lines: string[] } {
  const lines: string[] = []
  return {
    lines,
    info: (line: string) => { lines.push(line); onLine(line) },
    warn: (line: string) => { lines.push(line) },
    group: async (_title: string, work: () => Promise<any>) => await work()
  } as unknown as Logger & { lines: string[] }
}

afterEach(() => { jest.useRealTimers() })

describe('progress lines', () => {
  test('a line at least every second while bytes flow (clock faked: no waiting)', () => {
    jest.useFakeTimers({ now: 0 })
    const logger = recordingLogger()
    const progress = new Progress(logger, 'imported', 10 * 1024 * 1024)
    for (let second = 1; second <= 5; second++) {
      jest.advanceTimersByTime(1000)
      progress.add(1024 * 1024)
    }
    expect(logger.lines).toHaveLength(5)
    expect(logger.lines[4]).toBe('imported: 5.0 MiB of 10.0 MiB (50%), 1.0 MB/s')
    // Not more often than that.
    progress.add(1)
    expect(logger.lines).toHaveLength(5)
  })

  test('docker save is shown with the size of the tar it writes, polled while it runs', async () => {
    const dir = await makeTempDir('ipcr-export-progress-')
    try {
      // Stands in for `docker save` (silent while it writes): writes the tar in three steps, each
      // once a progress line has shown the one before; without progress lines it never finishes.
      let waiting: { mib: number, resolve: () => void } | undefined
      const logger = recordingLogger((line) => {
        const mib = Number(/^exported: ([\d.]+) MiB/.exec(line)?.[1] ?? 0)
        if (waiting != null && mib >= waiting.mib) waiting.resolve()
      })
      const run: CommandRunner = async (_command, args) => {
        const output = args[args.indexOf('--output') + 1] as string
        for (let step = 1; step <= 3; step++) {
          const shown = new Promise<void>((resolve) => { waiting = { mib: step, resolve } })
          await appendFile(output, Buffer.alloc(1024 * 1024))
          await shown
        }
        return { exitCode: 0, stderr: '' }
      }
      const tar = await saveDockerImage('team/app:1', { run, tempDir: dir, input: 'image', logger, progressIntervalMs: 50 })
      expect(tar.startsWith(dir)).toBe(true)
      expect(logger.lines[logger.lines.length - 1]).toMatch(/^exported: 3\.0 MiB, /)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 30_000)
})
