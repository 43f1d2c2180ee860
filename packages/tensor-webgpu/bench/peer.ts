/**
 * The peer library measured in the same run: TensorFlow.js's WebGPU backend, on the same Dawn
 * instance (Node has no navigator.gpu, so it is given Dawn's). Loaded through variable
 * specifiers: tfjs ships an older @webgpu/types whose globals would clash with ours.
 */

/** The slice of tfjs-core the benchmarks use. */
export interface TfTensor {
  dispose(): void;
}
export interface Tf {
  randomNormal(shape: number[]): TfTensor;
  ones(shape: number[]): TfTensor;
  matMul(a: TfTensor, b: TfTensor): TfTensor;
  add(a: TfTensor, b: TfTensor | number): TfTensor;
  softmax(x: TfTensor): TfTensor;
  tidy(fn: () => void): void;
}

export interface Peer {
  tf: Tf;
  /** Submits queued work and waits for the GPU. */
  sync(): Promise<void>;
}

export async function loadTfjs(gpu: GPU): Promise<Peer> {
  (globalThis as { navigator?: unknown }).navigator = { gpu, userAgent: 'node' };
  const core = '@tensorflow/tfjs-core';
  const webgpu = '@tensorflow/tfjs-backend-webgpu';
  const tf = await import(core);
  await import(webgpu);
  // Without this, tfjs runs ops on small tensors on the CPU, which would not measure WebGPU.
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  await tf.setBackend('webgpu');
  await tf.ready();
  const backend = tf.backend() as {
    device: GPUDevice;
    ensureCommandEncoderReady(): void;
    endComputePassEncoder(): void;
    submitQueue(): void;
  };
  return {
    tf: tf as Tf,
    sync: async () => {
      // What tfjs itself does before reading data back.
      backend.ensureCommandEncoderReady();
      backend.endComputePassEncoder();
      backend.submitQueue();
      await backend.device.queue.onSubmittedWorkDone();
    },
  };
}
