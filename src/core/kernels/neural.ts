/**
 * The `neural_inference` kernel: a batched forward pass of a small MLP (mlp.ts) or a run of a leaky
 * integrate-and-fire spiking network (lif.ts), with the weights in the payload.
 *
 * MLP payload and output:
 *
 *     { model: 'mlp', rows, input: f32 bytes (rows × layers[0].in),
 *       layers: [{ in, out, weights: f32 bytes (out × in), bias: f32 bytes (out), activation }] }
 *     → { model: 'mlp', rows, out, output: f32 bytes (rows × out) }
 *
 * LIF payload and output (floats are float32 byte strings; `leak`, `threshold`, `reset` are one
 * float32 each, 4 bytes):
 *
 *     { model: 'lif', batch, steps, in, neurons, weights (neurons × in), recurrent? (neurons × neurons),
 *       leak, threshold, reset, refractory, spikes? (packed bits) | currents? (f32) }
 *     → { model: 'lif', batch, steps, neurons, spikes (packed bits, batch × steps rows),
 *         counts (uint32 little-endian, batch × neurons), potentials (f32, batch × neurons) }
 *
 * Size, in the price table's unit 'batch' (3 credits each): one batch is up to
 * {@link MACS_PER_BATCH} = 2^25 multiply-adds (e.g. 256 rows through a 256→256→256 MLP), and a
 * payload costs ceil(multiply-adds / 2^25), at least 1. Counting work rather than payloads keeps the
 * price honest: otherwise a payload at the limits (2^31 multiply-adds) would cost what a one-row,
 * one-neuron network costs, and every submitter would pack its work into maximal payloads.
 *
 * Comparator (`agree`), per model:
 * - mlp: same shape, and for every row ‖a − b‖₂ <= 1e-5 · max(‖a‖₂, ‖b‖₂) + 1e-6 (relative L2,
 *   the issue's tolerance, with a small absolute floor so that rows near zero, e.g. after relu, can
 *   agree). Not cosine: cosine is blind to scale, so it would accept an output multiplied by 2.
 *   Why a tolerance at all: tanh, sigmoid and softmax use Math.tanh / Math.exp, which ECMAScript
 *   leaves implementation-approximated, and a future worker may sum in another order (SIMD, WASM).
 *   This kernel sums in binary64 and rounds once; a worker summing in float32 could exceed 1e-5 on
 *   very wide, deep, ill-conditioned networks, which the limits keep rare.
 * - lif: same shape, spike trains and counts exactly equal, final potentials within
 *   1e-5 · max(|a|, |b|) + 1e-6 each. The LIF arithmetic is IEEE +, × and comparisons only, so every
 *   JavaScript engine reproduces it bit for bit; the potentials' tolerance leaves room for other
 *   implementations later, while spikes (the network's answer) must match.
 */
import { encodeCanonical } from '../codec/index.ts'
import type { CborValue } from '../codec/index.ts'
import { KernelError } from './errors.ts'
import { PayloadFields } from './fields.ts'
import { floatsToBytes } from './floats.ts'
import { checkLif, lifRun } from './lif.ts'
import type { LifInput, LifNetwork, LifResult } from './lif.ts'
import { checkMlp, mlpForward, MLP_ACTIVATIONS } from './mlp.ts'
import type { MlpLayer } from './mlp.ts'
import type { Kernel, KernelRunOptions } from './types.ts'

/** Multiply-adds in one priced batch: 2^25. @example MACS_PER_BATCH === 33_554_432 */
export const MACS_PER_BATCH = 2 ** 25

/** Largest payload or output: 160 MiB. @example MAX_NEURAL_PAYLOAD_BYTES === 167_772_160 */
export const MAX_NEURAL_PAYLOAD_BYTES = 160 * 1024 * 1024

/** Relative L2 tolerance of the MLP comparator (and the LIF potentials'). @example NEURAL_RTOL === 1e-5 */
export const NEURAL_RTOL = 1e-5

/** Absolute floor of the comparators. @example NEURAL_ATOL === 1e-6 */
export const NEURAL_ATOL = 1e-6

/** An MLP task. @example encodeNeuralPayload({ model: 'mlp', rows: 1, input, layers }) */
export interface MlpTask {
  readonly model: 'mlp'
  readonly rows: number
  readonly input: Float32Array
  readonly layers: readonly MlpLayer[]
}

/** A LIF task. @example encodeNeuralPayload({ model: 'lif', network, input }) */
export interface LifTask {
  readonly model: 'lif'
  readonly network: LifNetwork
  readonly input: LifInput
}

