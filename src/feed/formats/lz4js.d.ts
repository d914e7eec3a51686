// Types for the parts of lz4js (pure JavaScript LZ4 frame codec) that marginlab uses.
declare module 'lz4js' {
  export function decompress(src: Uint8Array, maxSize?: number): Uint8Array | number[];
  export function compress(src: Uint8Array, maxSize?: number): Uint8Array | number[];
  /** one LZ4 block of src[sIndex, sIndex + sLength) into dst: its length, 0 when it does not compress (tests write LZ4 blocks with it) */
  export function compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
  const lz4: { decompress: typeof decompress; compress: typeof compress };
  export default lz4;
}
