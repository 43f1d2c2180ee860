/**
 * Packs a kernel's scalar parameters (sizes, strides, constants) into one uniform buffer
 * and writes the matching WGSL struct, so one pipeline serves every shape.
 */
type Field = {
  name: string;
  wgsl: string;
  align: number;
  size: number;
  values: number[];
  kind: 'u32' | 'i32' | 'f32';
};

export class Uniforms {
  private readonly fields: Field[] = [];

  u32(name: string, value: number): this {
    return this.add({ name, wgsl: 'u32', align: 4, size: 4, values: [value], kind: 'u32' });
  }

  i32(name: string, value: number): this {
    return this.add({ name, wgsl: 'i32', align: 4, size: 4, values: [value], kind: 'i32' });
  }

  f32(name: string, value: number): this {
    return this.add({ name, wgsl: 'f32', align: 4, size: 4, values: [value], kind: 'f32' });
  }

  /** A fixed-capacity list of u32, stored as vec4 lanes (uniform arrays need 16-byte strides). */
  u32s(name: string, values: readonly number[], capacity = 8): this {
    if (values.length > capacity) {
      throw new RangeError(`uniform ${name}: ${values.length} values exceed capacity ${capacity}`);
    }
    const lanes = Math.ceil(capacity / 4);
    const padded = [...values, ...new Array<number>(lanes * 4 - values.length).fill(0)];
    return this.add({
      name,
      wgsl: `array<vec4<u32>, ${lanes}>`,
      align: 16,
      size: lanes * 16,
      values: padded,
      kind: 'u32',
    });
  }

  private add(field: Field): this {
    this.fields.push(field);
    return this;
  }

  /** The WGSL declaration `struct Params {...}` and its binding at `binding`. */
  declaration(binding: number): string {
    const members = this.fields.map((f) => `  ${f.name}: ${f.wgsl},`).join('\n');
    return `struct Params {\n${members}\n  _pad: u32,\n}\n@group(0) @binding(${binding}) var<uniform> P: Params;\n`;
  }

  /** The packed bytes, laid out with WGSL's uniform alignment rules. */
  bytes(): ArrayBuffer {
    let size = 0;
    const offsets: number[] = [];
    for (const f of this.fields) {
      size = Math.ceil(size / f.align) * f.align;
      offsets.push(size);
      size += f.size;
    }
    size = Math.ceil((size + 4) / 16) * 16;
    const buffer = new ArrayBuffer(size);
    const view = new DataView(buffer);
    this.fields.forEach((f, i) => {
      f.values.forEach((v, j) => {
        const at = offsets[i]! + j * 4;
        if (f.kind === 'f32') view.setFloat32(at, v, true);
        else if (f.kind === 'i32') view.setInt32(at, v, true);
        else view.setUint32(at, v, true);
      });
    });
    return buffer;
  }
}

/** WGSL helper that reads lane `i` of a `u32s` uniform list. */
export function laneRead(list: string, index: string): string {
  return `P.${list}[(${index}) / 4u][(${index}) % 4u]`;
}
