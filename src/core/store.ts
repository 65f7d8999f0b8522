import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { FsBlockStore } from './blocks/fs-store.js'
import { registerTemporary, releaseTemporary, removeTemporary } from './interrupt.js'
import { parseCid } from './publish.js'

/**
 * The embedded local store: a block store on disk plus the registry's
 * current root, so publishes work with no daemon and no network.
 */
export class LocalStore {
  readonly blocks: FsBlockStore
  constructor (readonly dir: string) {
    this.blocks = new FsBlockStore(join(dir, 'blocks'))
  }

  async readRoot (): Promise<CID | null> {
    try {
      const text = await readFile(join(this.dir, 'root'), 'utf8')
      return text.trim() === '' ? null : parseCid(text, 'store')
    } catch (err: any) {
      if (err.code === 'ENOENT') return null
      throw err
    }
  }

  async writeRoot (root: CID): Promise<void> {
    await mkdir(this.dir, { recursive: true })
    const tmp = join(this.dir, 'root.tmp')
    registerTemporary(tmp)
    try {
      await writeFile(tmp, `${root.toString()}\n`)
      await rename(tmp, join(this.dir, 'root'))
      releaseTemporary(tmp)
    } finally {
      await removeTemporary(tmp)
    }
  }
}
