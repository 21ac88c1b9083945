/**
 * The WebAssembly SIMD kernels of the MLP trainer (wasm-mlp-trainer.ts), generated for one padded
 * layer shape so every stride is a constant in the code. Row-major float32 matrices; addresses in
 * bytes. All reductions run in a fixed order, so a result depends only on the inputs (never on which
 * thread ran the kernel): the trainer's determinism rests on this.
 *
 * GEMM tile: 4 rows × 8 columns (eight f32x4 accumulators), the reduction in the innermost loop;
 * the tile's column strip of B stays in L1 while the rows go by. Shapes: rows a multiple of 4,
 * columns a multiple of 8, reduction ≥ 1 (the trainer pads). Measured on this machine (x64, V8 11.3):
 * 6 × 8 tiles and a reduction unrolled by 2 or 4 were slower. With `fma` the multiply-adds are
 * relaxed SIMD's f32x4.relaxed_madd (one FMA instruction on x64 with FMA3; 1.3–1.7× the kernels'
 * GFLOP/s here), used where the runtime validates it: Node ≥ 22, or node run with
 * --experimental-wasm-relaxed-simd. Fused and unfused results differ in the last bits.
 *
 *   fwd{l}(a, w, c, rows, bias)     C = act(A·W + b), A rows × K_l, W K_l × N_l; act ReLU except last
 *   dx{l}(g, wt, c, rows, mask)     C = (G·Wᵀ) ⊙ [mask > 0], with Wᵀ (N_l × K_l) stored
 *   dw{l}(a, g, c, rows)            C = Aᵀ·G, K_l × N_l, the sum over the rows in row order
 *   dwAdd{l}(a, g, c, rows)         C += Aᵀ·G (the next chunk of rows)
 *   colsum(g, out, rows, cols)      out = Σ_rows g, in row order
 *   addInto(dst, src, n)            dst += src (n a multiple of 4)
 *   adam(p, g, m, v, n, lr, b1, 1−b1, b2, 1−b2, 1−b1ᵗ, 1−b2ᵗ, eps)  Adam, as lean-step.ts writes it
 */
import { Body, encodeModule, type ValType, type WasmFunction } from './wasm-encoder.ts';

interface GemmSpec {
  readonly name: string;
  /** Element strides of A(i, k): row i, reduction index k. */
  readonly ars: number;
  readonly acs: number;
  /** Row strides (elements) of B (reduction × columns) and C. */
  readonly ldb: number;
  readonly ldc: number;
  /** Columns of C (multiple of 8). */
  readonly cols: number;
  /** Rows of C when fixed by the shape (dw); else the `rows` parameter. */
  readonly fixedRows?: number;
  /** Reduction length when fixed by the shape (fwd, dx); else the `rows` parameter (dw). */
  readonly fixedK?: number;
  readonly bias: boolean;
  readonly epilogue: 'none' | 'relu' | 'mask';
  /** Fused multiply-add (relaxed SIMD), where the runtime has it. */
  readonly fma: boolean;
  /** C += A·B (the accumulators start from C) instead of C = A·B. */
  readonly accumulate?: boolean;
}

const GEMM_PARAMS: ValType[] = ['i32', 'i32', 'i32', 'i32', 'i32'];

