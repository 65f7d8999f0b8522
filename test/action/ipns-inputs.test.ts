import { afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import { generateKey } from '../../src/core/ipns/keys.js'
import { redact } from '../../src/core/redact.js'
import { getInputs } from '../../src/action/inputs.js'

// getInputs() in-process: the IPNS inputs become DestinationSettings.ipns (IpnsSettings) as core reads them.
let keyBase64: string
let name: string
const set: string[] = []

function inputs (values: Record<string, string>): void {
  for (const [key, value] of Object.entries(values)) {
    const variable = `INPUT_${key.toUpperCase()}`
    process.env[variable] = value
    set.push(variable)
  }
}

beforeAll(async () => {
  const generated = await generateKey('ed25519')
  keyBase64 = Buffer.from(generated.key.bytes).toString('base64')
  name = generated.name
})
afterEach(() => { for (const variable of set.splice(0)) Reflect.deleteProperty(process.env, variable) })

describe('IPNS inputs as settings', () => {
  test('a key signed here: every IPNS input in IpnsSettings, the record under RUNNER_TEMP, the key masked', () => {
    inputs({
      'image-file': 'x.tar',
      'ipns-private-key': `${keyBase64}\n`,
      'ipns-routers': 'https://router-a.example/\nhttps://router-b.example',
      gateways: 'https://gw.example',
      'ipns-lifetime': '36h',
      'ipns-ttl': '1m',
      'ipns-refresh-within': '12h'
    })
    const got = getInputs({ RUNNER_TEMP: '/runner/tmp' })
    expect(got.mode).toBe('publish')
    expect(got.destinations.kubo).toBeUndefined()
    expect(got.destinations.ipns).toEqual({
      privateKey: keyBase64,
      lifetime: '36h',
      ttl: '1m',
      refreshWithin: '12h',
      routers: ['https://router-a.example', 'https://router-b.example'],
      gateways: ['https://gw.example'],
      recordPath: '/runner/tmp/ipcr/ipns-record.bin'
    })
    expect(redact(`key ${keyBase64}`)).not.toContain(keyBase64)
  })

  test('the keystore path keeps its meaning; ipns-record-path and ipns-name are taken as given', () => {
    inputs({ 'image-file': 'x.tar', 'kubo-rpc-url': 'http://127.0.0.1:5001', 'ipns-key': 'registry', 'ipns-name': name, 'ipns-record-path': '/out/rec.bin' })
    const ipns = getInputs({ RUNNER_TEMP: '/runner/tmp' }).destinations.ipns
    expect(ipns).toMatchObject({ keystoreKey: 'registry', name, recordPath: '/out/rec.bin', routers: [] })
    expect(ipns?.privateKey).toBeUndefined()
  })

  test('no IPNS input: no IPNS settings', () => {
    inputs({ 'image-file': 'x.tar', 'kubo-rpc-url': 'http://127.0.0.1:5001' })
    expect(getInputs({}).destinations.ipns).toBeUndefined()
  })

  test('mode: republish reads no image inputs and keeps the name settings', () => {
    inputs({ mode: 'republish', 'ipns-name': name, 'ipns-routers': 'https://router.example', tags: '-not a tag-' })
    const got = getInputs({ RUNNER_TEMP: '/t' })
    expect(got.mode).toBe('republish')
    expect(got.tags).toEqual([])
    expect(got.destinations.ipns).toMatchObject({ name, routers: ['https://router.example'] })
  })
})
