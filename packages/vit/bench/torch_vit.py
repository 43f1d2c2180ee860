#!/usr/bin/python3
"""Images per second of the reference app's MNIST ViT in PyTorch 1.13 on the CPU, for comparison
with Tessera (bench/index.ts runs both in one go).

    /usr/bin/python3 packages/vit/bench/torch_vit.py STEPS [THREADS]

THREADS defaults to every core (Tessera's lavapipe uses them all too).

Same model as `reference-llm vit train` builds: 28x28 grey images in 7x7 patches (a strided
convolution), a class token, learned positions, 4 pre-LayerNorm blocks of width 64 with 4 heads
(no biases in the attention projections, as Tessera's trunk) and a GELU MLP of 128, a final
LayerNorm and a linear classifier; AdamW and gradient clipping at 1.0, batch 128. Inference: the
forward pass in batches of 500 without gradients. Prints JSON.
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

torch.manual_seed(0)
D, L, H, P, FF, B, EVAL = 64, 4, 4, 7, 128, 128, 500
N = (28 // P) ** 2


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.n1 = torch.nn.LayerNorm(D, eps=1e-6)
        self.qkv = torch.nn.Linear(D, 3 * D, bias=False)
        self.o = torch.nn.Linear(D, D, bias=False)
        self.n2 = torch.nn.LayerNorm(D, eps=1e-6)
        self.fc = torch.nn.Linear(D, FF)
        self.proj = torch.nn.Linear(FF, D)

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = self.qkv(self.n1(x)).reshape(b, t, 3, H, D // H).permute(2, 0, 3, 1, 4)
        a = F.softmax(q @ k.transpose(-1, -2) / (D // H) ** 0.5, -1) @ v
        x = x + self.o(a.transpose(1, 2).reshape(b, t, D))
        return x + self.proj(F.gelu(self.fc(self.n2(x))))


class ViT(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.patch = torch.nn.Conv2d(1, D, P, stride=P)
        self.cls = torch.nn.Parameter(torch.zeros(1, 1, D))
        self.pos = torch.nn.Parameter(torch.zeros(1, N + 1, D))
        self.blocks = torch.nn.Sequential(*[Block() for _ in range(L)])
        self.norm = torch.nn.LayerNorm(D, eps=1e-6)
        self.head = torch.nn.Linear(D, 10)

    def forward(self, x):
        p = self.patch(x).flatten(2).transpose(1, 2)
        h = torch.cat([self.cls.expand(x.shape[0], 1, D), p], 1) + self.pos
        return self.head(self.norm(self.blocks(h))[:, 0])


def main():
    steps = int(sys.argv[1])
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else os.cpu_count()
    torch.set_num_threads(threads)
    model = ViT()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    x, y = torch.randn(B, 1, 28, 28), torch.randint(0, 10, (B,))

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    train = steps * B / (time.perf_counter() - t0)
    images = torch.randn(EVAL, 1, 28, 28)
    with torch.no_grad():
        model(images).argmax(-1)
        t0 = time.perf_counter()
        for _ in range(4):
            model(images).argmax(-1).tolist()
        infer = 4 * EVAL / (time.perf_counter() - t0)
    print(json.dumps({'train_images_per_second': train, 'inference_images_per_second': infer,
                      'threads': threads, 'parameters': sum(p.numel() for p in model.parameters())}))


if __name__ == '__main__':
    main()
