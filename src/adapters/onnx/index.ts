/**
 * The ONNX embedding-model adapter (Node side): load a model package an operator installed and use
 * it as an `Embedder` in the `embedding` and `semantic_match` kernels.
 *
 * @example
 * import { loadOnnxEmbedder } from 'edge-net/src/adapters/onnx/index.ts'
 * const onnx = await loadOnnxEmbedder({ modelDir: '/opt/edge-net/models/all-MiniLM-L6-v2' })
 */
export { loadOnnxEmbedder, poolAndNormalise, ONNX_DEFAULT_BATCH } from './onnx-embedder.ts'
export type { OnnxEmbedderInit, OrtModule } from './onnx-embedder.ts'
export { readModelPackage, parseEmbedderConfig, modelPackageId, MAX_MODEL_BYTES, MAX_TOKENS_LIMIT } from './model-package.ts'
export type { ModelPackage, ModelSource, OnnxEmbedderConfig, OnnxPooling } from './model-package.ts'
