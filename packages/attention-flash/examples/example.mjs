import { attention, decodeAttention, KVCache } from '@tessera/attention-flash';
import { createDevice, randn, slice, sum } from '@tessera/tensor-webgpu';

const dev = await createDevice();
// Grouped-query attention: 8 query heads share 2 key/value heads.
const q = randn([1, 8, 128, 64], { seed: 1, requiresGrad: true }); // [batch, heads, seq, headDim]
const k = randn([1, 2, 128, 64], { seed: 2, requiresGrad: true });
const v = randn([1, 2, 128, 64], { seed: 3, requiresGrad: true });

const out = attention(q, k, v, { causal: true, window: 64 }); // sliding-window causal attention
sum(out).backward(); // flash backward: dQ, dK, dV recomputed from the saved log-sum-exp
console.log('out', out.shape, 'dK', k.grad.shape);

// Incremental decoding: append each new token's keys/values, attend with one query.
const cache = new KVCache({ rows: 1, kvHeads: 2, headDim: 64 });
cache.append(slice(k.detach(), 2, 0, 127), slice(v.detach(), 2, 0, 127)); // the prompt
cache.append(slice(k.detach(), 2, 127), slice(v.detach(), 2, 127)); // the next token
const next = decodeAttention(slice(q.detach(), 2, 127), cache, { causal: true });
console.log('decoded', next.shape, 'cache lengths', cache.lengths, 'capacity', cache.capacity);
dev.destroy();
