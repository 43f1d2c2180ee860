import { Rope } from '@tessera/rope';
import { createDevice, randn } from '@tessera/tensor-webgpu';

const dev = await createDevice();
// Llama-3.1 style: theta 500000, context stretched 8× beyond the 8192 positions it was trained on.
const rope = new Rope({
  dim: 64,
  theta: 500_000,
  maxPositions: 1024,
  convention: 'half', // Hugging Face Llama layout; 'interleaved' for Meta's original checkpoints
  scaling: { type: 'llama3', factor: 8, originalMaxPositions: 8192 },
});

const q = randn([1, 8, 16, 64], { seed: 1 }); // [batch, heads, seq, headDim]
const rotated = rope.apply(q); // positions 0..15
const next = rope.apply(randn([1, 8, 1, 64], { seed: 2 }), { offset: 16 }); // decoding position 16
console.log(rotated.shape, next.shape);
dev.destroy();
