/**
 * A batched forward pass through a small multi-layer perceptron: the `mlp` model of the
 * `neural_inference` kernel (neural.ts carries it on the wire).
 *
 * Layer k maps `in` values to `out` values: z = W·x + b (W is out × in, row-major), then the
 * layer's activation. Arithmetic, in this order, so that the result does not depend on the engine
 * more than the activations make it: each dot product is summed left to right in binary64 (float32
 * × float32 is exact in binary64), the bias added, and the sum rounded once to float32
 * (`Math.fround`); activations are evaluated in binary64 and rounded to float32. relu and linear
 * are then exact and engine-independent; tanh, sigmoid and softmax call `Math.tanh` / `Math.exp`,
 * which ECMAScript leaves implementation-approximated, which is one reason the comparator uses a
 * tolerance (neural.ts).
 *
 * Limits (`ERR_KERNEL_PAYLOAD_TOO_LARGE`): {@link MAX_MLP_LAYERS} layers, widths up to
 * {@link MAX_MLP_WIDTH}, {@link MAX_MLP_ROWS} rows, {@link MAX_MLP_PARAMS} weights and biases in all,
 * and rows × Σ in·out multiply-adds up to {@link MAX_NEURAL_MACS}.
 */
import { KernelError } from './errors.ts'

/** The activations a layer may use. @example MLP_ACTIVATIONS.includes('relu') */
export const MLP_ACTIVATIONS = ['relu', 'tanh', 'sigmoid', 'linear', 'softmax'] as const

/** One of {@link MLP_ACTIVATIONS}. @example const a: MlpActivation = 'softmax' */
export type MlpActivation = typeof MLP_ACTIVATIONS[number]

/** Most layers in one network. @example MAX_MLP_LAYERS === 32 */
export const MAX_MLP_LAYERS = 32
/** Widest layer input or output. @example MAX_MLP_WIDTH === 4096 */
export const MAX_MLP_WIDTH = 4096
/** Most input rows in one payload. @example MAX_MLP_ROWS === 4096 */
export const MAX_MLP_ROWS = 4096
/** Most weights plus biases in one network (2^24 float32 values, 64 MiB). @example MAX_MLP_PARAMS === 16_777_216 */
export const MAX_MLP_PARAMS = 2 ** 24
/**
 * Most multiply-adds in one `neural_inference` payload, MLP or LIF (2^31: a few seconds of a
 * JavaScript worker). @example MAX_NEURAL_MACS === 2 ** 31
 */
export const MAX_NEURAL_MACS = 2 ** 31

/** One dense layer. @example const l: MlpLayer = { in: 2, out: 1, weights: new Float32Array([1, -1]), bias: new Float32Array([0]), activation: 'relu' } */
export interface MlpLayer {
  readonly in: number
  readonly out: number
  /** out × in, row-major: weights[j · in + i] connects input i to output j. */
  readonly weights: Float32Array
  /** out values. */
  readonly bias: Float32Array
  readonly activation: MlpActivation
}

/**
 * Check a network and a batch against each other and the limits; returns the multiply-adds the
 * pass costs. Throws `KernelError`.
 *
 * @example
 * const macs = checkMlp(layers, rows, input.length)
 */
