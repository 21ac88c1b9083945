/**
 * A minimal WebAssembly binary encoder: just enough to write the SIMD kernels of wasm-mlp-kernels.ts
 * as code (no toolchain, no binary checked in). One function body is a `Body`: typed locals and a
 * byte stream with one method per instruction used. Encoding follows the WebAssembly core spec 2.0
 * (binary format, §5) and the fixed-width SIMD proposal (opcodes after the 0xfd prefix).
 */

export type ValType = 'i32' | 'f32' | 'v128';
const VALTYPE: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, v128: 0x7b };

function uleb(n: number, out: number[]): void {
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
}

function sleb(n: number, out: number[]): void {
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return;
    }
    out.push(byte | 0x80);
  }
}

function name(s: string, out: number[]): void {
  const bytes = new TextEncoder().encode(s);
  uleb(bytes.length, out);
  out.push(...bytes);
}

/** The body of one function: parameters are locals 0…n−1, `local()` adds more. */
export class Body {
  readonly code: number[] = [];
  readonly #locals: ValType[] = [];
  readonly #params: number;

  constructor(params: readonly ValType[]) {
    this.#params = params.length;
  }

  /** A new local of `type`; returns its index. */
  local(type: ValType): number {
    this.#locals.push(type);
    return this.#params + this.#locals.length - 1;
  }

  #op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  #simd(op: number): this {
    this.code.push(0xfd);
    uleb(op, this.code);
    return this;
  }

  #memarg(align: number, offset: number): this {
    uleb(align, this.code);
    uleb(offset, this.code);
    return this;
  }

  get(i: number): this {
    this.code.push(0x20);
    uleb(i, this.code);
    return this;
  }
  set(i: number): this {
    this.code.push(0x21);
    uleb(i, this.code);
    return this;
  }
  tee(i: number): this {
    this.code.push(0x22);
    uleb(i, this.code);
    return this;
  }
  i32(v: number): this {
    this.code.push(0x41);
    sleb(v | 0, this.code);
    return this;
  }
  f32(v: number): this {
    this.code.push(0x43, ...new Uint8Array(Float32Array.of(v).buffer));
    return this;
  }
  add(): this {
    return this.#op(0x6a);
  }
  sub(): this {
    return this.#op(0x6b);
  }
  mul(): this {
    return this.#op(0x6c);
  }
  ltU(): this {
    return this.#op(0x49);
  }
  ne(): this {
    return this.#op(0x47);
  }
  eqz(): this {
    return this.#op(0x45);
  }
  /** `block` / `loop` with no result; `end` closes either. */
  block(): this {
    return this.#op(0x02, 0x40);
  }
  loop(): this {
    return this.#op(0x03, 0x40);
  }
  end(): this {
    return this.#op(0x0b);
  }
  br(depth: number): this {
    return this.#op(0x0c, depth);
  }
  brIf(depth: number): this {
    return this.#op(0x0d, depth);
  }
  v128Load(offset = 0): this {
    return this.#simd(0x00).#memarg(4, offset);
  }
  v128Store(offset = 0): this {
    return this.#simd(0x0b).#memarg(4, offset);
  }
  /** Loads one f32 and splats it to all four lanes. */
  load32Splat(offset = 0): this {
    return this.#simd(0x09).#memarg(2, offset);
  }
  v128Zero(): this {
    this.#simd(0x0c);
    this.code.push(...new Array<number>(16).fill(0));
    return this;
  }
  f32x4Splat(): this {
    return this.#simd(0x13);
  }
  f32x4Add(): this {
    return this.#simd(0xe4);
  }
  f32x4Sub(): this {
    return this.#simd(0xe5);
  }
  f32x4Mul(): this {
    return this.#simd(0xe6);
  }
  f32x4Div(): this {
    return this.#simd(0xe7);
  }
  /** a·b + c, fused or not as the machine does it (relaxed SIMD); stack: a, b, c. */
  f32x4RelaxedMadd(): this {
    return this.#simd(0x105);
  }
  f32x4Sqrt(): this {
    return this.#simd(0xe3);
  }
  f32x4Max(): this {
    return this.#simd(0xe9);
  }
  f32x4Gt(): this {
    return this.#simd(0x44);
  }
  v128And(): this {
    return this.#simd(0x4e);
  }

  /** The encoded body (locals, code, end), with its size prefix. */
  encode(): number[] {
    const out: number[] = [];
    // Locals as runs of the same type.
    const runs: [number, ValType][] = [];
    for (const t of this.#locals) {
      const last = runs[runs.length - 1];
      if (last && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    uleb(runs.length, out);
    for (const [n, t] of runs) {
      uleb(n, out);
      out.push(VALTYPE[t]);
    }
    out.push(...this.code, 0x0b);
    const sized: number[] = [];
    uleb(out.length, sized);
    return [...sized, ...out];
  }
}

export interface WasmFunction {
  readonly name: string;
  readonly params: readonly ValType[];
  readonly body: Body;
}

/**
 * A module of exported functions (no results) over one imported memory `env.memory`; `shared`
 * memory (the threads proposal, in Node since 16) lets worker threads run the same code on it.
 */
export function encodeModule(functions: readonly WasmFunction[], memory: { readonly initialPages: number; readonly maximumPages: number; readonly shared: boolean }): Uint8Array {
  const section = (id: number, content: number[], out: number[]) => {
    out.push(id);
    uleb(content.length, out);
    out.push(...content);
  };
  const bytes: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [];
  uleb(functions.length, types);
  for (const f of functions) {
    types.push(0x60);
    uleb(f.params.length, types);
    for (const p of f.params) types.push(VALTYPE[p]);
    types.push(0x00);
  }
  section(1, types, bytes);
  const imports: number[] = [1];
  name('env', imports);
  name('memory', imports);
  imports.push(0x02, memory.shared ? 0x03 : 0x01);
  uleb(memory.initialPages, imports);
  uleb(memory.maximumPages, imports);
  section(2, imports, bytes);
  const funcs: number[] = [];
  uleb(functions.length, funcs);
  functions.forEach((_, i) => uleb(i, funcs));
  section(3, funcs, bytes);
  const exports: number[] = [];
  uleb(functions.length, exports);
  functions.forEach((f, i) => {
    name(f.name, exports);
    exports.push(0x00);
    uleb(i, exports);
  });
  section(7, exports, bytes);
  const code: number[] = [];
  uleb(functions.length, code);
  for (const f of functions) code.push(...f.body.encode());
  section(10, code, bytes);
  return Uint8Array.from(bytes);
}
