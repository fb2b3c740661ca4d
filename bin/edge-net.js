#!/usr/bin/env -S node --max-semi-space-size=4
/**
 * The `edge-net` launcher. Plain JavaScript on purpose, and the only file that is:
 *
 * - It turns on Node's compile cache (`module.enableCompileCache()`, on disk under the OS temp
 *   directory, or NODE_COMPILE_CACHE) before the first .ts file loads. On Node 24 the cache also
 *   keeps the type-stripped output of our .ts sources, so from the second start on Node never loads
 *   its TypeScript stripper (amaro, ~17 MB of WebAssembly memory) nor compiles the module graph
 *   from source: an idle `edge-net node` measured 197 -> 165 MB resident with it alone
 *   (bench/network.ts idle()). A .ts launcher could not do this: it is itself stripped first.
 * - `--max-semi-space-size=4` (MB, in the shebang; NODE_FLAGS in src/host/demo.ts for child
 *   processes): V8 grows the young generation's semi-spaces to 16 MB each while the libp2p module
 *   graph loads and never gives them back. Measured on an idle node (VmRSS): 146 MB uncapped, 132
 *   at 8, 124 at 4, 119 at 2. At 2 the 5-node throughput run (bench/network.ts cluster()) lost
 *   ~20 % (more scavenges, more promotion under load); at 4 and 8 it stayed within this machine's
 *   noise. Kernel worker threads keep their own young generation (resourceLimits in
 *   src/adapters/workers/worker-pool.ts).
 *
 * Then it runs src/cli/main.ts, where everything else lives.
 */
import module from 'node:module'

const cache = module.enableCompileCache?.()
// Worker threads (the kernel pool) read the cache directory from the environment.
if (cache?.directory !== undefined) process.env.NODE_COMPILE_CACHE ??= cache.directory
const { main } = await import('../src/cli/main.ts')
process.exitCode = await main(process.argv.slice(2))
