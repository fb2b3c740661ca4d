/**
 * network.json: the rules one network agrees on (its id, its genesis, and any ledger rule that
 * differs from the defaults), kept in the data directory. Every node of a network must hold the
 * same file: the id is inside every signed byte string and the genesis decides who starts with
 * credits, so two nodes that disagree see each other's events as invalid.
 *
 * Format (JSON, docs/cli.md): `{ "version": 1, "networkId": "edge-net-local", "genesis":
 * [{ "account": HEX_OR_NODE_ID, "amount": "MICRO_CREDITS" }], "rules": { ... } }`. Amounts are
 * decimal strings of micro-credits (JSON numbers lose precision above 2^53). Unknown fields are
 * refused: a misspelt rule silently ignored would split the network.
 */
import { fromHex, toHex } from '../core/bytes.ts'
import { MAX_DOMAIN_FIELD_LENGTH, isNodeId, publicKeyFromNodeId } from '../core/identity/index.ts'
import { DEFAULT_LEDGER_CONFIG } from '../core/ledger/index.ts'
import type { LedgerConfig } from '../core/ledger/index.ts'
import { CliError } from './errors.ts'

/** Version of the network.json format. @example NETWORK_FILE_VERSION === 1 */
export const NETWORK_FILE_VERSION = 1

/** The network a fresh data directory joins: a local one, without genesis credits. @example DEFAULT_NETWORK_ID === 'edge-net-local' */
export const DEFAULT_NETWORK_ID = 'edge-net-local'

/** The ledger rules network.json may set; absent ones take DEFAULT_LEDGER_CONFIG's value. @example const rules: NetworkRules = { trialDifficulty: 8 } */
export type NetworkRules = Partial<Omit<LedgerConfig, 'networkId' | 'genesis'>>

/**
 * A parsed network.json.
 *
 * @example
 * const network: NetworkFile = { networkId: 'edge-net-local', genesis: [], rules: {} }
 */
export interface NetworkFile {
  networkId: string
  genesis: Array<{ account: Uint8Array, amount: bigint }>
  rules: NetworkRules
}

/** Largest amount the ledger accepts (2^63 - 1 micro-credits, docs/ledger.md). */
const MAX_AMOUNT = 2n ** 63n - 1n

const INTEGER_RULES = ['stakeLockMs', 'rewardLockMs', 'trialDifficulty', 'quorum', 'maxPending', 'maxFutureSkewMs'] as const
const AMOUNT_RULES = ['minStake', 'trialCredits'] as const
const RULE_NAMES: readonly string[] = [...INTEGER_RULES, ...AMOUNT_RULES, 'multiplier']
/** Least value of each integer rule (a quorum of 0 or an empty pending pool make no sense). */
const INTEGER_MIN: Record<typeof INTEGER_RULES[number], number> = {
  stakeLockMs: 0, rewardLockMs: 0, trialDifficulty: 0, quorum: 1, maxPending: 1, maxFutureSkewMs: 0
}

function bad (source: string, message: string): CliError {
  return new CliError('ERR_BAD_NETWORK_FILE', `${source}: ${message}`)
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function parseAmount (source: string, where: string, value: unknown, min: bigint): bigint {
  if (typeof value !== 'string' || !/^\d{1,20}$/.test(value)) throw bad(source, `${where} must be a decimal string of micro-credits, e.g. "1000000"`)
  const amount = BigInt(value)
  if (amount < min || amount > MAX_AMOUNT) throw bad(source, `${where} must be in [${min}, ${MAX_AMOUNT}], got ${value}`)
  return amount
}

function parseAccount (source: string, where: string, value: unknown): Uint8Array {
  if (typeof value === 'string') {
    const raw = /^[0-9a-f]{64}$/i.test(value) ? fromHex(value.toLowerCase()) : isNodeId(value) ? publicKeyFromNodeId(value) : null
    if (raw !== null) return raw
  }
  throw bad(source, `${where} must be a 64-digit hex public key or a node id`)
}

function parseRules (source: string, value: unknown): NetworkRules {
  if (value === undefined) return {}
  if (!isRecord(value)) throw bad(source, 'rules must be an object')
  const rules: NetworkRules = {}
  for (const key of Object.keys(value)) {
    if (!RULE_NAMES.includes(key)) throw bad(source, `unknown rule "${key}" (known: ${RULE_NAMES.join(', ')})`)
  }
  for (const name of INTEGER_RULES) {
    const v = value[name]
    if (v === undefined) continue
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < INTEGER_MIN[name]) throw bad(source, `rules.${name} must be an integer >= ${INTEGER_MIN[name]}`)
    rules[name] = v
  }
  for (const name of AMOUNT_RULES) {
    if (value[name] !== undefined) rules[name] = parseAmount(source, `rules.${name}`, value[name], 0n)
  }
  const m = value.multiplier
  if (m !== undefined) {
    if (!isRecord(m) || Object.keys(m).sort().join() !== 'decay,max' ||
        typeof m.max !== 'number' || !Number.isFinite(m.max) || m.max < 1 ||
        typeof m.decay !== 'number' || !Number.isFinite(m.decay) || m.decay <= 0) {
      throw bad(source, 'rules.multiplier must be { "max": number >= 1, "decay": number > 0 }')
    }
    rules.multiplier = { max: m.max, decay: m.decay }
  }
  return rules
}

