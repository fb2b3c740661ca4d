/**
 * The `kernels` benchmark group: each kernel family measures itself against a peer in the same run
 * (hnswlib-node from bench/peers/, node:crypto for AES-GCM), so the figures are ratios on a noisy
 * machine. `npm run bench -- --only kernels`.
 */
import type { Figure } from './run.ts'

export async function run (): Promise<Figure[]> {
  const parts = ['./kernels-hnsw.ts', './kernels-crypto.ts', './kernels-wasm.ts']
  const figures: Figure[] = []
  for (const part of parts) {
    const mod = await import(part) as { run: () => Promise<Figure[]> }
    figures.push(...await mod.run())
  }
  return figures
}
