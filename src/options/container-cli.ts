import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { InputError } from '../core/errors.js'

function onPath (command: string, path: string): boolean {
  return path.split(delimiter).some((dir) => {
    if (dir === '') return false
    try {
      accessSync(join(dir, command), constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

/** The command that exports an image: the one given, else docker, else podman when docker is not on PATH. */
export function containerCli (given: string | undefined, path = process.env.PATH ?? ''): string {
  if (given != null) {
    if (!/^[A-Za-z0-9_./][A-Za-z0-9_./-]*$/.test(given)) throw new InputError('container-cli', `'${given}' is not a command name (expected docker or podman)`)
    return given
  }
  return !onPath('docker', path) && onPath('podman', path) ? 'podman' : 'docker'
}