export function checkMlp (layers: readonly MlpLayer[], rows: number, inputValues: number): number {
  if (layers.length === 0) throw new KernelError('ERR_KERNEL_BAD_PAYLOAD', 'an MLP has at least one layer')
  if (layers.length > MAX_MLP_LAYERS) throw new KernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE', `${layers.length} layers, more than ${MAX_MLP_LAYERS}`)
  if (!Number.isSafeInteger(rows) || rows < 1) throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `rows must be a positive integer, got ${rows}`)
  if (rows > MAX_MLP_ROWS) throw new KernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE', `${rows} rows, more than ${MAX_MLP_ROWS}`)
  let params = 0
  let macsPerRow = 0
  for (let k = 0; k < layers.length; k++) {
    const l = layers[k] as MlpLayer
    for (const [name, n] of [['in', l.in], ['out', l.out]] as const) {
      if (!Number.isSafeInteger(n) || n < 1) throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `layers[${k}].${name} must be a positive integer, got ${n}`)
      if (n > MAX_MLP_WIDTH) throw new KernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE', `layers[${k}].${name} is ${n}, wider than ${MAX_MLP_WIDTH}`)
    }
    if (!(MLP_ACTIVATIONS as readonly string[]).includes(l.activation)) {
      throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `layers[${k}].activation must be one of ${MLP_ACTIVATIONS.join(', ')}`)
    }
    if (k > 0 && l.in !== (layers[k - 1] as MlpLayer).out) {
      throw new KernelError('ERR_KERNEL_DIMENSION_MISMATCH', `layers[${k}].in is ${l.in} but layers[${k - 1}].out is ${(layers[k - 1] as MlpLayer).out}`)
    }
    if (l.weights.length !== l.in * l.out) throw new KernelError('ERR_KERNEL_DIMENSION_MISMATCH', `layers[${k}].weights: ${l.weights.length} values is not ${l.out} × ${l.in}`)
    if (l.bias.length !== l.out) throw new KernelError('ERR_KERNEL_DIMENSION_MISMATCH', `layers[${k}].bias: ${l.bias.length} values is not ${l.out}`)
    params += l.weights.length + l.bias.length
    macsPerRow += l.in * l.out
  }
  if (params > MAX_MLP_PARAMS) throw new KernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE', `${params} parameters, more than ${MAX_MLP_PARAMS}`)
  const first = layers[0] as MlpLayer
  if (inputValues !== rows * first.in) throw new KernelError('ERR_KERNEL_DIMENSION_MISMATCH', `input: ${inputValues} values is not ${rows} × ${first.in}`)
  const macs = rows * macsPerRow
  if (macs > MAX_NEURAL_MACS) throw new KernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE', `${macs} multiply-adds, more than ${MAX_NEURAL_MACS}`)
  return macs
}

/**
 * The forward pass of a batch: `rows × layers[0].in` inputs (row-major) to `rows × last.out`
 * outputs. Throws `KernelError` for a network or batch that does not fit (see {@link checkMlp}), and
 * `ERR_KERNEL_NON_FINITE` if a layer overflows float32.
 *
 * @example
 * const y = mlpForward([{ in: 2, out: 1, weights: new Float32Array([1, 1]), bias: new Float32Array([0]), activation: 'linear' }], new Float32Array([1, 2]), 1)
 * y[0] === 3
 */
export function mlpForward (layers: readonly MlpLayer[], input: Float32Array, rows: number): Float32Array {
  checkMlp(layers, rows, input.length)
  let x = input
  for (let k = 0; k < layers.length; k++) {
    const { in: n, out: m, weights: w, bias: b, activation } = layers[k] as MlpLayer
    const y = new Float32Array(rows * m)
    for (let r = 0; r < rows; r++) {
      const xo = r * n
      const yo = r * m
      for (let j = 0; j < m; j++) {
        const wo = j * n
        let acc = 0
        for (let i = 0; i < n; i++) acc += (w[wo + i] as number) * (x[xo + i] as number)
        const z = Math.fround(acc + (b[j] as number))
        if (!Number.isFinite(z)) throw new KernelError('ERR_KERNEL_NON_FINITE', `layer ${k}, row ${r}, output ${j} overflows float32`)
        y[yo + j] = z
      }
      activate(y, yo, m, activation)
    }
    x = y
  }
  return x
}

/** Apply an activation in place to y[offset .. offset + n). */
function activate (y: Float32Array, offset: number, n: number, activation: MlpActivation): void {
  const end = offset + n
  switch (activation) {
    case 'linear':
      return
    case 'relu':
      // z > 0 ? z : 0 also maps −0 to +0, so relu outputs have one encoding.
      for (let i = offset; i < end; i++) if (!((y[i] as number) > 0)) y[i] = 0
      return
    case 'tanh':
      for (let i = offset; i < end; i++) y[i] = Math.tanh(y[i] as number)
      return
    case 'sigmoid':
      for (let i = offset; i < end; i++) y[i] = 1 / (1 + Math.exp(-(y[i] as number)))
      return
    case 'softmax': {
      // Subtract the row's maximum first (the usual overflow guard); the sum is then >= 1.
      let max = -Infinity
      for (let i = offset; i < end; i++) if ((y[i] as number) > max) max = y[i] as number
      const e = new Float64Array(n)
      let sum = 0
      for (let i = 0; i < n; i++) {
        e[i] = Math.exp((y[offset + i] as number) - max)
        sum += e[i] as number
      }
      for (let i = 0; i < n; i++) y[offset + i] = (e[i] as number) / sum
    }
  }
}
