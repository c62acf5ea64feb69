export {
  isPack,
  PACK_CONTENT_TYPE,
  PACK_FORMAT_PROPERTY,
  PACK_FORMAT_VERSION,
  PACK_RECORDS_PROPERTY,
  type PackedMessageLike,
  type PackPosition,
  type UnpackedRecord,
  unpack,
} from './format.js';
export { PACKER_DEFAULTS, Packer, type PackerOptions, type PackRecord } from './packer.js';