/** (a, b, c, rows, extra): extra is the bias address (bias) or the mask address (mask). */
function gemm(s: GemmSpec): WasmFunction {
  const f = new Body(GEMM_PARAMS);
  const [A, B, C, ROWS, EXTRA] = [0, 1, 2, 3, 4];
  const i = f.local('i32');
  const j = f.local('i32');
  const k = f.local('i32');
  const pa = f.local('i32');
  const pb = f.local('i32');
  const off = f.local('i32');
  const MR = 4;
  const acc = Array.from({ length: 2 * MR }, () => f.local('v128'));
  const b0 = f.local('v128');
  const b1 = f.local('v128');
  const av = f.local('v128');
  const zero = f.local('v128');
  const rowsOf = () => (s.fixedRows !== undefined ? f.i32(s.fixedRows) : f.get(ROWS));
  const kOf = () => (s.fixedK !== undefined ? f.i32(s.fixedK) : f.get(ROWS));

  f.v128Zero().set(zero);
  f.i32(0).set(j);
  f.loop(); // columns, 8 at a time
  f.i32(0).set(i);
  f.loop(); // rows, MR at a time
  f.get(i).i32(s.ldc).mul().get(j).add().i32(4).mul().set(off);
  for (let r = 0; r < MR; r++) {
    for (let h = 0; h < 2; h++) {
      if (s.accumulate) f.get(C).get(off).add().v128Load(4 * r * s.ldc + 16 * h);
      else if (s.bias) f.get(EXTRA).get(j).i32(4).mul().add().v128Load(16 * h);
      else f.get(zero);
      f.set(acc[2 * r + h]!);
    }
  }
  f.get(A).get(i).i32(4 * s.ars).mul().add().set(pa);
  f.get(B).get(j).i32(4).mul().add().set(pb);
  kOf().set(k);
  f.loop(); // reduction
  {
    f.get(pb).v128Load(0).set(b0);
    f.get(pb).v128Load(16).set(b1);
    for (let r = 0; r < MR; r++) {
      f.get(pa).load32Splat(4 * r * s.ars).set(av);
      if (s.fma) {
        f.get(av).get(b0).get(acc[2 * r]!).f32x4RelaxedMadd().set(acc[2 * r]!);
        f.get(av).get(b1).get(acc[2 * r + 1]!).f32x4RelaxedMadd().set(acc[2 * r + 1]!);
      } else {
        f.get(acc[2 * r]!).get(av).get(b0).f32x4Mul().f32x4Add().set(acc[2 * r]!);
        f.get(acc[2 * r + 1]!).get(av).get(b1).f32x4Mul().f32x4Add().set(acc[2 * r + 1]!);
      }
    }
  }
  f.get(pa).i32(4 * s.acs).add().set(pa);
  f.get(pb).i32(4 * s.ldb).add().set(pb);
  f.get(k).i32(1).sub().tee(k).i32(0).ne().brIf(0);
  f.end();
  // Epilogue and store: C[i + r][j … j + 8].
  for (let r = 0; r < MR; r++) {
    for (let h = 0; h < 2; h++) {
      const at = 4 * r * s.ldc + 16 * h;
      f.get(C).get(off).add();
      f.get(acc[2 * r + h]!);
      if (s.epilogue === 'relu') f.get(zero).f32x4Max();
      else if (s.epilogue === 'mask') f.get(EXTRA).get(off).add().v128Load(at).get(zero).f32x4Gt().v128And();
      f.v128Store(at);
    }
  }
  f.get(i).i32(MR).add().tee(i);
  rowsOf().ltU().brIf(0);
  f.end();
  f.get(j).i32(8).add().tee(j).i32(s.cols).ltU().brIf(0);
  f.end();
  return { name: s.name, params: GEMM_PARAMS, body: f };
}

function colsum(): WasmFunction {
  const params: ValType[] = ['i32', 'i32', 'i32', 'i32'];
  const f = new Body(params);
  const [G, OUT, ROWS, COLS] = [0, 1, 2, 3];
  const r = f.local('i32');
  const c = f.local('i32');
  const p = f.local('i32');
  // out = row 0, then += each later row in order.
  f.i32(0).set(c);
  f.loop();
  f.get(OUT).get(c).add().get(G).get(c).add().v128Load().v128Store();
  f.get(c).i32(16).add().tee(c).get(COLS).i32(4).mul().ltU().brIf(0);
  f.end();
  f.get(G).get(COLS).i32(4).mul().add().set(p);
  f.i32(1).set(r);
  f.block();
  f.get(r).get(ROWS).ltU().eqz().brIf(0); // one row only
  f.loop();
  f.i32(0).set(c);
  f.loop();
  f.get(OUT).get(c).add();
  f.get(OUT).get(c).add().v128Load().get(p).get(c).add().v128Load().f32x4Add();
  f.v128Store();
  f.get(c).i32(16).add().tee(c).get(COLS).i32(4).mul().ltU().brIf(0);
  f.end();
  f.get(p).get(COLS).i32(4).mul().add().set(p);
  f.get(r).i32(1).add().tee(r).get(ROWS).ltU().brIf(0);
  f.end();
  f.end();
  return { name: 'colsum', params, body: f };
}