/**
 * Parse and validate network.json's text. Throws CliError ERR_BAD_NETWORK_FILE (naming `source`
 * and the field at fault) for anything that is not a valid network description.
 *
 * @example
 * const network = parseNetworkFile(readFileSync(path, 'utf8'), path)
 */
export function parseNetworkFile (text: string, source = 'network.json'): NetworkFile {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw bad(source, `not valid JSON (${(err as Error).message})`)
  }
  return networkFromJson(value, source)
}

/**
 * Validate an already parsed JSON value as a network description (see {@link parseNetworkFile}).
 *
 * @example
 * networkFromJson({ version: 1, networkId: 'x', genesis: [] }).networkId === 'x'
 */
export function networkFromJson (value: unknown, source = 'network.json'): NetworkFile {
  if (!isRecord(value)) throw bad(source, 'must be a JSON object')
  for (const key of Object.keys(value)) {
    if (!['version', 'networkId', 'genesis', 'rules'].includes(key)) throw bad(source, `unknown field "${key}"`)
  }
  if (value.version !== undefined && value.version !== NETWORK_FILE_VERSION) {
    throw bad(source, `version ${String(value.version)} is not supported (this edge-net reads version ${NETWORK_FILE_VERSION})`)
  }
  const { networkId } = value
  if (typeof networkId !== 'string' || networkId === '' || new TextEncoder().encode(networkId).length > MAX_DOMAIN_FIELD_LENGTH) {
    throw bad(source, `networkId must be a non-empty string of at most ${MAX_DOMAIN_FIELD_LENGTH} bytes`)
  }
  const rawGenesis = value.genesis ?? []
  if (!Array.isArray(rawGenesis)) throw bad(source, 'genesis must be an array')
  const genesis = rawGenesis.map((entry: unknown, i) => {
    if (!isRecord(entry) || Object.keys(entry).sort().join() !== 'account,amount') throw bad(source, `genesis[${i}] must be { "account", "amount" }`)
    return { account: parseAccount(source, `genesis[${i}].account`, entry.account), amount: parseAmount(source, `genesis[${i}].amount`, entry.amount, 1n) }
  })
  return { networkId, genesis, rules: parseRules(source, value.rules) }
}

/**
 * The JSON value of a network description (what network.json and an export header hold).
 *
 * @example
 * JSON.stringify(networkToJson({ networkId: 'x', genesis: [], rules: {} }))
 */
export function networkToJson (network: NetworkFile): Record<string, unknown> {
  const rules: Record<string, unknown> = {}
  for (const [name, v] of Object.entries(network.rules)) {
    if (v !== undefined) rules[name] = typeof v === 'bigint' ? v.toString() : v
  }
  return {
    version: NETWORK_FILE_VERSION,
    networkId: network.networkId,
    genesis: network.genesis.map(g => ({ account: toHex(g.account), amount: g.amount.toString() })),
    ...(Object.keys(rules).length > 0 ? { rules } : {})
  }
}

/**
 * network.json's text for a network (pretty-printed, ending in a newline).
 *
 * @example
 * writeFileSync(path, serializeNetworkFile(defaultNetwork()))
 */
export function serializeNetworkFile (network: NetworkFile): string {
  return JSON.stringify(networkToJson(network), null, 2) + '\n'
}

/** The network a fresh data directory joins. @example defaultNetwork().networkId === 'edge-net-local' */
export function defaultNetwork (): NetworkFile {
  return { networkId: DEFAULT_NETWORK_ID, genesis: [], rules: {} }
}

/**
 * The ledger configuration of a network, for `Ledger.open({ config })`.
 *
 * @example
 * const ledger = Ledger.create({ config: ledgerConfigOf(network) })
 */
export function ledgerConfigOf (network: NetworkFile): Partial<LedgerConfig> & { networkId: string } {
  return { ...network.rules, networkId: network.networkId, genesis: network.genesis }
}

/**
 * A network description holding every rule of a full ledger config, defaults included (what an
 * export header records, so that a later version with other defaults still replays it alike).
 *
 * @example
 * const header = networkToJson(networkOfConfig(ledger.config))
 */
export function networkOfConfig (config: LedgerConfig): NetworkFile {
  const rules: NetworkRules = {}
  for (const name of INTEGER_RULES) rules[name] = config[name]
  for (const name of AMOUNT_RULES) rules[name] = config[name]
  rules.multiplier = { max: config.multiplier.max, decay: config.multiplier.decay }
  return { networkId: config.networkId, genesis: config.genesis.map(g => ({ account: g.account, amount: g.amount })), rules }
}

/** The defaults, for docs and tests. @example DEFAULT_RULES.trialDifficulty === 16 */
export const DEFAULT_RULES: NetworkRules = networkOfConfig({ ...DEFAULT_LEDGER_CONFIG, networkId: DEFAULT_NETWORK_ID }).rules
