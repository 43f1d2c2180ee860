#!/usr/bin/python3
"""Training throughput of the `tiny` preset's model in PyTorch 1.13 on the CPU, for comparison
with Tessera (bench/throughput.ts runs both in one go).

    /usr/bin/python3 apps/reference-llm/bench/torch_throughput.py STEPS [THREADS]

THREADS defaults to every core (Tessera's lavapipe uses them all too; Debian's build would
otherwise start with one).

Same architecture (Llama-style: RMSNorm, RoPE, GQA, SwiGLU, tied embeddings), same batch
(32 × 64 tokens), AdamW, gradient clipping at 1.0. Prints tokens per second as JSON.
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

torch.manual_seed(0)
V, D, L, H, KV, T, B = 384, 48, 2, 4, 2, 64, 32
HD = D // H
HIDDEN = ((8 * D // 3 + 31) // 32) * 32


class RMSNorm(torch.nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * self.weight


inv = 1.0 / (10000 ** (torch.arange(0, HD, 2).float() / HD))
ang = torch.outer(torch.arange(T).float(), inv)
COS, SIN = torch.cat((ang.cos(), ang.cos()), -1), torch.cat((ang.sin(), ang.sin()), -1)


def rope(x):
    a, b = x[..., : HD // 2], x[..., HD // 2:]
    return x * COS + torch.cat((-b, a), -1) * SIN


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.n1, self.n2 = RMSNorm(D), RMSNorm(D)
        self.q = torch.nn.Linear(D, H * HD, bias=False)
        self.k = torch.nn.Linear(D, KV * HD, bias=False)
        self.v = torch.nn.Linear(D, KV * HD, bias=False)
        self.o = torch.nn.Linear(H * HD, D, bias=False)
        self.gate = torch.nn.Linear(D, HIDDEN, bias=False)
        self.up = torch.nn.Linear(D, HIDDEN, bias=False)
        self.down = torch.nn.Linear(HIDDEN, D, bias=False)

    def forward(self, x):
        h = self.n1(x)
        q = rope(self.q(h).view(B, T, H, HD).transpose(1, 2))
        k = rope(self.k(h).view(B, T, KV, HD).transpose(1, 2)).repeat_interleave(H // KV, 1)
        v = self.v(h).view(B, T, KV, HD).transpose(1, 2).repeat_interleave(H // KV, 1)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True) if hasattr(F, "scaled_dot_product_attention") else \
            torch.softmax((q @ k.transpose(-1, -2)) / HD ** 0.5 + torch.full((T, T), float("-inf")).triu(1), -1) @ v
        x = x + self.o(a.transpose(1, 2).reshape(B, T, H * HD))
        h = self.n2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(V, D)
        self.blocks = torch.nn.ModuleList([Block() for _ in range(L)])
        self.norm = RMSNorm(D)

    def forward(self, ids):
        x = self.emb(ids)
        for b in self.blocks:
            x = b(x)
        return self.norm(x) @ self.emb.weight.T


steps = int(sys.argv[1]) if len(sys.argv) > 1 else 30
torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else os.cpu_count())
model = Model()
opt = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.95), weight_decay=0.1)
data = torch.randint(0, V, (steps + 5, B, T + 1))
for i in range(steps + 5):
    if i == 5:
        start = time.perf_counter()  # after warm-up
    x, y = data[i, :, :-1], data[i, :, 1:]
    loss = F.cross_entropy(model(x).reshape(-1, V), y.reshape(-1))
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
elapsed = time.perf_counter() - start
print(json.dumps({"tokens_per_second": steps * B * T / elapsed, "threads": torch.get_num_threads(), "params": sum(p.numel() for p in model.parameters())}))
