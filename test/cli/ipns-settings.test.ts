import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import { rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { generateKey } from '../../src/core/ipns/keys.js'
import { redact } from '../../src/core/redact.js'
import { ipnsSettings } from '../../src/cli/main.js'
import { makeTempDir } from '../helpers/images.js'

// The CLI's IPNS flags as IpnsSettings (what core reads), in-process.
let dir: string
let keyFile: string
let keyBytes: Uint8Array
let name: string

beforeAll(async () => {
  dir = await makeTempDir('ipcr-cli-ipns-')
  const generated = await generateKey('ed25519')
  keyBytes = generated.key.bytes
  name = generated.name
  keyFile = join(dir, 'k.key')
  await writeFile(keyFile, keyBytes)
})
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })
afterEach(() => { Reflect.deleteProperty(process.env, 'IPCR_IPNS_PRIVATE_KEY') })

/** Flags as commander gives them; options the command lacks throw, as addOptions' reader does. */
function flags (given: Record<string, string | string[]>, command: 'push' | 'republish' = 'push') {
  return (key: string): string | string[] | boolean | undefined => {
    if (command === 'push' && key === 'ipns-refresh-within') throw new Error(`ipcr push has no option '${key}'`)
    return given[key]
  }
}

describe('IPNS flags as settings', () => {
  test('the key file as bytes, routers and gateways, durations, the record path resolved', async () => {
    const ipns = await ipnsSettings(flags({
      'ipns-private-key': keyFile,
      'ipns-routers': ['https://a.example/,https://b.example'],
      gateways: ['https://gw.example'],
      'ipns-lifetime': '36h',
      'ipns-ttl': '1m',
      'ipns-record-path': 'rec.bin'
    }))
    expect(ipns).toEqual({
      privateKey: keyBytes,
      lifetime: '36h',
      ttl: '1m',
      routers: ['https://a.example', 'https://b.example'],
      gateways: ['https://gw.example'],
      recordPath: resolve('rec.bin')
    })
  })

  test('republish: the key from $IPCR_IPNS_PRIVATE_KEY, masked; refresh-within read; no record path unless asked', async () => {
    const base64 = Buffer.from(keyBytes).toString('base64')
    process.env.IPCR_IPNS_PRIVATE_KEY = `${base64}\n`
    const ipns = await ipnsSettings(flags({ 'ipns-routers': ['https://r.example'], 'ipns-refresh-within': '6h', 'ipns-name': name }, 'republish'))
    expect(ipns).toMatchObject({ privateKey: `${base64}\n`, refreshWithin: '6h', name })
    expect(ipns?.recordPath).toBeUndefined()
    expect(redact(`the key is ${base64}`)).not.toContain(base64)
  })

  test('no key and no name: no IPNS settings; the keystore key alone keeps its meaning', async () => {
    expect(await ipnsSettings(flags({ gateways: ['https://gw.example'] }))).toBeUndefined()
    expect(await ipnsSettings(flags({ 'ipns-key': 'registry' }))).toMatchObject({ keystoreKey: 'registry', routers: [] })
  })

  test('a missing key file names --ipns-private-key-file', async () => {
    await expect(ipnsSettings(flags({ 'ipns-private-key': join(dir, 'missing.key') }))).rejects.toThrow(/Input 'ipns-private-key': cannot read '.*missing\.key': ENOENT/)
  })
})
