/**
 * The slice of the WebAssembly JS API the wasm trainer uses, typed here: the project's TypeScript
 * libs (ES2022, Node) do not declare the `WebAssembly` global, and the DOM lib would bring a browser.
 */
export interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
}

/** A compiled module: cloneable to worker threads (workerData), instantiated on each. */
export interface WasmModule {
  readonly __wasmModule?: never;
}

interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: { readonly env: { readonly memory: WasmMemory } }): Promise<{ readonly exports: object }>;
  readonly Memory: new (descriptor: { initial: number; maximum: number; shared: true }) => WasmMemory;
}

export const WebAssemblyApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