function addInto(): WasmFunction {
  const params: ValType[] = ['i32', 'i32', 'i32'];
  const f = new Body(params);
  const [DST, SRC, N] = [0, 1, 2];
  const o = f.local('i32');
  f.i32(0).set(o);
  f.loop();
  f.get(DST).get(o).add();
  f.get(DST).get(o).add().v128Load().get(SRC).get(o).add().v128Load().f32x4Add();
  f.v128Store();
  f.get(o).i32(16).add().tee(o).get(N).i32(4).mul().ltU().brIf(0);
  f.end();
  return { name: 'addInto', params, body: f };
}

function adam(): WasmFunction {
  const params: ValType[] = ['i32', 'i32', 'i32', 'i32', 'i32', 'f32', 'f32', 'f32', 'f32', 'f32', 'f32', 'f32', 'f32'];
  const f = new Body(params);
  const [P, G, M, V, N, LR, B1, OMB1, B2, OMB2, C1, C2, EPS] = params.map((_, i) => i) as number[];
  const o = f.local('i32');
  const splat = (x: number) => {
    const l = f.local('v128');
    f.get(x).f32x4Splat().set(l);
    return l;
  };
  const [lr, b1, omb1, b2, omb2, c1, c2, eps] = [LR, B1, OMB1, B2, OMB2, C1, C2, EPS].map((x) => splat(x!)) as number[];
  const g = f.local('v128');
  const a = f.local('v128');
  const v = f.local('v128');
  f.i32(0).set(o);
  f.loop();
  f.get(G!).get(o).add().v128Load().set(g);
  // a = m·b1 + g·(1 − b1);  v = v·b2 + g²·(1 − b2)
  f.get(M!).get(o).add().v128Load().get(b1!).f32x4Mul().get(g).get(omb1!).f32x4Mul().f32x4Add().set(a);
  f.get(V!).get(o).add().v128Load().get(b2!).f32x4Mul().get(g).get(g).f32x4Mul().get(omb2!).f32x4Mul().f32x4Add().set(v);
  f.get(M!).get(o).add().get(a).v128Store();
  f.get(V!).get(o).add().get(v).v128Store();
  // p −= ((a / c1) / (sqrt(v / c2) + eps)) · lr
  f.get(P!).get(o).add();
  f.get(P!).get(o).add().v128Load();
  f.get(a).get(c1!).f32x4Div();
  f.get(v).get(c2!).f32x4Div().f32x4Sqrt().get(eps!).f32x4Add();
  f.f32x4Div().get(lr!).f32x4Mul().f32x4Sub();
  f.v128Store();
  f.get(o).i32(16).add().tee(o).get(N!).i32(4).mul().ltU().brIf(0);
  f.end();
  return { name: 'adam', params, body: f };
}

/** Padded layer sizes: inputs a multiple of 4, every layer's outputs a multiple of 8. */
export function buildMlpKernels(padded: readonly number[], memory: { readonly initialPages: number; readonly maximumPages: number }, options: { readonly fma: boolean }): Uint8Array {
  const L = padded.length - 1;
  const fns: WasmFunction[] = [colsum(), addInto(), adam()];
  for (let l = 0; l < L; l++) {
    const K = padded[l]!;
    const N = padded[l + 1]!;
    fns.push(gemm({ name: `fwd${l}`, ars: K, acs: 1, ldb: N, ldc: N, cols: N, fixedK: K, bias: true, epilogue: l < L - 1 ? 'relu' : 'none', fma: options.fma }));
    fns.push(gemm({ name: `dw${l}`, ars: 1, acs: K, ldb: N, ldc: N, cols: N, fixedRows: K, bias: false, epilogue: 'none', fma: options.fma }));
    fns.push(gemm({ name: `dwAdd${l}`, ars: 1, acs: K, ldb: N, ldc: N, cols: N, fixedRows: K, bias: false, epilogue: 'none', fma: options.fma, accumulate: true }));
    if (l > 0) fns.push(gemm({ name: `dx${l}`, ars: N, acs: 1, ldb: K, ldc: K, cols: K, fixedK: N, bias: false, epilogue: 'mask', fma: options.fma }));
  }
  return encodeModule(fns, { ...memory, shared: true });
}
