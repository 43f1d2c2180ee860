import { Linear, Module } from '@tessera/nn';
import { type Device, gelu, reshape, type Tensor } from '@tessera/tensor-webgpu';

/**
 * The baseline `vit train` measures the ViT against: a multilayer perceptron on the raw pixels,
 * flattened image → `hidden` → `hidden` → classes with GELU between (no convolution, no
 * attention). images f32 [B, C, H, W] → logits [B, classes].
 */
export class MlpClassifier extends Module {
  fc1: Linear;
  fc2: Linear;
  fc3: Linear;

  constructor(inputs: number, hidden: number, classes: number, device: Device, seed = 1) {
    super();
    this.fc1 = new Linear(inputs, hidden, { device, seed: seed * 10 + 1 });
    this.fc2 = new Linear(hidden, hidden, { device, seed: seed * 10 + 2 });
    this.fc3 = new Linear(hidden, classes, { device, seed: seed * 10 + 3 });
  }

  forward(images: Tensor): Tensor {
    const x = reshape(images, [images.shape[0]!, -1]);
    return this.fc3.forward(gelu(this.fc2.forward(gelu(this.fc1.forward(x)))));
  }
}
