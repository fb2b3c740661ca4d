/**
 * A leaky integrate-and-fire (LIF) spiking network run over T time steps: the `lif` model of the
 * `neural_inference` kernel (neural.ts carries it on the wire).
 *
 * The neuron is Gerstner & Kistler's LIF (Spiking Neuron Models, 2002, §4.1.1: τ du/dt = −u + R·I,
 * a spike and a reset to u_r when u reaches the threshold ϑ, eq. 4.3-4.5), in discrete time with
 * step Δt and the decay factor β = exp(−Δt/τ) (the exact solution for input held over one step),
 * which the submitter computes and sends as `leak` (so the kernel needs no `exp`). With absolute
 * refractoriness (§4.1.1 "refractoriness"): for `refractory` steps after a spike the potential is
 * held at `reset` and input is ignored. The potential rests at 0 and starts there.
 *
 * For each sample of the batch and each step t = 0 .. T−1, for each neuron j:
 *
 *     I_j = Σ_i W[j,i]·x_i(t) + Σ_k R[j,k]·s_k(t−1)          (s(−1) = 0; R optional)
 *     if refractory_j > 0:  refractory_j −= 1; u_j = reset; s_j(t) = 0
 *     else:                 u_j = β·u_j + I_j
 *                           if u_j >= threshold: s_j(t) = 1; u_j = reset; refractory_j = refractory
 *
 * Arithmetic, so that spike trains are reproducible bit for bit: each sum runs over i (then k) in
 * increasing order in binary64 and is rounded once to float32 (`Math.fround`); u_j = fround(β·u_j +
 * I_j) in binary64. Only IEEE-754 +, × and comparisons are used, all correctly rounded and fixed in
 * ECMAScript, so every JavaScript engine computes the same spikes. Terms with x_i = 0 or s_k = 0
 * are skipped: adding a zero product never changes a binary64 sum that starts at +0.
 *
 * Inputs are spikes (x ∈ {0, 1}, packed bits) or real-valued currents (float32).
 * Limits (`ERR_KERNEL_PAYLOAD_TOO_LARGE`): {@link MAX_LIF_NEURONS} neurons,
 * {@link MAX_LIF_INPUTS} inputs, {@link MAX_LIF_STEPS} steps, {@link MAX_LIF_BATCH} samples,
 * {@link MAX_LIF_TRAIN_BITS} spike bits in or out, {@link MAX_LIF_CURRENTS} current values, and
 * batch · T · neurons · (inputs + neurons if recurrent) multiply-adds up to MAX_NEURAL_MACS.
 */
import { KernelError } from './errors.ts'
import { MAX_NEURAL_MACS } from './mlp.ts'

/** Most neurons. @example MAX_LIF_NEURONS === 4096 */
export const MAX_LIF_NEURONS = 4096
/** Most input channels. @example MAX_LIF_INPUTS === 4096 */
export const MAX_LIF_INPUTS = 4096
/** Most time steps T. @example MAX_LIF_STEPS === 10_000 */
export const MAX_LIF_STEPS = 10_000
/** Most samples in one payload. @example MAX_LIF_BATCH === 1024 */
export const MAX_LIF_BATCH = 1024
/** Most spike bits in the input or output trains (64 MiB packed). @example MAX_LIF_TRAIN_BITS === 2 ** 29 */
export const MAX_LIF_TRAIN_BITS = 2 ** 29
/** Most float32 input currents (64 MiB). @example MAX_LIF_CURRENTS === 2 ** 24 */
export const MAX_LIF_CURRENTS = 2 ** 24

/** A LIF network. @example const net: LifNetwork = { in: 2, neurons: 1, weights: new Float32Array([0.6, 0.6]), leak: 0.9, threshold: 1, reset: 0, refractory: 0 } */
export interface LifNetwork {
  /** Input channels. */
  readonly in: number
  readonly neurons: number
  /** neurons × in, row-major: weights[j · in + i] from input i to neuron j. */
  readonly weights: Float32Array
  /** Optional neurons × neurons: recurrent[j · neurons + k] from neuron k (at t−1) to neuron j. */
  readonly recurrent?: Float32Array
  /** β = exp(−Δt/τ) in [0, 1]. */
  readonly leak: number
  readonly threshold: number
  /** Below the threshold. */
  readonly reset: number
  /** Steps held at reset after a spike (integer >= 0). */
  readonly refractory: number
}

