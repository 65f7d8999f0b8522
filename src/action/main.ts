import * as core from '@actions/core'
import * as exec from '@actions/exec'
import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { closeSources, createProviders, openSources, runPipeline, type CommandRunner, type Logger } from '../core/index.js'
import { getInputs } from './inputs.js'
import { setOutputs, writeSummary } from './outputs.js'

const logger: Logger = {
  debug: (m) => core.debug(m),
  info: (m) => core.info(m),
  warn: (m) => core.warning(m),
  group: async (name, fn) => await core.group(name, fn)
}

/** Runs commands through @actions/exec so they show up as runners show them. */
const runCommand: CommandRunner = async (command, args) => {
  let stderr = ''
  const exitCode = await exec.exec(command, args, {
    ignoreReturnCode: true,
    silent: false,
    listeners: { stderr: (data: Buffer) => { stderr += data.toString() } }
  })
  return { exitCode, stderr }
}

export async function run (): Promise<void> {
  try {
    const inputs = getInputs()
    const providers = createProviders(inputs.destinations, logger)
    const sources = await openSources({ gateways: inputs.gateways, cars: inputs.previousCars }, logger)
    let result
    try {
      await mkdir(dirname(inputs.carPath), { recursive: true })
      result = await runPipeline({
        ...providers,
        image: inputs.image != null ? { kind: 'docker', ref: inputs.image, run: runCommand } : { kind: 'file', path: inputs.imageFile as string },
        name: inputs.name,
        tags: inputs.tags,
        description: inputs.description,
        previousRoot: inputs.previousRoot ?? null,
        sources,
        carPath: inputs.carPath,
        carScope: inputs.carScope,
        tempDir: inputs.tempDir,
        maxDecompressedSize: inputs.maxDecompressedSize,
        revision: inputs.revision,
        logger
      })
    } finally {
      await closeSources(sources)
    }
    setOutputs(result, inputs.gateways)
    if (inputs.summary) await writeSummary(result, inputs.gateways)
    core.info(`Registry root: ${result.rootCid}`)
  } catch (err) {
    core.setFailed(err instanceof Error ? err.message : String(err))
  }
}
