/**
 * ONNX Runtime's CPU execution provider as a matmul peer, when `onnxruntime-node` is installed
 * (it is not a dependency: its binaries for every platform weigh ~290 MB). Install it beside the
 * repository to compare: `npm install --no-save onnxruntime-node --onnxruntime-node-install=skip`
 * (the flag skips its CUDA download). The model is one MatMul node, written here as ONNX's
 * protobuf (onnx.proto: ModelProto → GraphProto → NodeProto, ValueInfoProto).
 */

/** Protobuf wire format: a varint, a length-delimited field, a varint field. */
const varint = (n: number): number[] => {
  const out: number[] = [];
  for (; n > 127; n = Math.floor(n / 128)) out.push((n % 128) | 128);
  out.push(n);
  return out;
};
const bytesField = (field: number, body: number[] | string): number[] => {
  const b = typeof body === 'string' ? [...new TextEncoder().encode(body)] : body;
  return [...varint((field << 3) | 2), ...varint(b.length), ...b];
};
const intField = (field: number, n: number): number[] => [...varint(field << 3), ...varint(n)];

/** A float tensor's ValueInfoProto: name and shape. */
function valueInfo(name: string, shape: readonly number[]): number[] {
  const dims = shape.flatMap((d) => bytesField(1, intField(1, d))); // Dimension.dim_value
  const tensorType = [...intField(1, 1), ...bytesField(2, dims)]; // elem_type FLOAT, shape
  return [...bytesField(1, name), ...bytesField(2, bytesField(1, tensorType))];
}

/** The serialized ONNX model Y = A @ B for A [m, k], B [k, n] (opset 13). */
export function matmulModel(m: number, k: number, n: number): Uint8Array {
  const node = [
    ...bytesField(1, 'A'),
    ...bytesField(1, 'B'),
    ...bytesField(2, 'Y'),
    ...bytesField(4, 'MatMul'),
  ];
  const graph = [
    ...bytesField(1, node),
    ...bytesField(2, 'matmul'),
    ...bytesField(11, valueInfo('A', [m, k])),
    ...bytesField(11, valueInfo('B', [k, n])),
    ...bytesField(12, valueInfo('Y', [m, n])),
  ];
  const opset = [...bytesField(1, ''), ...intField(2, 13)];
  return Uint8Array.from([...intField(1, 8), ...bytesField(7, graph), ...bytesField(8, opset)]);
}

/** The part of onnxruntime-node's API used here. */
interface Ort {
  InferenceSession: {
    create(
      model: Uint8Array,
      options: object,
    ): Promise<{ run(feeds: object): Promise<Record<string, { data: unknown }>> }>;
  };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => object;
}

/** A runner of A @ B on ONNX Runtime's CPU provider with `threads` intra-op threads, or undefined when it is not installed. */
export async function ortMatmul(
  m: number,
  k: number,
  n: number,
  threads: number,
): Promise<{ run: () => Promise<Float32Array>; a: Float32Array; b: Float32Array } | undefined> {
  let ort: Ort;
  try {
    const name = 'onnxruntime-node'; // a variable: not resolved when type-checking or bundling
    ort = (await import(name)) as Ort;
  } catch {
    return undefined;
  }
  const session = await ort.InferenceSession.create(matmulModel(m, k, n), {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  const a = Float32Array.from({ length: m * k }, () => Math.random() - 0.5);
  const b = Float32Array.from({ length: k * n }, () => Math.random() - 0.5);
  const feeds = {
    A: new ort.Tensor('float32', a, [m, k]),
    B: new ort.Tensor('float32', b, [k, n]),
  };
  return {
    a,
    b,
    run: async () => (await session.run(feeds)).Y!.data as Float32Array,
  };
}
