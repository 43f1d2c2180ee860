/** The slice of tfjs the browser page uses (see tfjs.js). */
interface TfTensor {
  data(): Promise<ArrayLike<number>>;
  dispose(): void;
}
export declare const tf: {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  randomNormal(shape: number[]): TfTensor;
  matMul(a: TfTensor, b: TfTensor): TfTensor;
};
export declare function getThreadsCount(): number;
export declare function setThreadsCount(threads: number): void;
export declare function setWasmPaths(prefix: string): void;
