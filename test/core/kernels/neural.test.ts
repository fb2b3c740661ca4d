/**
 * The neural_inference kernel: hand-computed MLPs and LIF networks, both against independent
 * reference implementations on seeded random networks, limits, bad input, pricing and the
 * comparators' tolerances.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { check } from '../../helpers/property.ts'
import { kernelError } from './helpers.ts'
import { encodeCanonical } from '../../../src/core/codec/index.ts'
import { floatsToBytes } from '../../../src/core/kernels/floats.ts'
import { mlpForward, MAX_MLP_LAYERS, MAX_MLP_WIDTH, MAX_MLP_ROWS } from '../../../src/core/kernels/mlp.ts'
import type { MlpActivation, MlpLayer } from '../../../src/core/kernels/mlp.ts'
import { lifRun, MAX_LIF_STEPS } from '../../../src/core/kernels/lif.ts'
import type { LifInput, LifNetwork } from '../../../src/core/kernels/lif.ts'
import { neuralKernel, encodeNeuralPayload, decodeNeuralOutput, MACS_PER_BATCH } from '../../../src/core/kernels/neural.ts'
import type { LifOutput, MlpOutput } from '../../../src/core/kernels/neural.ts'

const f = (...v: number[]): Float32Array => new Float32Array(v)
const layer = (inDim: number, out: number, weights: number[], bias: number[], activation: MlpActivation): MlpLayer =>
  ({ in: inDim, out, weights: new Float32Array(weights), bias: new Float32Array(bias), activation })

async function runMlp (layers: MlpLayer[], input: Float32Array, rows: number): Promise<MlpOutput> {
  return decodeNeuralOutput(await neuralKernel.run(encodeNeuralPayload({ model: 'mlp', rows, input, layers }))) as MlpOutput
}

async function runLif (network: LifNetwork, input: LifInput): Promise<LifOutput> {
  return decodeNeuralOutput(await neuralKernel.run(encodeNeuralPayload({ model: 'lif', network, input }))) as LifOutput
}

/** An independent MLP: arrays of rows, binary64 throughout, rounded to float32 only at the end. */
function referenceMlp (layers: MlpLayer[], input: Float32Array, rows: number): Float32Array {
  const out: number[] = []
  for (let r = 0; r < rows; r++) {
    let x = Array.from(input.subarray(r * (layers[0] as MlpLayer).in, (r + 1) * (layers[0] as MlpLayer).in))
    for (const l of layers) {
      const z = Array.from({ length: l.out }, (_, j) => x.reduce((s, xi, i) => s + (l.weights[j * l.in + i] as number) * xi, l.bias[j] as number))
      if (l.activation === 'relu') x = z.map(v => Math.max(0, v))
      else if (l.activation === 'tanh') x = z.map(Math.tanh)
      else if (l.activation === 'sigmoid') x = z.map(v => 1 / (1 + Math.exp(-v)))
      else if (l.activation === 'softmax') { const m = Math.max(...z); const e = z.map(v => Math.exp(v - m)); const s = e.reduce((a, b) => a + b); x = e.map(v => v / s) } else x = z
    }
    out.push(...x)
  }
  return new Float32Array(out)
}

/** An independent LIF: dense sums (no skipped zero terms), spikes kept as booleans. */
function referenceLif (net: LifNetwork, input: LifInput): { spikes: boolean[][][], counts: number[], potentials: number[] } {
  const spikes: boolean[][][] = []
  const counts: number[] = []
  const potentials: number[] = []
  for (let b = 0; b < input.batch; b++) {
    const u = new Array<number>(net.neurons).fill(0)
    const wait = new Array<number>(net.neurons).fill(0)
    let prev = new Array<boolean>(net.neurons).fill(false)
    const trains: boolean[][] = []
    for (let t = 0; t < input.steps; t++) {
      const row = b * input.steps + t
      const x = Array.from({ length: net.in }, (_, i) => input.spikes !== undefined
        ? ((input.spikes[row * Math.ceil(net.in / 8) + (i >> 3)] as number) >> (i & 7)) & 1
        : (input.currents as Float32Array)[row * net.in + i] as number)
      const now = new Array<boolean>(net.neurons).fill(false)
      for (let j = 0; j < net.neurons; j++) {
        if ((wait[j] as number) > 0) { wait[j] = (wait[j] as number) - 1; u[j] = Math.fround(net.reset); continue }
        let acc = 0
        for (let i = 0; i < net.in; i++) acc += (net.weights[j * net.in + i] as number) * (x[i] as number)
        if (net.recurrent !== undefined) for (let k = 0; k < net.neurons; k++) acc += (net.recurrent[j * net.neurons + k] as number) * (prev[k] === true ? 1 : 0)
        const v = Math.fround(Math.fround(net.leak) * (u[j] as number) + Math.fround(acc))
        if (v >= Math.fround(net.threshold)) { now[j] = true; u[j] = Math.fround(net.reset); wait[j] = net.refractory } else u[j] = v
      }
      trains.push(now)
      prev = now
    }
    spikes.push(trains)
    for (let j = 0; j < net.neurons; j++) { counts.push(trains.filter(s => s[j]).length); potentials.push(u[j] as number) }
  }
  return { spikes, counts, potentials }
}

