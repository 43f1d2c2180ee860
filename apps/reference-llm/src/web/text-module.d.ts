/** Text files bundled as strings (esbuild's `text` loader; see tsup.config.ts). */
declare module '*.txt' {
  const text: string;
  export default text;
}
