import * as core from '@actions/core'
import * as exec from '@actions/exec'
import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { closeSources, createProviders, logLine, openSources, runPipeline, type CommandRunner, type Logger } from '../core/index.js'
import { getInputs } from './inputs.js'
import { setOutputs, writeSummary } from './outputs.js'

/** Messages carry text from images and remote services: each becomes one line that runs no workflow command. */
const logger: Logger = {
  debug: (m) => core.debug(logLine(m)),
  info: (m) => core.info(logLine(m)),
  warn: (m) => core.warning(logLine(m)),
  group: async (name, fn) => await core.group(logLine(name), fn)
}

/** Runs commands through @actions/exec; what they print reaches the log through the logger, line by line. */
const runCommand: CommandRunner = async (command, args) => {
  let stderr = ''
  logger.info(`[command]${command} ${args.join(' ')}`)
  const exitCode = await exec.exec(command, args, {
    ignoreReturnCode: true,
    silent: true,
    listeners: {
      stdline: (line: string) => { logger.info(line) },
      errline: (line: string) => { logger.info(line) },
      stderr: (data: Buffer) => { stderr += data.toString() }
    }
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
    core.setFailed(logLine(err instanceof Error ? err.message : String(err)))
  }
}