function spikeAt (out: LifOutput, b: number, t: number, j: number): boolean {
  return (((out.spikes[(b * out.steps + t) * Math.ceil(out.neurons / 8) + (j >> 3)] as number) >> (j & 7)) & 1) === 1
}

const weight = fc.float({ min: -2, max: 2, noNaN: true })

describe('kernels', () => {
  describe('neural_inference', () => {
    describe('mlp', () => {
      it('computes a hand-worked two-layer relu network', async () => {
        const layers = [layer(2, 2, [1, -1, 0.5, 2], [0, -1], 'relu'), layer(2, 1, [2, 1], [0.25], 'linear')]
        // row 1: z = [-1, 3.5] -> relu [0, 3.5] -> 3.5 + 0.25; row 2: z = [2, 2.5] -> 4 + 2.5 + 0.25
        const out = await runMlp(layers, f(1, 2, 3, 1), 2)
        assert.deepEqual({ rows: out.rows, out: out.out, output: Array.from(out.output) }, { rows: 2, out: 1, output: [3.75, 6.75] })
      })

      it('computes softmax, sigmoid and tanh at known points', () => {
        const id = (n: number, activation: MlpActivation): MlpLayer => layer(n, n, Array.from({ length: n * n }, (_, i) => i % (n + 1) === 0 ? 1 : 0), new Array(n).fill(0), activation)
        assert.deepEqual(Array.from(mlpForward([id(4, 'softmax')], f(3, 3, 3, 3), 1)), [0.25, 0.25, 0.25, 0.25])
        assert.deepEqual(Array.from(mlpForward([id(2, 'softmax')], f(1000, 0), 1)), [1, 0])
        assert.deepEqual(Array.from(mlpForward([id(2, 'sigmoid')], f(0, 100), 1)), [0.5, 1])
        assert.deepEqual(Array.from(mlpForward([id(2, 'tanh')], f(0, -100), 1)), [0, -1])
        assert.deepEqual(Array.from(mlpForward([id(2, 'relu')], f(-0, -3), 1)).map(v => Object.is(v, -0)), [false, false])
      })

      it('agrees with an independent reference on seeded random networks', () => {
        const arb = fc.record({
          widths: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 2, maxLength: 5 }),
          rows: fc.integer({ min: 1, max: 5 }),
          acts: fc.array(fc.constantFrom<MlpActivation>('relu', 'tanh', 'sigmoid', 'linear', 'softmax'), { minLength: 4, maxLength: 4 }),
          seedValues: fc.array(weight, { minLength: 600, maxLength: 600 })
        })
        check(fc.property(arb, ({ widths, rows, acts, seedValues }) => {
          let cursor = 0
          const take = (n: number): number[] => Array.from({ length: n }, () => seedValues[cursor++ % seedValues.length] as number)
          const layers = widths.slice(1).map((out, k) => layer(widths[k] as number, out, take(out * (widths[k] as number)), take(out), acts[k] as MlpActivation))
          const input = new Float32Array(take(rows * (widths[0] as number)))
          const got = mlpForward(layers, input, rows)
          const want = referenceMlp(layers, input, rows)
          const out = widths[widths.length - 1] as number
          const enc = (output: Float32Array): Uint8Array => encodeCanonical({ model: 'mlp', rows, out, output: floatsToBytes(output) })
          assert.ok(neuralKernel.agree(enc(got), enc(want)), `outputs differ beyond tolerance: ${Array.from(got)} vs ${Array.from(want)}`)
        }), 200)
      })

      it('prices by work: one batch is up to 2^25 multiply-adds', () => {
        const big = layer(256, 256, new Array(256 * 256).fill(0.001), new Array(256).fill(0), 'relu')
        const net = [big, big]
        const payload = (rows: number): Uint8Array => encodeNeuralPayload({ model: 'mlp', rows, input: new Float32Array(rows * 256), layers: net })
        assert.equal(256 * (256 * 256 * 2), MACS_PER_BATCH)
        assert.equal(neuralKernel.size(payload(256)), 1)
        assert.equal(neuralKernel.size(payload(257)), 2)
        assert.equal(neuralKernel.size(payload(1)), 1)
        assert.equal(neuralKernel.size(encodeNeuralPayload({ model: 'mlp', rows: 1, input: f(1), layers: [layer(1, 1, [1], [0], 'linear')] })), 1)
      })

      it('refuses mismatched dimensions', () => {
        const bad: Array<() => Uint8Array> = [
          () => encodeCanonical({ model: 'mlp', rows: 1, input: floatsToBytes(f(1, 2)), layers: [{ in: 2, out: 2, weights: floatsToBytes(f(1, 2, 3, 4)), bias: floatsToBytes(f(0, 0)), activation: 'relu' }, { in: 3, out: 1, weights: floatsToBytes(f(1, 2, 3)), bias: floatsToBytes(f(0)), activation: 'linear' }] }),
          () => encodeCanonical({ model: 'mlp', rows: 1, input: floatsToBytes(f(1, 2)), layers: [{ in: 2, out: 2, weights: floatsToBytes(f(1, 2, 3)), bias: floatsToBytes(f(0, 0)), activation: 'relu' }] }),
          () => encodeCanonical({ model: 'mlp', rows: 1, input: floatsToBytes(f(1, 2)), layers: [{ in: 2, out: 2, weights: floatsToBytes(f(1, 2, 3, 4)), bias: floatsToBytes(f(0)), activation: 'relu' }] }),
          () => encodeCanonical({ model: 'mlp', rows: 2, input: floatsToBytes(f(1, 2)), layers: [{ in: 2, out: 1, weights: floatsToBytes(f(1, 2)), bias: floatsToBytes(f(0)), activation: 'relu' }] })
        ]
        for (const p of bad) assert.throws(() => neuralKernel.size(p()), kernelError('ERR_KERNEL_DIMENSION_MISMATCH'))
        assert.throws(() => mlpForward([layer(2, 1, [1, 1], [0], 'linear')], f(1, 2, 3), 1), kernelError('ERR_KERNEL_DIMENSION_MISMATCH'))
      })

      it('refuses networks and batches above the limits', () => {
        const tiny = { in: 1, out: 1, weights: floatsToBytes(f(1)), bias: floatsToBytes(f(0)), activation: 'linear' }
        const p = (rows: number, layers: unknown[]): Uint8Array => encodeCanonical({ model: 'mlp', rows, input: floatsToBytes(new Float32Array(rows)), layers })
        assert.throws(() => neuralKernel.size(p(1, new Array(MAX_MLP_LAYERS + 1).fill(tiny))), kernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE'))
        assert.throws(() => neuralKernel.size(p(1, [{ ...tiny, out: MAX_MLP_WIDTH + 1 }])), kernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE'))
        assert.throws(() => neuralKernel.size(p(MAX_MLP_ROWS + 1, [tiny])), kernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE'))
        assert.equal(neuralKernel.size(p(1, new Array(MAX_MLP_LAYERS).fill(tiny))), 1)
      })

      it('refuses NaN weights, an unknown activation, malformed payloads, and a float32 overflow', async () => {
        const ok = { in: 1, out: 1, weights: floatsToBytes(f(1)), bias: floatsToBytes(f(0)), activation: 'linear' }
        const p = (layers: unknown[], extra: Record<string, unknown> = {}): Uint8Array => encodeCanonical({ model: 'mlp', rows: 1, input: floatsToBytes(f(1)), layers, ...extra })
        assert.throws(() => neuralKernel.size(p([{ ...ok, weights: floatsToBytes(f(NaN)) }])), kernelError('ERR_KERNEL_NON_FINITE'))
        assert.throws(() => neuralKernel.size(p([{ ...ok, activation: 'gelu' }])), kernelError('ERR_KERNEL_BAD_PARAMETER'))
        assert.throws(() => neuralKernel.size(p([])), kernelError('ERR_KERNEL_BAD_PAYLOAD'))
        assert.throws(() => neuralKernel.size(p([ok], { extra: 1 })), kernelError('ERR_KERNEL_BAD_PAYLOAD'))
        assert.throws(() => neuralKernel.size(encodeCanonical({ model: 'cnn' })), kernelError('ERR_KERNEL_BAD_PAYLOAD'))
        assert.throws(() => neuralKernel.size(p([{ ...ok, in: 0 }])), kernelError('ERR_KERNEL_BAD_PARAMETER'))
        const huge = p([{ ...ok, weights: floatsToBytes(f(3e38)) }, { ...ok, weights: floatsToBytes(f(3e38)) }])
        await assert.rejects(neuralKernel.run(huge), kernelError('ERR_KERNEL_NON_FINITE'))
      })

      it('agree(): relative L2 per row, blind neither to scale nor to one bad row', () => {
        const enc = (rows: number, out: number, v: number[]): Uint8Array => encodeCanonical({ model: 'mlp', rows, out, output: floatsToBytes(new Float32Array(v)) })
        const a = enc(2, 3, [1, 2, 3, 0, 0, 0])
        assert.ok(neuralKernel.agree(a, a))
        assert.ok(neuralKernel.agree(a, enc(2, 3, [1, 2, 3.00002, 0, 0, 1e-9])), 'within 1e-5 relative, and a near-zero row within the floor')
        assert.equal(neuralKernel.agree(a, enc(2, 3, [2, 4, 6, 0, 0, 0])), false, 'cosine 1, but twice the size')
        assert.equal(neuralKernel.agree(a, enc(2, 3, [1, 2, 3.001, 0, 0, 0])), false)
        assert.equal(neuralKernel.agree(a, enc(2, 3, [1, 2, 3, 0, 0, 0.01])), false)
        assert.equal(neuralKernel.agree(a, enc(3, 2, [1, 2, 3, 0, 0, 0])), false)
        assert.equal(neuralKernel.agree(a, new Uint8Array([0xa0])), false)
        assert.equal(neuralKernel.agree(a, enc(2, 3, [1, 2, 3])), false)
      })
    })

    describe('lif', () => {
      const base: LifNetwork = { in: 1, neurons: 1, weights: f(0.5), leak: 1, threshold: 1, reset: 0, refractory: 0 }

      it('integrates to threshold, fires and resets (no leak)', async () => {
        const out = await runLif(base, { batch: 1, steps: 4, spikes: new Uint8Array([1, 1, 1, 1]) })
        assert.deepEqual(Array.from(out.spikes), [0, 1, 0, 1])
        assert.deepEqual(Array.from(out.counts), [2])
        assert.deepEqual(Array.from(out.potentials), [0])
      })

      it('leaks by β each step', async () => {
        // u: 0.6, 0.9, 1.05 -> spike, 0.6
        const out = await runLif({ ...base, weights: f(0.6), leak: 0.5 }, { batch: 1, steps: 4, spikes: new Uint8Array([1, 1, 1, 1]) })
        assert.deepEqual(Array.from(out.spikes), [0, 0, 1, 0])
        assert.deepEqual(Array.from(out.potentials), [Math.fround(0.6)])
      })

      it('holds a neuron at reset for the refractory steps', async () => {
        const out = await runLif({ ...base, weights: f(1.5), refractory: 2, reset: -0.5 }, { batch: 1, steps: 6, spikes: new Uint8Array(6).fill(1) })
        assert.deepEqual(Array.from(out.spikes), [1, 0, 0, 1, 0, 0])
        assert.deepEqual(Array.from(out.potentials), [-0.5])
      })

      it('passes spikes through recurrent weights one step later', async () => {
        const net: LifNetwork = { in: 1, neurons: 2, weights: f(2, 0), recurrent: f(0, 0, 2, 0), leak: 0, threshold: 1, reset: 0, refractory: 0 }
        const out = await runLif(net, { batch: 1, steps: 4, spikes: new Uint8Array([1, 0, 0, 0]) })
        assert.deepEqual(Array.from(out.spikes), [0b01, 0b10, 0, 0])
        assert.deepEqual(Array.from(out.counts), [1, 1])
      })

      it('takes real-valued currents', async () => {
        const out = await runLif({ ...base, weights: f(1) }, { batch: 1, steps: 3, currents: f(0.3, 0.3, 0.5) })
        assert.deepEqual(Array.from(out.spikes), [0, 0, 1])
      })

      it('runs batch samples independently', () => {
        const net: LifNetwork = { in: 3, neurons: 2, weights: f(0.4, 0.3, -0.2, 0.1, 0.6, 0.5), recurrent: f(0, -0.3, 0.4, 0), leak: 0.8, threshold: 1, reset: 0, refractory: 1 }
        const a = new Uint8Array([0b111, 0b101, 0b011, 0b110, 0b001])
        const b = new Uint8Array([0b001, 0b000, 0b111, 0b111, 0b010])
        const both = lifRun(net, { batch: 2, steps: 5, spikes: new Uint8Array([...a, ...b]) })
        const one = lifRun(net, { batch: 1, steps: 5, spikes: a })
        const two = lifRun(net, { batch: 1, steps: 5, spikes: b })
        assert.deepEqual(Array.from(both.spikes), [...one.spikes, ...two.spikes])
        assert.deepEqual(Array.from(both.potentials), [...one.potentials, ...two.potentials])
      })

      it('matches an independent dense reference bit for bit on seeded random networks', () => {
        const arb = fc.record({
          nIn: fc.integer({ min: 1, max: 11 }),
          neurons: fc.integer({ min: 1, max: 10 }),
          batch: fc.integer({ min: 1, max: 3 }),
          steps: fc.integer({ min: 1, max: 12 }),
          recurrent: fc.boolean(),
          useCurrents: fc.boolean(),
          leak: fc.float({ min: 0, max: 1, noNaN: true }),
          threshold: fc.float({ min: Math.fround(0.1), max: 2, noNaN: true }),
          refractory: fc.integer({ min: 0, max: 3 }),
          values: fc.array(weight, { minLength: 300, maxLength: 300 }),
          bits: fc.uint8Array({ minLength: 300, maxLength: 300 })
        })
        check(fc.property(arb, r => {
          let c = 0
          const take = (n: number): Float32Array => new Float32Array(Array.from({ length: n }, () => r.values[c++ % r.values.length] as number))
          const net: LifNetwork = {
            in: r.nIn, neurons: r.neurons, weights: take(r.neurons * r.nIn), leak: r.leak, threshold: r.threshold, reset: -0.25, refractory: r.refractory,
            ...(r.recurrent ? { recurrent: take(r.neurons * r.neurons) } : {})
          }
          const rowBytes = Math.ceil(r.nIn / 8)
          const mask = r.nIn % 8 === 0 ? 0xff : (1 << (r.nIn % 8)) - 1
          const input: LifInput = r.useCurrents
            ? { batch: r.batch, steps: r.steps, currents: take(r.batch * r.steps * r.nIn).map(v => v > 1 ? 0 : v) }
            : { batch: r.batch, steps: r.steps, spikes: new Uint8Array(r.batch * r.steps * rowBytes).map((_, i) => (r.bits[i % 300] as number) & ((i % rowBytes) === rowBytes - 1 ? mask : 0xff)) }
          const got = decodeNeuralOutput(encodeCanonicalLif(net, input)) as LifOutput
          const want = referenceLif(net, input)
          for (let b = 0; b < r.batch; b++) for (let t = 0; t < r.steps; t++) for (let j = 0; j < r.neurons; j++) assert.equal(spikeAt(got, b, t, j), want.spikes[b]?.[t]?.[j], `spike b${b} t${t} n${j}`)
          assert.deepEqual(Array.from(got.counts), want.counts)
          assert.deepEqual(Array.from(got.potentials), want.potentials)
        }), 200)
      })

      it('refuses bad parameters, shapes and limits with precise codes', () => {
        const p = (over: Record<string, unknown>): Uint8Array => encodeCanonical({
          model: 'lif', batch: 1, steps: 2, in: 3, neurons: 1, weights: floatsToBytes(f(1, 1, 1)), leak: floatsToBytes(f(0.9)),
          threshold: floatsToBytes(f(1)), reset: floatsToBytes(f(0)), refractory: 0, spikes: new Uint8Array([1, 2]), ...over
        })
        assert.equal(neuralKernel.size(p({})), 1)
        const cases: Array<[Record<string, unknown>, string]> = [
          [{ leak: floatsToBytes(f(1.5)) }, 'ERR_KERNEL_BAD_PARAMETER'],
          [{ reset: floatsToBytes(f(1)) }, 'ERR_KERNEL_BAD_PARAMETER'],
          [{ refractory: -1 }, 'ERR_KERNEL_BAD_PARAMETER'],
          [{ neurons: 0 }, 'ERR_KERNEL_BAD_PARAMETER'],
          [{ threshold: floatsToBytes(f(Infinity)) }, 'ERR_KERNEL_NON_FINITE'],
          [{ currents: floatsToBytes(f(1, 1, 1, 1, 1, 1)) }, 'ERR_KERNEL_BAD_PAYLOAD'],
          [{ spikes: new Uint8Array([1, 0x80]) }, 'ERR_KERNEL_BAD_PAYLOAD'],
          [{ leak: new Uint8Array(3) }, 'ERR_KERNEL_BAD_PAYLOAD'],
          [{ leak: floatsToBytes(f(0.5, 0.5)) }, 'ERR_KERNEL_BAD_PAYLOAD'],
          [{ spikes: new Uint8Array([1]) }, 'ERR_KERNEL_DIMENSION_MISMATCH'],
          [{ weights: floatsToBytes(f(1, 1)) }, 'ERR_KERNEL_DIMENSION_MISMATCH'],
          [{ recurrent: floatsToBytes(f(1, 1)) }, 'ERR_KERNEL_DIMENSION_MISMATCH'],
          [{ steps: MAX_LIF_STEPS + 1 }, 'ERR_KERNEL_PAYLOAD_TOO_LARGE']
        ]
        for (const [over, code] of cases) assert.throws(() => neuralKernel.size(p(over)), kernelError(code), JSON.stringify(Object.keys(over)))
        const noInput = encodeCanonical({ model: 'lif', batch: 1, steps: 2, in: 3, neurons: 1, weights: floatsToBytes(f(1, 1, 1)), leak: floatsToBytes(f(0.9)), threshold: floatsToBytes(f(1)), reset: floatsToBytes(f(0)), refractory: 0 })
        assert.throws(() => neuralKernel.size(noInput), kernelError('ERR_KERNEL_BAD_PAYLOAD'))
      })

      it('agree(): spikes and counts exact, potentials within tolerance', async () => {
        const enc = (spikes: number[], counts: number[], potentials: number[]): Uint8Array => {
          const c = new Uint8Array(counts.length * 4)
          counts.forEach((v, i) => new DataView(c.buffer).setUint32(i * 4, v, true))
          return encodeCanonical({ model: 'lif', batch: 1, steps: 2, neurons: 2, spikes: new Uint8Array(spikes), counts: c, potentials: floatsToBytes(new Float32Array(potentials)) })
        }
        const a = enc([1, 3], [2, 1], [0.5, -0.25])
        assert.ok(neuralKernel.agree(a, enc([1, 3], [2, 1], [0.5000001, -0.25])))
        assert.equal(neuralKernel.agree(a, enc([1, 2], [2, 1], [0.5, -0.25])), false)
        assert.equal(neuralKernel.agree(a, enc([1, 3], [2, 2], [0.5, -0.25])), false)
        assert.equal(neuralKernel.agree(a, enc([1, 3], [2, 1], [0.501, -0.25])), false)
        const mlp = await neuralKernel.run(encodeNeuralPayload({ model: 'mlp', rows: 1, input: f(1), layers: [layer(1, 1, [1], [0], 'linear')] }))
        assert.equal(neuralKernel.agree(a, mlp), false)
        const out = await neuralKernel.run(encodeNeuralPayload({ model: 'lif', network: base, input: { batch: 1, steps: 4, spikes: new Uint8Array([1, 1, 1, 1]) } }))
        assert.ok(neuralKernel.agree(out, out.slice()))
      })
    })
  })
})

/** Run the LIF kernel synchronously through lifRun and encode as the kernel does (property tests stay sync). */
function encodeCanonicalLif (net: LifNetwork, input: LifInput): Uint8Array {
  const r = lifRun(net, input)
  const counts = new Uint8Array(r.counts.length * 4)
  r.counts.forEach((v, i) => new DataView(counts.buffer).setUint32(i * 4, v, true))
  return encodeCanonical({ model: 'lif', batch: input.batch, steps: input.steps, neurons: net.neurons, spikes: r.spikes, counts, potentials: floatsToBytes(r.potentials) })
}