/** Input trains: exactly one of `spikes` and `currents`. @example const x: LifInput = { batch: 1, steps: 3, spikes: new Uint8Array([1, 0, 3]) } */
export interface LifInput {
  readonly batch: number
  readonly steps: number
  /** batch × steps rows of ceil(in / 8) bytes, input i of a row in bit i % 8 of byte i / 8 (LSB first). */
  readonly spikes?: Uint8Array
  /** batch × steps × in float32 values. */
  readonly currents?: Float32Array
}

/** What a run yields. @example lifRun(net, x).counts[0] */
export interface LifResult {
  /** batch × steps rows of ceil(neurons / 8) bytes, packed as the input spikes are. */
  readonly spikes: Uint8Array
  /** batch × neurons spike counts. */
  readonly counts: Uint32Array
  /** batch × neurons membrane potentials after the last step. */
  readonly potentials: Float32Array
}

/**
 * Check a network and its input against each other and the limits; returns the multiply-adds.
 * Throws `KernelError`.
 *
 * @example
 * const macs = checkLif(net, input)
 */
export function checkLif (net: LifNetwork, input: LifInput): number {
  const ints: Array<[string, number, number]> = [['in', net.in, MAX_LIF_INPUTS], ['neurons', net.neurons, MAX_LIF_NEURONS], ['batch', input.batch, MAX_LIF_BATCH], ['steps', input.steps, MAX_LIF_STEPS]]
  for (const [name, n, max] of ints) {
    if (!Number.isSafeInteger(n) || n < 1) throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `${name} must be a positive integer, got ${n}`)
    if (n > max) throw new KernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE', `${name} is ${n}, more than ${max}`)
  }
  if (!Number.isSafeInteger(net.refractory) || net.refractory < 0 || net.refractory > MAX_LIF_STEPS) {
    throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `refractory must be an integer in [0, ${MAX_LIF_STEPS}], got ${net.refractory}`)
  }
  if (!(net.leak >= 0 && net.leak <= 1)) throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `leak must be in [0, 1], got ${net.leak}`)
  if (!Number.isFinite(net.threshold) || !Number.isFinite(net.reset)) throw new KernelError('ERR_KERNEL_NON_FINITE', 'threshold and reset must be finite')
  if (!(net.reset < net.threshold)) throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `reset (${net.reset}) must be below threshold (${net.threshold})`)
  if (net.weights.length !== net.neurons * net.in) throw new KernelError('ERR_KERNEL_DIMENSION_MISMATCH', `weights: ${net.weights.length} values is not ${net.neurons} × ${net.in}`)
  if (net.recurrent !== undefined && net.recurrent.length !== net.neurons * net.neurons) {
    throw new KernelError('ERR_KERNEL_DIMENSION_MISMATCH', `recurrent: ${net.recurrent.length} values is not ${net.neurons} × ${net.neurons}`)
  }
  const rows = input.batch * input.steps
  if ((input.spikes === undefined) === (input.currents === undefined)) throw new KernelError('ERR_KERNEL_BAD_PAYLOAD', 'give exactly one of spikes and currents')
  if (input.spikes !== undefined) {
    if (rows * net.in > MAX_LIF_TRAIN_BITS) throw new KernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE', `${rows * net.in} input spike bits, more than ${MAX_LIF_TRAIN_BITS}`)
    const rowBytes = Math.ceil(net.in / 8)
    if (input.spikes.length !== rows * rowBytes) throw new KernelError('ERR_KERNEL_DIMENSION_MISMATCH', `spikes: ${input.spikes.length} bytes is not ${input.batch} × ${input.steps} × ${rowBytes}`)
    const used = net.in % 8
    if (used !== 0) {
      for (let r = 0; r < rows; r++) {
        if (((input.spikes[r * rowBytes + rowBytes - 1] as number) >> used) !== 0) throw new KernelError('ERR_KERNEL_BAD_PAYLOAD', `spike row ${r} has non-zero padding bits`)
      }
    }
  } else if (input.currents !== undefined) {
    if (rows * net.in > MAX_LIF_CURRENTS) throw new KernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE', `${rows * net.in} input currents, more than ${MAX_LIF_CURRENTS}`)
    if (input.currents.length !== rows * net.in) throw new KernelError('ERR_KERNEL_DIMENSION_MISMATCH', `currents: ${input.currents.length} values is not ${input.batch} × ${input.steps} × ${net.in}`)
  }
  if (rows * net.neurons > MAX_LIF_TRAIN_BITS) throw new KernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE', `${rows * net.neurons} output spike bits, more than ${MAX_LIF_TRAIN_BITS}`)
  const macs = rows * net.neurons * (net.in + (net.recurrent === undefined ? 0 : net.neurons))
  if (macs > MAX_NEURAL_MACS) throw new KernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE', `${macs} multiply-adds, more than ${MAX_NEURAL_MACS}`)
  return macs
}

