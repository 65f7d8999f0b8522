import * as core from '@actions/core'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { sourceDateEpoch, closeSources, createProviders, logLine, openSources, redact, resolvePreviousRoot, runPipeline, StoreFailedError, type CommandRunner, type Logger } from '../core/index.js'
import { spawnCommandRunner } from '../core/image/docker.js'
import { registerTemporary, releaseTemporary, removeTemporary } from '../core/interrupt.js'
import { actionName } from '../options/definitions.js'
import { describeError } from '../options/rules.js'
import { republish } from '../core/ipns/republish.js'
import { getInputs, type ActionInputs } from './inputs.js'
import { setOutputs, setRepublishOutputs, writeRepublishSummary, writeStoreFailure, writeSummary } from './outputs.js'

/** Messages carry text from images and remote services: each becomes one line that runs no workflow command and holds no secret. */
const logger: Logger = {
  debug: (m) => core.debug(logLine(redact(m))),
  info: (m) => core.info(logLine(redact(m))),
  warn: (m) => core.warning(logLine(redact(m))),
  group: async (name, fn) => await core.group(logLine(redact(name)), fn)
}

/** Shows commands as @actions/exec does (a [command] line, then what they print, through the logger, line by line); killed when the run is cancelled. */
const runCommand: CommandRunner = async (command, args, options) => {
  let pending = ''
  const run = spawnCommandRunner({
    onStart: (name, list) => { logger.info(`[command]${name} ${list.join(' ')}`) },
    onStderr: (text) => {
      const lines = (pending + text).split(/\r?\n/)
      pending = lines.pop() ?? ''
      for (const line of lines) if (line !== '') logger.info(line)
    }
  })
  try {
    return await run(command, args, options)
  } finally {
    if (pending !== '') logger.info(pending)
  }
}

/** `mode: republish`: no image, no content; the name's record is put again (re-signed when it ends soon). */
async function runRepublish (inputs: ActionInputs, signal: AbortSignal | undefined): Promise<void> {
  const result = await republish({ settings: inputs.destinations, logger, signal })
  setRepublishOutputs(result)
  if (inputs.summary) await writeRepublishSummary(result)
  logger.info(`Republished /ipns/${result.name} → ${result.value}: ${result.reason}`)
  const failed = (result.targets ?? []).filter((t) => !t.ok)
  for (const t of failed) logger.warn(`${t.label}: ${t.detail}`)
}

/** `signal`: aborting it cancels the run (see src/action/index.ts); its reason is the failure reported. */
export async function run ({ signal }: { signal?: AbortSignal } = {}): Promise<void> {
  try {
    const inputs = getInputs()
    if (inputs.mode === 'republish') {
      await runRepublish(inputs, signal)
      return
    }
    const providers = createProviders(inputs.destinations, logger)
    const sources = await openSources({ gateways: inputs.gateways, cars: inputs.previousCars }, logger, { signal })
    let result
    let carDir: string | undefined
    try {
      carDir = await mkdir(dirname(inputs.carPath), { recursive: true })
      if (carDir != null) registerTemporary(carDir)
      result = await runPipeline({
        ...providers,
        image: inputs.imageFile != null
          ? { kind: 'file', path: inputs.imageFile, ...(inputs.image != null ? { ref: inputs.image } : {}) }
          : { kind: 'docker', ref: inputs.image as string, run: runCommand, command: inputs.containerCli },
        name: inputs.name,
        tags: inputs.tags,
        description: inputs.description,
        previousRoot: resolvePreviousRoot(inputs.previousRoot, sources),
        sources,
        carPath: inputs.carPath,
        carScope: inputs.carScope,
        tempDir: inputs.tempDir,
        maxDecompressedSize: inputs.maxDecompressedSize,
        revision: inputs.revision,
        now: sourceDateEpoch(process.env.SOURCE_DATE_EPOCH),
        logger,
        signal
      })
    } catch (err) {
      // Unless the CAR was written (a later step failed), the folder made for it goes again.
      if (carDir != null && !existsSync(inputs.carPath)) await removeTemporary(carDir)
      // Which destination failed and how the others did: one row each.
      if (inputs.summary && err instanceof StoreFailedError) await writeStoreFailure(err.reports)
      throw err
    } finally {
      if (carDir != null) releaseTemporary(carDir)
      await closeSources(sources)
    }
    setOutputs(result, inputs.gateways)
    if (inputs.summary) await writeSummary(result, inputs.gateways)
    core.info(`Registry root: ${result.rootCid}`)
  } catch (caught) {
    const err = signal?.aborted === true ? signal.reason : caught
    core.setFailed(logLine(redact(describeError(err, (key) => `Input '${key}'`, actionName))))
  }
}
