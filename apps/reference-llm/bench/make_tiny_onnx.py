"""Exports a reference-llm checkpoint to ONNX for transformers.js (bench/decode-vs-transformers-js.ts).

transformers.js runs ONNX models only: it cannot read the checkpoint's safetensors. This script
loads the step folder with Hugging Face transformers (LlamaForCausalLM.from_pretrained: the
folder's config.json and Llama parameter names), checks that a plain PyTorch Llama with an
explicit KV cache gives the same logits, and exports that one to ONNX with the inputs and
outputs transformers.js feeds a decoder (input_ids, attention_mask, past_key_values.{i}.key /
.value -> logits, present.{i}.key / .value). It writes OUT/config.json, OUT/tokenizer.json,
OUT/tokenizer_config.json, OUT/model.safetensors (for Tessera) and OUT/onnx/model.onnx.

  /tmp/venv/bin/python bench/make_tiny_onnx.py runs/tiny/checkpoints/step-000678 bench/fixtures/tiny-onnx

Needs torch, transformers, onnx and onnxscript (a venv; see the README's benchmark section).
"""

import json
import os
import shutil
import sys

import torch
from transformers import LlamaForCausalLM


class KVLlama(torch.nn.Module):
    """The Llama forward pass of transformers' modeling_llama.py, with the cache as tensors."""

    def __init__(self, hf):
        super().__init__()
        c = hf.config
        self.hf = hf
        self.layers = c.num_hidden_layers
        self.heads = c.num_attention_heads
        self.kv_heads = c.num_key_value_heads
        self.head_dim = c.head_dim
        self.eps = c.rms_norm_eps
        inv = 1.0 / (c.rope_parameters["rope_theta"] ** (torch.arange(0, self.head_dim, 2).float() / self.head_dim))
        self.register_buffer("inv_freq", inv, persistent=False)

    def norm(self, x, weight):
        return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))

    def rope(self, x, positions):
        angles = positions[:, None].float() * self.inv_freq[None, :]
        cos = torch.cat([angles.cos(), angles.cos()], -1)
        sin = torch.cat([angles.sin(), angles.sin()], -1)
        half = self.head_dim // 2
        rotated = torch.cat([-x[..., half:], x[..., :half]], -1)
        return x * cos + rotated * sin

    def forward(self, input_ids, attention_mask, *past):
        m = self.hf.model
        b, t = input_ids.shape
        past_len = past[0].shape[2]
        positions = torch.arange(t) + past_len
        h = m.embed_tokens(input_ids)
        total = past_len + t
        causal = torch.ones(t, total, dtype=torch.bool).tril(diagonal=past_len)
        presents = []
        for i, layer in enumerate(m.layers):
            a = layer.self_attn
            x = self.norm(h, layer.input_layernorm.weight)
            q = a.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
            k = a.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
            v = a.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
            q, k = self.rope(q, positions), self.rope(k, positions)
            k = torch.cat([past[2 * i], k], 2)
            v = torch.cat([past[2 * i + 1], v], 2)
            presents += [k, v]
            group = self.heads // self.kv_heads
            kk = k.repeat_interleave(group, 1)
            vv = v.repeat_interleave(group, 1)
            scores = (q @ kk.transpose(-1, -2)) / self.head_dim**0.5
            scores = scores.masked_fill(~causal, float("-inf"))
            out = (scores.softmax(-1) @ vv).transpose(1, 2).reshape(b, t, -1)
            h = h + a.o_proj(out)
            x = self.norm(h, layer.post_attention_layernorm.weight)
            f = layer.mlp
            h = h + f.down_proj(torch.nn.functional.silu(f.gate_proj(x)) * f.up_proj(x))
        logits = self.hf.lm_head(self.norm(h, m.norm.weight))
        return (logits, *presents)


def main(step_folder, out):
    hf = LlamaForCausalLM.from_pretrained(step_folder, torch_dtype=torch.float32).eval()
    model = KVLlama(hf).eval()
    ids = torch.tensor([[1, 2, 3, 4, 5, 6, 7, 8]])
    empty = [torch.zeros(1, model.kv_heads, 0, model.head_dim)] * (2 * model.layers)
    with torch.no_grad():
        want = hf(ids).logits
        got = model(ids, torch.ones_like(ids), *empty)
        # The cache: the first 5 tokens, then the last 3 against it.
        first = model(ids[:, :5], torch.ones(1, 5, dtype=torch.long), *empty)
        rest = model(ids[:, 5:], torch.ones_like(ids), *first[1:])
    err = max((got[0] - want).abs().max().item(), (rest[0] - want[:, 5:]).abs().max().item())
    print(f"explicit-cache Llama against transformers' LlamaForCausalLM: max |logit diff| {err:.2e}")
    assert err < 1e-4, err

    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    names_in = ["input_ids", "attention_mask"]
    names_out = ["logits"]
    axes = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "total"}, "logits": {0: "batch", 1: "sequence"}}
    for i in range(model.layers):
        for kind in ("key", "value"):
            names_in.append(f"past_key_values.{i}.{kind}")
            names_out.append(f"present.{i}.{kind}")
            axes[names_in[-1]] = {0: "batch", 2: "past"}
            axes[names_out[-1]] = {0: "batch", 2: "total"}
    past = [torch.zeros(1, model.kv_heads, 3, model.head_dim)] * (2 * model.layers)
    torch.onnx.export(
        model,
        (ids[:, :2], torch.ones(1, 5, dtype=torch.long), *past),
        os.path.join(out, "onnx", "model.onnx"),
        input_names=names_in,
        output_names=names_out,
        dynamic_axes=axes,
        opset_version=17,
        dynamo=False,
    )
    for name in ("config.json", "tokenizer.json", "model.safetensors"):
        shutil.copy(os.path.join(step_folder, name), os.path.join(out, name))
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": hf.config.max_position_embeddings}, f)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