/** One `neural_inference` task. @example const t: NeuralTask = { model: 'mlp', rows, input, layers } */
export type NeuralTask = MlpTask | LifTask

/** An MLP's outputs. @example (decodeNeuralOutput(out) as MlpOutput).output */
export interface MlpOutput { readonly model: 'mlp', readonly rows: number, readonly out: number, readonly output: Float32Array }

/** A LIF run's outputs. @example (decodeNeuralOutput(out) as LifOutput).counts */
export interface LifOutput extends LifResult { readonly model: 'lif', readonly batch: number, readonly steps: number, readonly neurons: number }

/** One `neural_inference` output. @example decodeNeuralOutput(bytes).model */
export type NeuralOutput = MlpOutput | LifOutput

/**
 * Build a `neural_inference` payload (validated, so a bad one fails at the client).
 *
 * @example
 * const payload = encodeNeuralPayload({ model: 'mlp', rows: 2, input, layers: [{ in: 4, out: 3, weights, bias, activation: 'softmax' }] })
 */
export function encodeNeuralPayload (task: NeuralTask): Uint8Array {
  let map: Record<string, CborValue>
  if (task.model === 'mlp') {
    map = {
      model: 'mlp',
      rows: task.rows,
      input: floatsToBytes(task.input),
      layers: task.layers.map(l => ({ in: l.in, out: l.out, weights: floatsToBytes(l.weights), bias: floatsToBytes(l.bias), activation: l.activation }))
    }
  } else {
    const { network: n, input: x } = task
    map = {
      model: 'lif',
      batch: x.batch,
      steps: x.steps,
      in: n.in,
      neurons: n.neurons,
      weights: floatsToBytes(n.weights),
      leak: floatsToBytes(new Float32Array([n.leak])),
      threshold: floatsToBytes(new Float32Array([n.threshold])),
      reset: floatsToBytes(new Float32Array([n.reset])),
      refractory: n.refractory
    }
    if (n.recurrent !== undefined) map.recurrent = floatsToBytes(n.recurrent)
    if (x.spikes !== undefined) map.spikes = x.spikes
    if (x.currents !== undefined) map.currents = floatsToBytes(x.currents)
  }
  const bytes = encodeCanonical(map)
  parsePayload(bytes)
  return bytes
}

/**
 * Read a `neural_inference` output. Throws `KernelError` for bytes that are not one.
 *
 * @example
 * const out = decodeNeuralOutput(await neuralKernel.run(payload))
 * if (out.model === 'mlp') console.log(out.output)
 */
export function decodeNeuralOutput (bytes: Uint8Array): NeuralOutput {
  const f = decode(bytes, 'output')
  if (f.choice('model', ['mlp', 'lif']) === 'mlp') {
    f.only(['model', 'out', 'output', 'rows'])
    const rows = f.int('rows')
    const out = f.int('out')
    const output = f.floats('output')
    if (output.length !== rows * out) throw new KernelError('ERR_KERNEL_DIMENSION_MISMATCH', `output: ${output.length} values is not ${rows} × ${out}`)
    return { model: 'mlp', rows, out, output }
  }
  f.only(['batch', 'counts', 'model', 'neurons', 'potentials', 'spikes', 'steps'])
  const batch = f.int('batch')
  const steps = f.int('steps')
  const neurons = f.int('neurons')
  const spikes = f.bytes('spikes')
  const countBytes = f.bytes('counts')
  const potentials = f.floats('potentials')
  if (spikes.length !== batch * steps * Math.ceil(neurons / 8) || countBytes.length !== batch * neurons * 4 || potentials.length !== batch * neurons) {
    throw new KernelError('ERR_KERNEL_DIMENSION_MISMATCH', 'lif output: spikes, counts or potentials do not fit batch × steps × neurons')
  }
  const view = new DataView(countBytes.buffer, countBytes.byteOffset, countBytes.byteLength)
  const counts = new Uint32Array(batch * neurons)
  for (let i = 0; i < counts.length; i++) counts[i] = view.getUint32(i * 4, true)
  return { model: 'lif', batch, steps, neurons, spikes, counts, potentials }
}

function decode (bytes: Uint8Array, what: 'payload' | 'output'): PayloadFields {
  return PayloadFields.decode(bytes, { maxBytes: MAX_NEURAL_PAYLOAD_BYTES, what: `neural_inference ${what}` })
}

