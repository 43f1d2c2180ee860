import {
  defineOp,
  entry1d,
  grid1d,
  storageBindings,
  type Tensor,
  Uniforms,
} from '@tessera/tensor-webgpu';

const scaleOp = defineOp<{ factor: number }>({
  name: 'scale',
  outputs: ([x]) => [{ shape: x!.shape, dtype: x!.dtype }],
  wgsl: ([x], _outs, { factor }) => {
    const u = new Uniforms()
      .u32(
        'n',
        x!.shape.reduce((a, b) => a * b, 1),
      )
      .f32('factor', factor);
    return {
      key: 'scale:f32', // identifies the WGSL text; sizes travel in the uniforms
      uniforms: u,
      workgroups: grid1d(x!.shape.reduce((a, b) => a * b, 1)),
      code: () =>
        `${u.declaration(2)}${storageBindings([['x', 'f32']], [['y', 'f32']])}${entry1d(
          '  if (i < P.n) { y[i] = x[i] * P.factor; }',
        )}`,
    };
  },
  cpu: ([x], [y], { factor }) => {
    for (let i = 0; i < y!.data.length; i++) y!.data[i] = x!.data[i]! * factor;
  },
  backward: ([g], { params }) => [scale(g!, params.factor)],
});

export function scale(x: Tensor, factor: number): Tensor {
  return scaleOp([x], { factor })[0]!;
}