/**
 * Run the network over every sample's input train (see the module comment for the dynamics).
 *
 * @example
 * const net = { in: 1, neurons: 1, weights: new Float32Array([0.5]), leak: 1, threshold: 1, reset: 0, refractory: 0 }
 * lifRun(net, { batch: 1, steps: 4, spikes: new Uint8Array([1, 1, 1, 1]) }).spikes // [0, 1, 0, 1]
 */
export function lifRun (net: LifNetwork, input: LifInput): LifResult {
  checkLif(net, input)
  const { in: nIn, neurons: n, weights: w, recurrent: rec, refractory } = net
  const leak = Math.fround(net.leak)
  const threshold = Math.fround(net.threshold)
  const reset = Math.fround(net.reset)
  const { batch, steps } = input
  const inBytes = Math.ceil(nIn / 8)
  const outBytes = Math.ceil(n / 8)
  const spikesOut = new Uint8Array(batch * steps * outBytes)
  const counts = new Uint32Array(batch * n)
  const potentials = new Float32Array(batch * n)
  const u = new Float32Array(n)
  const wait = new Int32Array(n)
  const active = new Int32Array(nIn)
  const fired = new Int32Array(n)
  let firedCount = 0
  for (let b = 0; b < batch; b++) {
    u.fill(0)
    wait.fill(0)
    firedCount = 0
    for (let t = 0; t < steps; t++) {
      const row = b * steps + t
      // The inputs that are non-zero this step (all of them for currents, in increasing order).
      let nActive = 0
      if (input.spikes !== undefined) {
        const base = row * inBytes
        for (let i = 0; i < nIn; i++) if ((((input.spikes[base + (i >> 3)] as number) >> (i & 7)) & 1) === 1) active[nActive++] = i
      } else {
        const base = row * nIn
        for (let i = 0; i < nIn; i++) if ((input.currents as Float32Array)[base + i] !== 0) active[nActive++] = i
      }
      const currents = input.currents
      const xo = row * nIn
      const so = row * outBytes
      let newFired = 0
      for (let j = 0; j < n; j++) {
        if ((wait[j] as number) > 0) {
          wait[j] = (wait[j] as number) - 1
          u[j] = reset
          continue
        }
        const wo = j * nIn
        let acc = 0
        if (currents === undefined) {
          for (let a = 0; a < nActive; a++) acc += w[wo + (active[a] as number)] as number
        } else {
          for (let a = 0; a < nActive; a++) {
            const i = active[a] as number
            acc += (w[wo + i] as number) * (currents[xo + i] as number)
          }
        }
        if (rec !== undefined) {
          const ro = j * n
          for (let a = 0; a < firedCount; a++) acc += rec[ro + (fired[a] as number)] as number
        }
        const v = Math.fround(leak * (u[j] as number) + Math.fround(acc))
        if (!Number.isFinite(v)) throw new KernelError('ERR_KERNEL_NON_FINITE', `sample ${b}, step ${t}: neuron ${j}'s potential overflows float32`)
        if (v >= threshold) {
          u[j] = reset
          wait[j] = refractory
          spikesOut[so + (j >> 3)] = (spikesOut[so + (j >> 3)] as number) | (1 << (j & 7))
          counts[b * n + j] = (counts[b * n + j] as number) + 1
          // fired[] still lists step t−1's spikes (read above); collect step t's past its end.
          newFired++
        } else {
          u[j] = v
        }
      }
      // Step t's spikes become the recurrent input of step t+1, in increasing neuron order.
      firedCount = 0
      if (newFired > 0) {
        for (let j = 0; j < n; j++) if ((((spikesOut[so + (j >> 3)] as number) >> (j & 7)) & 1) === 1) fired[firedCount++] = j
      }
    }
    potentials.set(u, b * n)
  }
  return { spikes: spikesOut, counts, potentials }
}