function parsePayload (payload: Uint8Array): { task: NeuralTask, macs: number } {
  const f = decode(payload, 'payload')
  if (f.choice('model', ['mlp', 'lif']) === 'mlp') {
    f.only(['input', 'layers', 'model', 'rows'])
    const layers: MlpLayer[] = f.array('layers').map((raw, k) => {
      const l = PayloadFields.of(raw, f.what, `layers[${k}]`).only(['activation', 'bias', 'in', 'out', 'weights'])
      const activation = l.choice('activation', MLP_ACTIVATIONS, 'ERR_KERNEL_BAD_PARAMETER')
      return { in: l.int('in'), out: l.int('out'), weights: l.floats('weights'), bias: l.floats('bias'), activation }
    })
    const rows = f.int('rows')
    const input = f.floats('input')
    const macs = checkMlp(layers, rows, input.length)
    return { task: { model: 'mlp', rows, input, layers }, macs }
  }
  f.only(['batch', 'in', 'leak', 'model', 'neurons', 'refractory', 'reset', 'steps', 'threshold', 'weights'], ['currents', 'recurrent', 'spikes'])
  const network: LifNetwork = {
    in: f.int('in'),
    neurons: f.int('neurons'),
    weights: f.floats('weights'),
    ...(f.has('recurrent') ? { recurrent: f.floats('recurrent') } : {}),
    leak: f.float32('leak'),
    threshold: f.float32('threshold'),
    reset: f.float32('reset'),
    refractory: f.int('refractory')
  }
  const input: LifInput = {
    batch: f.int('batch'),
    steps: f.int('steps'),
    ...(f.has('spikes') ? { spikes: f.bytes('spikes') } : {}),
    ...(f.has('currents') ? { currents: f.floats('currents') } : {})
  }
  const macs = checkLif(network, input)
  return { task: { model: 'lif', network, input }, macs }
}

/**
 * The `neural_inference` kernel (module comment for payloads, size and tolerances).
 *
 * @example
 * const out = decodeNeuralOutput(await neuralKernel.run(encodeNeuralPayload(task)))
 */
export const neuralKernel: Kernel = {
  type: 'neural_inference',

  size (payload: Uint8Array): number {
    return Math.max(1, Math.ceil(parsePayload(payload).macs / MACS_PER_BATCH))
  },

  async run (payload: Uint8Array, options?: KernelRunOptions): Promise<Uint8Array> {
    const { task } = parsePayload(payload)
    options?.signal?.throwIfAborted()
    if (task.model === 'mlp') {
      const output = mlpForward(task.layers, task.input, task.rows)
      const out = (task.layers[task.layers.length - 1] as MlpLayer).out
      return encodeCanonical({ model: 'mlp', rows: task.rows, out, output: floatsToBytes(output) })
    }
    const r = lifRun(task.network, task.input)
    const counts = new Uint8Array(r.counts.length * 4)
    const view = new DataView(counts.buffer)
    for (let i = 0; i < r.counts.length; i++) view.setUint32(i * 4, r.counts[i] as number, true)
    return encodeCanonical({
      model: 'lif',
      batch: task.input.batch,
      steps: task.input.steps,
      neurons: task.network.neurons,
      spikes: r.spikes,
      counts,
      potentials: floatsToBytes(r.potentials)
    })
  },

  agree (a: Uint8Array, b: Uint8Array): boolean {
    let x: NeuralOutput
    let y: NeuralOutput
    try {
      x = decodeNeuralOutput(a)
      y = decodeNeuralOutput(b)
    } catch {
      return false
    }
    if (x.model === 'mlp' && y.model === 'mlp') {
      if (x.rows !== y.rows || x.out !== y.out) return false
      for (let r = 0; r < x.rows; r++) {
        let diff = 0
        let na = 0
        let nb = 0
        for (let j = r * x.out; j < (r + 1) * x.out; j++) {
          const p = x.output[j] as number
          const q = y.output[j] as number
          diff += (p - q) * (p - q)
          na += p * p
          nb += q * q
        }
        if (!(Math.sqrt(diff) <= NEURAL_RTOL * Math.sqrt(Math.max(na, nb)) + NEURAL_ATOL)) return false
      }
      return true
    }
    if (x.model === 'lif' && y.model === 'lif') {
      if (x.batch !== y.batch || x.steps !== y.steps || x.neurons !== y.neurons) return false
      for (let i = 0; i < x.spikes.length; i++) if (x.spikes[i] !== y.spikes[i]) return false
      for (let i = 0; i < x.counts.length; i++) if (x.counts[i] !== y.counts[i]) return false
      for (let i = 0; i < x.potentials.length; i++) {
        const p = x.potentials[i] as number
        const q = y.potentials[i] as number
        if (!(Math.abs(p - q) <= NEURAL_RTOL * Math.max(Math.abs(p), Math.abs(q)) + NEURAL_ATOL)) return false
      }
      return true
    }
    return false
  }
}
