declare module 'siphash24' {
  /** SipHash-2-4 of `data` with a 16-byte key; an 8-byte digest. */
  function siphash24(data: Uint8Array, key: Uint8Array, out?: Uint8Array): Uint8Array;
  export default siphash24;
}
