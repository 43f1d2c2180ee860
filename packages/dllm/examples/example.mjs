import { generate, MaskedDiffusionLM, maskedDiffusionLoss, maskTokens } from '@tessera/dllm';
import { createDevice, tensor } from '@tessera/tensor-webgpu';

const dev = await createDevice();
// A Llama-style mask predictor without the causal mask; token 63 is the mask token.
const config = { vocabSize: 64, dModel: 64, layers: 2, heads: 4, maxSeqLen: 32, seed: 1 };
const model = new MaskedDiffusionLM(config, { maskId: 63 });

// Training (LLaDA, MDLM): each row masks its tokens with a rate t ~ U(0, 1]; the loss is the
// cross-entropy of the masked tokens, weighted 1/t, per token.
const clean = tensor(
  Int32Array.from({ length: 4 * 32 }, (_, i) => i % 50),
  { shape: [4, 32] },
);
const { input, masked, t } = maskTokens(clean, { maskId: 63, seed: 0 });
const loss = maskedDiffusionLoss(model.forward(input), clean, masked, t);
loss.backward(); // then an optimizer step (e.g. AdamW from @tessera/optim)

// Sampling: 16 tokens after a prompt in 4 steps, committing the 4 most confident per step.
const prompt = [1, 2, 3];
const { tokens, forwardPasses } = await generate(model, prompt, { length: 16, steps: 4 });
console.log(
  `loss ${(await loss.item()).toFixed(3)} nats/token; ${tokens.length} tokens in ${forwardPasses} forward passes: ${tokens.join(' ')}`,
);
dev.destroy();
