#!/usr/bin/env node
import { createRequire as __ipcrCreateRequire } from 'node:module'; const require = __ipcrCreateRequire(import.meta.url);
var __create = Object.create;
var __defProp = Object.defineProperty;
var __getOwnPropDesc = Object.getOwnPropertyDescriptor;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __getProtoOf = Object.getPrototypeOf;
var __hasOwnProp = Object.prototype.hasOwnProperty;
var __require = /* @__PURE__ */ ((x) => typeof require !== "undefined" ? require : typeof Proxy !== "undefined" ? new Proxy(x, {
  get: (a, b) => (typeof require !== "undefined" ? require : a)[b]
}) : x)(function(x) {
  if (typeof require !== "undefined") return require.apply(this, arguments);
  throw Error('Dynamic require of "' + x + '" is not supported');
});
var __commonJS = (cb, mod2) => function __require2() {
  try {
    return mod2 || (0, cb[__getOwnPropNames(cb)[0]])((mod2 = { exports: {} }).exports, mod2), mod2.exports;
  } catch (e) {
    throw mod2 = 0, e;
  }
};
var __export = (target, all) => {
  for (var name4 in all)
    __defProp(target, name4, { get: all[name4], enumerable: true });
};
var __copyProps = (to, from3, except, desc) => {
  if (from3 && typeof from3 === "object" || typeof from3 === "function") {
    for (let key of __getOwnPropNames(from3))
      if (!__hasOwnProp.call(to, key) && key !== except)
        __defProp(to, key, { get: () => from3[key], enumerable: !(desc = __getOwnPropDesc(from3, key)) || desc.enumerable });
  }
  return to;
};
var __toESM = (mod2, isNodeMode, target) => (target = mod2 != null ? __create(__getProtoOf(mod2)) : {}, __copyProps(
  // If the importer is in node compatibility mode or this is not an ESM
  // file that has been converted to a CommonJS file using a Babel-
  // compatible transform (i.e. "__esModule" has not been set), then set
  // "default" to the CommonJS "module.exports" for node compatibility.
  isNodeMode || !mod2 || !mod2.__esModule ? __defProp(target, "default", { value: mod2, enumerable: true }) : target,
  mod2
));

// node_modules/sparse-array/index.js
var require_sparse_array = __commonJS({
  "node_modules/sparse-array/index.js"(exports, module) {
    "use strict";
    var BITS_PER_BYTE = 7;
    module.exports = class SparseArray {
      constructor() {
        this._bitArrays = [];
        this._data = [];
        this._length = 0;
        this._changedLength = false;
        this._changedData = false;
      }
      set(index, value) {
        let pos = this._internalPositionFor(index, false);
        if (value === void 0) {
          if (pos !== -1) {
            this._unsetInternalPos(pos);
            this._unsetBit(index);
            this._changedLength = true;
            this._changedData = true;
          }
        } else {
          let needsSort = false;
          if (pos === -1) {
            pos = this._data.length;
            this._setBit(index);
            this._changedData = true;
          } else {
            needsSort = true;
          }
          this._setInternalPos(pos, index, value, needsSort);
          this._changedLength = true;
        }
      }
      unset(index) {
        this.set(index, void 0);
      }
      get(index) {
        this._sortData();
        const pos = this._internalPositionFor(index, true);
        if (pos === -1) {
          return void 0;
        }
        return this._data[pos][1];
      }
      push(value) {
        this.set(this.length, value);
        return this.length;
      }
      get length() {
        this._sortData();
        if (this._changedLength) {
          const last = this._data[this._data.length - 1];
          this._length = last ? last[0] + 1 : 0;
          this._changedLength = false;
        }
        return this._length;
      }
      forEach(iterator) {
        let i = 0;
        while (i < this.length) {
          iterator(this.get(i), i, this);
          i++;
        }
      }
      map(iterator) {
        let i = 0;
        let mapped = new Array(this.length);
        while (i < this.length) {
          mapped[i] = iterator(this.get(i), i, this);
          i++;
        }
        return mapped;
      }
      reduce(reducer, initialValue) {
        let i = 0;
        let acc = initialValue;
        while (i < this.length) {
          const value = this.get(i);
          acc = reducer(acc, value, i);
          i++;
        }
        return acc;
      }
      find(finder) {
        let i = 0, found, last;
        while (i < this.length && !found) {
          last = this.get(i);
          found = finder(last);
          i++;
        }
        return found ? last : void 0;
      }
      _internalPositionFor(index, noCreate) {
        const bytePos = this._bytePosFor(index, noCreate);
        if (bytePos >= this._bitArrays.length) {
          return -1;
        }
        const byte = this._bitArrays[bytePos];
        const bitPos = index - bytePos * BITS_PER_BYTE;
        const exists3 = (byte & 1 << bitPos) > 0;
        if (!exists3) {
          return -1;
        }
        const previousPopCount = this._bitArrays.slice(0, bytePos).reduce(popCountReduce, 0);
        const mask = ~(4294967295 << bitPos + 1);
        const bytePopCount = popCount(byte & mask);
        const arrayPos = previousPopCount + bytePopCount - 1;
        return arrayPos;
      }
      _bytePosFor(index, noCreate) {
        const bytePos = Math.floor(index / BITS_PER_BYTE);
        const targetLength = bytePos + 1;
        while (!noCreate && this._bitArrays.length < targetLength) {
          this._bitArrays.push(0);
        }
        return bytePos;
      }
      _setBit(index) {
        const bytePos = this._bytePosFor(index, false);
        this._bitArrays[bytePos] |= 1 << index - bytePos * BITS_PER_BYTE;
      }
      _unsetBit(index) {
        const bytePos = this._bytePosFor(index, false);
        this._bitArrays[bytePos] &= ~(1 << index - bytePos * BITS_PER_BYTE);
      }
      _setInternalPos(pos, index, value, needsSort) {
        const data = this._data;
        const elem = [index, value];
        if (needsSort) {
          this._sortData();
          data[pos] = elem;
        } else {
          if (data.length) {
            if (data[data.length - 1][0] >= index) {
              data.push(elem);
            } else if (data[0][0] <= index) {
              data.unshift(elem);
            } else {
              const randomIndex = Math.round(data.length / 2);
              this._data = data.slice(0, randomIndex).concat(elem).concat(data.slice(randomIndex));
            }
          } else {
            this._data.push(elem);
          }
          this._changedData = true;
          this._changedLength = true;
        }
      }
      _unsetInternalPos(pos) {
        this._data.splice(pos, 1);
      }
      _sortData() {
        if (this._changedData) {
          this._data.sort(sortInternal);
        }
        this._changedData = false;
      }
      bitField() {
        const bytes = [];
        let pendingBitsForResultingByte = 8;
        let pendingBitsForNewByte = 0;
        let resultingByte = 0;
        let newByte;
        const pending = this._bitArrays.slice();
        while (pending.length || pendingBitsForNewByte) {
          if (pendingBitsForNewByte === 0) {
            newByte = pending.shift();
            pendingBitsForNewByte = 7;
          }
          const usingBits = Math.min(pendingBitsForNewByte, pendingBitsForResultingByte);
          const mask = ~(255 << usingBits);
          const masked = newByte & mask;
          resultingByte |= masked << 8 - pendingBitsForResultingByte;
          newByte = newByte >>> usingBits;
          pendingBitsForNewByte -= usingBits;
          pendingBitsForResultingByte -= usingBits;
          if (!pendingBitsForResultingByte || !pendingBitsForNewByte && !pending.length) {
            bytes.push(resultingByte);
            resultingByte = 0;
            pendingBitsForResultingByte = 8;
          }
        }
        for (var i = bytes.length - 1; i > 0; i--) {
          const value = bytes[i];
          if (value === 0) {
            bytes.pop();
          } else {
            break;
          }
        }
        return bytes;
      }
      compactArray() {
        this._sortData();
        return this._data.map(valueOnly);
      }
    };
    function popCountReduce(count, byte) {
      return count + popCount(byte);
    }
    function popCount(_v) {
      let v = _v;
      v = v - (v >> 1 & 1431655765);
      v = (v & 858993459) + (v >> 2 & 858993459);
      return (v + (v >> 4) & 252645135) * 16843009 >> 24;
    }
    function sortInternal(a, b) {
      return a[0] - b[0];
    }
    function valueOnly(elem) {
      return elem[1];
    }
  }
});

// node_modules/varint/encode.js
var require_encode = __commonJS({
  "node_modules/varint/encode.js"(exports, module) {
    module.exports = encode8;
    var MSB3 = 128;
    var REST3 = 127;
    var MSBALL2 = ~REST3;
    var INT2 = Math.pow(2, 31);
    function encode8(num, out, offset) {
      if (Number.MAX_SAFE_INTEGER && num > Number.MAX_SAFE_INTEGER) {
        encode8.bytes = 0;
        throw new RangeError("Could not encode varint");
      }
      out = out || [];
      offset = offset || 0;
      var oldOffset = offset;
      while (num >= INT2) {
        out[offset++] = num & 255 | MSB3;
        num /= 128;
      }
      while (num & MSBALL2) {
        out[offset++] = num & 255 | MSB3;
        num >>>= 7;
      }
      out[offset] = num | 0;
      encode8.bytes = offset - oldOffset + 1;
      return out;
    }
  }
});

// node_modules/varint/decode.js
var require_decode = __commonJS({
  "node_modules/varint/decode.js"(exports, module) {
    module.exports = read3;
    var MSB3 = 128;
    var REST3 = 127;
    function read3(buf, offset) {
      var res = 0, offset = offset || 0, shift = 0, counter = offset, b, l = buf.length;
      do {
        if (counter >= l || shift > 49) {
          read3.bytes = 0;
          throw new RangeError("Could not decode varint");
        }
        b = buf[counter++];
        res += shift < 28 ? (b & REST3) << shift : (b & REST3) * Math.pow(2, shift);
        shift += 7;
      } while (b >= MSB3);
      read3.bytes = counter - offset;
      return res;
    }
  }
});

// node_modules/varint/length.js
var require_length = __commonJS({
  "node_modules/varint/length.js"(exports, module) {
    var N13 = Math.pow(2, 7);
    var N23 = Math.pow(2, 14);
    var N33 = Math.pow(2, 21);
    var N43 = Math.pow(2, 28);
    var N53 = Math.pow(2, 35);
    var N63 = Math.pow(2, 42);
    var N73 = Math.pow(2, 49);
    var N82 = Math.pow(2, 56);
    var N92 = Math.pow(2, 63);
    module.exports = function(value) {
      return value < N13 ? 1 : value < N23 ? 2 : value < N33 ? 3 : value < N43 ? 4 : value < N53 ? 5 : value < N63 ? 6 : value < N73 ? 7 : value < N82 ? 8 : value < N92 ? 9 : 10;
    };
  }
});

// node_modules/varint/index.js
var require_varint = __commonJS({
  "node_modules/varint/index.js"(exports, module) {
    module.exports = {
      encode: require_encode(),
      decode: require_decode(),
      encodingLength: require_length()
    };
  }
});

// node_modules/events-universal/default.js
var require_default = __commonJS({
  "node_modules/events-universal/default.js"(exports, module) {
    module.exports = __require("events");
  }
});

// node_modules/fast-fifo/fixed-size.js
var require_fixed_size = __commonJS({
  "node_modules/fast-fifo/fixed-size.js"(exports, module) {
    module.exports = class FixedFIFO {
      constructor(hwm) {
        if (!(hwm > 0) || (hwm - 1 & hwm) !== 0) throw new Error("Max size for a FixedFIFO should be a power of two");
        this.buffer = new Array(hwm);
        this.mask = hwm - 1;
        this.top = 0;
        this.btm = 0;
        this.next = null;
      }
      clear() {
        this.top = this.btm = 0;
        this.next = null;
        this.buffer.fill(void 0);
      }
      push(data) {
        if (this.buffer[this.top] !== void 0) return false;
        this.buffer[this.top] = data;
        this.top = this.top + 1 & this.mask;
        return true;
      }
      shift() {
        const last = this.buffer[this.btm];
        if (last === void 0) return void 0;
        this.buffer[this.btm] = void 0;
        this.btm = this.btm + 1 & this.mask;
        return last;
      }
      peek() {
        return this.buffer[this.btm];
      }
      isEmpty() {
        return this.buffer[this.btm] === void 0;
      }
    };
  }
});

// node_modules/fast-fifo/index.js
var require_fast_fifo = __commonJS({
  "node_modules/fast-fifo/index.js"(exports, module) {
    var FixedFIFO = require_fixed_size();
    module.exports = class FastFIFO {
      constructor(hwm) {
        this.hwm = hwm || 16;
        this.head = new FixedFIFO(this.hwm);
        this.tail = this.head;
        this.length = 0;
      }
      clear() {
        this.head = this.tail;
        this.head.clear();
        this.length = 0;
      }
      push(val) {
        this.length++;
        if (!this.head.push(val)) {
          const prev = this.head;
          this.head = prev.next = new FixedFIFO(2 * this.head.buffer.length);
          this.head.push(val);
        }
      }
      shift() {
        if (this.length !== 0) this.length--;
        const val = this.tail.shift();
        if (val === void 0 && this.tail.next) {
          const next = this.tail.next;
          this.tail.next = null;
          this.tail = next;
          return this.tail.shift();
        }
        return val;
      }
      peek() {
        const val = this.tail.peek();
        if (val === void 0 && this.tail.next) return this.tail.next.peek();
        return val;
      }
      isEmpty() {
        return this.length === 0;
      }
    };
  }
});

// node_modules/b4a/index.js
var require_b4a = __commonJS({
  "node_modules/b4a/index.js"(exports, module) {
    function isBuffer2(value) {
      return Buffer.isBuffer(value) || value instanceof Uint8Array;
    }
    function isEncoding(encoding) {
      return Buffer.isEncoding(encoding);
    }
    function alloc4(size, fill2, encoding) {
      return Buffer.alloc(size, fill2, encoding);
    }
    function allocUnsafe2(size) {
      return Buffer.allocUnsafe(size);
    }
    function allocUnsafeSlow(size) {
      return Buffer.allocUnsafeSlow(size);
    }
    function byteLength(string3, encoding) {
      return Buffer.byteLength(string3, encoding);
    }
    function compare2(a, b) {
      return Buffer.compare(a, b);
    }
    function concat4(buffers, totalLength) {
      return Buffer.concat(buffers, totalLength);
    }
    function copy(source, target, targetStart, start, end) {
      return toBuffer(source).copy(target, targetStart, start, end);
    }
    function equals4(a, b) {
      return toBuffer(a).equals(b);
    }
    function fill(buffer2, value, offset, end, encoding) {
      return toBuffer(buffer2).fill(value, offset, end, encoding);
    }
    function from3(value, encodingOrOffset, length3) {
      return Buffer.from(value, encodingOrOffset, length3);
    }
    function includes(buffer2, value, byteOffset, encoding) {
      return toBuffer(buffer2).includes(value, byteOffset, encoding);
    }
    function indexOf(buffer2, value, byfeOffset, encoding) {
      return toBuffer(buffer2).indexOf(value, byfeOffset, encoding);
    }
    function lastIndexOf(buffer2, value, byteOffset, encoding) {
      return toBuffer(buffer2).lastIndexOf(value, byteOffset, encoding);
    }
    function swap16(buffer2) {
      return toBuffer(buffer2).swap16();
    }
    function swap32(buffer2) {
      return toBuffer(buffer2).swap32();
    }
    function swap64(buffer2) {
      return toBuffer(buffer2).swap64();
    }
    function toBuffer(buffer2) {
      if (Buffer.isBuffer(buffer2)) return buffer2;
      return Buffer.from(buffer2.buffer, buffer2.byteOffset, buffer2.byteLength);
    }
    function toString3(buffer2, encoding, start, end) {
      return toBuffer(buffer2).toString(encoding, start, end);
    }
    function toHex(buffer2, start, end) {
      return toBuffer(buffer2).toString("hex", start, end);
    }
    function write2(buffer2, string3, offset, length3, encoding) {
      return toBuffer(buffer2).write(string3, offset, length3, encoding);
    }
    function readDoubleBE(buffer2, offset) {
      return toBuffer(buffer2).readDoubleBE(offset);
    }
    function readDoubleLE2(buffer2, offset) {
      return toBuffer(buffer2).readDoubleLE(offset);
    }
    function readFloatBE(buffer2, offset) {
      return toBuffer(buffer2).readFloatBE(offset);
    }
    function readFloatLE2(buffer2, offset) {
      return toBuffer(buffer2).readFloatLE(offset);
    }
    function readInt32BE(buffer2, offset) {
      return toBuffer(buffer2).readInt32BE(offset);
    }
    function readInt32LE(buffer2, offset) {
      return toBuffer(buffer2).readInt32LE(offset);
    }
    function readUInt32BE(buffer2, offset) {
      return toBuffer(buffer2).readUInt32BE(offset);
    }
    function readUInt32LE(buffer2, offset) {
      return toBuffer(buffer2).readUInt32LE(offset);
    }
    function writeDoubleBE(buffer2, value, offset) {
      return toBuffer(buffer2).writeDoubleBE(value, offset);
    }
    function writeDoubleLE2(buffer2, value, offset) {
      return toBuffer(buffer2).writeDoubleLE(value, offset);
    }
    function writeFloatBE(buffer2, value, offset) {
      return toBuffer(buffer2).writeFloatBE(value, offset);
    }
    function writeFloatLE2(buffer2, value, offset) {
      return toBuffer(buffer2).writeFloatLE(value, offset);
    }
    function writeInt32BE(buffer2, value, offset) {
      return toBuffer(buffer2).writeInt32BE(value, offset);
    }
    function writeInt32LE(buffer2, value, offset) {
      return toBuffer(buffer2).writeInt32LE(value, offset);
    }
    function writeUInt32BE(buffer2, value, offset) {
      return toBuffer(buffer2).writeUInt32BE(value, offset);
    }
    function writeUInt32LE(buffer2, value, offset) {
      return toBuffer(buffer2).writeUInt32LE(value, offset);
    }
    module.exports = {
      isBuffer: isBuffer2,
      isEncoding,
      alloc: alloc4,
      allocUnsafe: allocUnsafe2,
      allocUnsafeSlow,
      byteLength,
      compare: compare2,
      concat: concat4,
      copy,
      equals: equals4,
      fill,
      from: from3,
      includes,
      indexOf,
      lastIndexOf,
      swap16,
      swap32,
      swap64,
      toBuffer,
      toString: toString3,
      toHex,
      write: write2,
      readDoubleBE,
      readDoubleLE: readDoubleLE2,
      readFloatBE,
      readFloatLE: readFloatLE2,
      readInt32BE,
      readInt32LE,
      readUInt32BE,
      readUInt32LE,
      writeDoubleBE,
      writeDoubleLE: writeDoubleLE2,
      writeFloatBE,
      writeFloatLE: writeFloatLE2,
      writeInt32BE,
      writeInt32LE,
      writeUInt32BE,
      writeUInt32LE
    };
  }
});

// node_modules/text-decoder/lib/pass-through-decoder.js
var require_pass_through_decoder = __commonJS({
  "node_modules/text-decoder/lib/pass-through-decoder.js"(exports, module) {
    var b4a = require_b4a();
    module.exports = class PassThroughDecoder {
      constructor(encoding) {
        this.encoding = encoding;
      }
      get remaining() {
        return 0;
      }
      decode(data) {
        return b4a.toString(data, this.encoding);
      }
      flush() {
        return "";
      }
    };
  }
});

// node_modules/text-decoder/lib/utf8-decoder.js
var require_utf8_decoder = __commonJS({
  "node_modules/text-decoder/lib/utf8-decoder.js"(exports, module) {
    var b4a = require_b4a();
    module.exports = class UTF8Decoder {
      constructor() {
        this._reset();
      }
      get remaining() {
        return this.bytesSeen;
      }
      decode(data) {
        if (data.byteLength === 0) return "";
        if (this.bytesNeeded === 0 && trailingIncomplete(data, 0) === 0) {
          this.bytesSeen = trailingBytesSeen(data);
          return b4a.toString(data, "utf8");
        }
        let result = "";
        let start = 0;
        if (this.bytesNeeded > 0) {
          while (start < data.byteLength) {
            const byte = data[start];
            if (byte < this.lowerBoundary || byte > this.upperBoundary) {
              result += "\uFFFD";
              this._reset();
              break;
            }
            this.lowerBoundary = 128;
            this.upperBoundary = 191;
            this.codePoint = this.codePoint << 6 | byte & 63;
            this.bytesSeen++;
            start++;
            if (this.bytesSeen === this.bytesNeeded) {
              result += String.fromCodePoint(this.codePoint);
              this._reset();
              break;
            }
          }
          if (this.bytesNeeded > 0) return result;
        }
        const trailing = trailingIncomplete(data, start);
        const end = data.byteLength - trailing;
        if (end > start) result += b4a.toString(data, "utf8", start, end);
        for (let i = end; i < data.byteLength; i++) {
          const byte = data[i];
          if (this.bytesNeeded === 0) {
            if (byte <= 127) {
              this.bytesSeen = 0;
              result += String.fromCharCode(byte);
            } else if (byte >= 194 && byte <= 223) {
              this.bytesNeeded = 2;
              this.bytesSeen = 1;
              this.codePoint = byte & 31;
            } else if (byte >= 224 && byte <= 239) {
              if (byte === 224) this.lowerBoundary = 160;
              else if (byte === 237) this.upperBoundary = 159;
              this.bytesNeeded = 3;
              this.bytesSeen = 1;
              this.codePoint = byte & 15;
            } else if (byte >= 240 && byte <= 244) {
              if (byte === 240) this.lowerBoundary = 144;
              else if (byte === 244) this.upperBoundary = 143;
              this.bytesNeeded = 4;
              this.bytesSeen = 1;
              this.codePoint = byte & 7;
            } else {
              this.bytesSeen = 1;
              result += "\uFFFD";
            }
            continue;
          }
          if (byte < this.lowerBoundary || byte > this.upperBoundary) {
            result += "\uFFFD";
            i--;
            this._reset();
            continue;
          }
          this.lowerBoundary = 128;
          this.upperBoundary = 191;
          this.codePoint = this.codePoint << 6 | byte & 63;
          this.bytesSeen++;
          if (this.bytesSeen === this.bytesNeeded) {
            result += String.fromCodePoint(this.codePoint);
            this._reset();
          }
        }
        return result;
      }
      flush() {
        const result = this.bytesNeeded > 0 ? "\uFFFD" : "";
        this._reset();
        return result;
      }
      _reset() {
        this.codePoint = 0;
        this.bytesNeeded = 0;
        this.bytesSeen = 0;
        this.lowerBoundary = 128;
        this.upperBoundary = 191;
      }
    };
    function trailingIncomplete(data, start) {
      const len = data.byteLength;
      if (len <= start) return 0;
      const limit = Math.max(start, len - 4);
      let i = len - 1;
      while (i > limit && (data[i] & 192) === 128) i--;
      if (i < start) return 0;
      const byte = data[i];
      let needed;
      if (byte <= 127) return 0;
      if (byte >= 194 && byte <= 223) needed = 2;
      else if (byte >= 224 && byte <= 239) needed = 3;
      else if (byte >= 240 && byte <= 244) needed = 4;
      else return 0;
      const available = len - i;
      return available < needed ? available : 0;
    }
    function trailingBytesSeen(data) {
      const len = data.byteLength;
      if (len === 0) return 0;
      const last = data[len - 1];
      if (last <= 127) return 0;
      if ((last & 192) !== 128) return 1;
      const limit = Math.max(0, len - 4);
      let i = len - 2;
      while (i >= limit && (data[i] & 192) === 128) i--;
      if (i < 0) return 1;
      const first = data[i];
      let needed;
      if (first >= 194 && first <= 223) needed = 2;
      else if (first >= 224 && first <= 239) needed = 3;
      else if (first >= 240 && first <= 244) needed = 4;
      else return 1;
      if (len - i !== needed) return 1;
      if (needed >= 3) {
        const second = data[i + 1];
        if (first === 224 && second < 160) return 1;
        if (first === 237 && second > 159) return 1;
        if (first === 240 && second < 144) return 1;
        if (first === 244 && second > 143) return 1;
      }
      return 0;
    }
  }
});

// node_modules/text-decoder/index.js
var require_text_decoder = __commonJS({
  "node_modules/text-decoder/index.js"(exports, module) {
    var PassThroughDecoder = require_pass_through_decoder();
    var UTF8Decoder = require_utf8_decoder();
    module.exports = class TextDecoder {
      constructor(encoding = "utf8") {
        this.encoding = normalizeEncoding(encoding);
        switch (this.encoding) {
          case "utf8":
            this.decoder = new UTF8Decoder();
            break;
          case "utf16le":
          case "base64":
            throw new Error("Unsupported encoding: " + this.encoding);
          default:
            this.decoder = new PassThroughDecoder(this.encoding);
        }
      }
      get remaining() {
        return this.decoder.remaining;
      }
      push(data) {
        if (typeof data === "string") return data;
        return this.decoder.decode(data);
      }
      // For Node.js compatibility
      write(data) {
        return this.push(data);
      }
      end(data) {
        let result = "";
        if (data) result = this.push(data);
        result += this.decoder.flush();
        return result;
      }
    };
    function normalizeEncoding(encoding) {
      encoding = encoding.toLowerCase();
      switch (encoding) {
        case "utf8":
        case "utf-8":
          return "utf8";
        case "ucs2":
        case "ucs-2":
        case "utf16le":
        case "utf-16le":
          return "utf16le";
        case "latin1":
        case "binary":
          return "latin1";
        case "base64":
        case "ascii":
        case "hex":
          return encoding;
        default:
          throw new Error("Unknown encoding: " + encoding);
      }
    }
  }
});

// node_modules/streamx/lib/errors.js
var require_errors = __commonJS({
  "node_modules/streamx/lib/errors.js"(exports, module) {
    module.exports = class StreamError extends Error {
      constructor(msg, code5, fn = StreamError) {
        super(msg);
        this.code = code5;
        if (Error.captureStackTrace) {
          Error.captureStackTrace(this, fn);
        }
      }
      static isStreamDestroyed(err) {
        return err && err.code === "STREAM_DESTROYED";
      }
      static isPrematureClose(err) {
        return err && err.code === "PREMATURE_CLOSE";
      }
      static isAborted(err) {
        return err && err.code === "ABORTED";
      }
      static isBadArgument(err) {
        return err && err.code === "BAD_ARGUMENT";
      }
      get name() {
        return "StreamError";
      }
      static STREAM_DESTROYED() {
        return new StreamError("Stream was destroyed", "STREAM_DESTROYED", StreamError.STREAM_DESTROYED);
      }
      static PREMATURE_CLOSE(msg = "Premature close") {
        return new StreamError(msg, "PREMATURE_CLOSE", StreamError.PREMATURE_CLOSE);
      }
      static ABORTED() {
        return new StreamError("Stream aborted", "ABORTED", StreamError.ABORTED);
      }
      static BAD_ARGUMENT(msg = "Bad argument") {
        return new StreamError(msg, "BAD_ARGUMENT", StreamError.BAD_ARGUMENT);
      }
    };
  }
});

// node_modules/streamx/index.js
var require_streamx = __commonJS({
  "node_modules/streamx/index.js"(exports, module) {
    var { EventEmitter: EventEmitter2 } = require_default();
    var FIFO = require_fast_fifo();
    var TextDecoder2 = require_text_decoder();
    var StreamError = require_errors();
    var qmt = typeof queueMicrotask === "undefined" ? (fn) => global.process.nextTick(fn) : queueMicrotask;
    var MAX = (1 << 29) - 1;
    var OPENING = 1;
    var PREDESTROYING = 2;
    var DESTROYING = 4;
    var DESTROYED = 8;
    var NOT_OPENING = MAX ^ OPENING;
    var NOT_PREDESTROYING = MAX ^ PREDESTROYING;
    var READ_ACTIVE = 1 << 4;
    var READ_UPDATING = 2 << 4;
    var READ_PRIMARY = 4 << 4;
    var READ_QUEUED = 8 << 4;
    var READ_RESUMED = 16 << 4;
    var READ_PIPE_DRAINED = 32 << 4;
    var READ_ENDING = 64 << 4;
    var READ_EMIT_DATA = 128 << 4;
    var READ_EMIT_READABLE = 256 << 4;
    var READ_EMITTED_READABLE = 512 << 4;
    var READ_DONE = 1024 << 4;
    var READ_NEXT_TICK = 2048 << 4;
    var READ_NEEDS_PUSH = 4096 << 4;
    var READ_READ_AHEAD = 8192 << 4;
    var READ_FLOWING = READ_RESUMED | READ_PIPE_DRAINED;
    var READ_ACTIVE_AND_NEEDS_PUSH = READ_ACTIVE | READ_NEEDS_PUSH;
    var READ_PRIMARY_AND_ACTIVE = READ_PRIMARY | READ_ACTIVE;
    var READ_EMIT_READABLE_AND_QUEUED = READ_EMIT_READABLE | READ_QUEUED;
    var READ_RESUMED_READ_AHEAD = READ_RESUMED | READ_READ_AHEAD;
    var READ_NOT_ACTIVE = MAX ^ READ_ACTIVE;
    var READ_NON_PRIMARY = MAX ^ READ_PRIMARY;
    var READ_NON_PRIMARY_AND_PUSHED = MAX ^ (READ_PRIMARY | READ_NEEDS_PUSH);
    var READ_PUSHED = MAX ^ READ_NEEDS_PUSH;
    var READ_PAUSED = MAX ^ READ_RESUMED;
    var READ_NOT_QUEUED = MAX ^ (READ_QUEUED | READ_EMITTED_READABLE);
    var READ_NOT_ENDING = MAX ^ READ_ENDING;
    var READ_PIPE_NOT_DRAINED = MAX ^ READ_FLOWING;
    var READ_NOT_NEXT_TICK = MAX ^ READ_NEXT_TICK;
    var READ_NOT_UPDATING = MAX ^ READ_UPDATING;
    var READ_NO_READ_AHEAD = MAX ^ READ_READ_AHEAD;
    var READ_PAUSED_NO_READ_AHEAD = MAX ^ READ_RESUMED_READ_AHEAD;
    var WRITE_ACTIVE = 1 << 18;
    var WRITE_UPDATING = 2 << 18;
    var WRITE_PRIMARY = 4 << 18;
    var WRITE_QUEUED = 8 << 18;
    var WRITE_UNDRAINED = 16 << 18;
    var WRITE_DONE = 32 << 18;
    var WRITE_EMIT_DRAIN = 64 << 18;
    var WRITE_NEXT_TICK = 128 << 18;
    var WRITE_WRITING = 256 << 18;
    var WRITE_FINISHING = 512 << 18;
    var WRITE_CORKED = 1024 << 18;
    var WRITE_NOT_ACTIVE = MAX ^ (WRITE_ACTIVE | WRITE_WRITING);
    var WRITE_NON_PRIMARY = MAX ^ WRITE_PRIMARY;
    var WRITE_NOT_FINISHING = MAX ^ (WRITE_ACTIVE | WRITE_FINISHING);
    var WRITE_DRAINED = MAX ^ WRITE_UNDRAINED;
    var WRITE_NOT_QUEUED = MAX ^ WRITE_QUEUED;
    var WRITE_NOT_NEXT_TICK = MAX ^ WRITE_NEXT_TICK;
    var WRITE_NOT_UPDATING = MAX ^ WRITE_UPDATING;
    var WRITE_NOT_CORKED = MAX ^ WRITE_CORKED;
    var ACTIVE = READ_ACTIVE | WRITE_ACTIVE;
    var NOT_ACTIVE = MAX ^ ACTIVE;
    var DONE2 = READ_DONE | WRITE_DONE;
    var DESTROY_STATUS = DESTROYING | DESTROYED | PREDESTROYING;
    var OPEN_STATUS = DESTROY_STATUS | OPENING;
    var AUTO_DESTROY = DESTROY_STATUS | DONE2;
    var NON_PRIMARY = WRITE_NON_PRIMARY & READ_NON_PRIMARY;
    var ACTIVE_OR_TICKING = WRITE_NEXT_TICK | READ_NEXT_TICK;
    var TICKING = ACTIVE_OR_TICKING & NOT_ACTIVE;
    var IS_OPENING = OPEN_STATUS | TICKING;
    var READ_PRIMARY_STATUS = OPEN_STATUS | READ_ENDING | READ_DONE;
    var READ_STATUS = OPEN_STATUS | READ_DONE | READ_QUEUED;
    var READ_ENDING_STATUS = OPEN_STATUS | READ_ENDING | READ_QUEUED;
    var READ_READABLE_STATUS = OPEN_STATUS | READ_EMIT_READABLE | READ_QUEUED | READ_EMITTED_READABLE;
    var SHOULD_NOT_READ = OPEN_STATUS | READ_ACTIVE | READ_ENDING | READ_DONE | READ_NEEDS_PUSH | READ_READ_AHEAD;
    var READ_BACKPRESSURE_STATUS = DESTROY_STATUS | READ_ENDING | READ_DONE;
    var READ_UPDATE_SYNC_STATUS = READ_UPDATING | OPEN_STATUS | READ_NEXT_TICK | READ_PRIMARY;
    var READ_NEXT_TICK_OR_OPENING = READ_NEXT_TICK | OPENING;
    var WRITE_PRIMARY_STATUS = OPEN_STATUS | WRITE_FINISHING | WRITE_DONE;
    var WRITE_QUEUED_AND_UNDRAINED = WRITE_QUEUED | WRITE_UNDRAINED;
    var WRITE_QUEUED_AND_ACTIVE = WRITE_QUEUED | WRITE_ACTIVE;
    var WRITE_DRAIN_STATUS = WRITE_QUEUED | WRITE_UNDRAINED | OPEN_STATUS | WRITE_ACTIVE;
    var WRITE_STATUS = OPEN_STATUS | WRITE_ACTIVE | WRITE_QUEUED | WRITE_CORKED;
    var WRITE_PRIMARY_AND_ACTIVE = WRITE_PRIMARY | WRITE_ACTIVE;
    var WRITE_ACTIVE_AND_WRITING = WRITE_ACTIVE | WRITE_WRITING;
    var WRITE_FINISHING_STATUS = OPEN_STATUS | WRITE_FINISHING | WRITE_QUEUED_AND_ACTIVE | WRITE_DONE;
    var WRITE_BACKPRESSURE_STATUS = WRITE_UNDRAINED | DESTROY_STATUS | WRITE_FINISHING | WRITE_DONE;
    var WRITE_UPDATE_SYNC_STATUS = WRITE_UPDATING | OPEN_STATUS | WRITE_NEXT_TICK | WRITE_PRIMARY;
    var WRITE_DROP_DATA = WRITE_FINISHING | WRITE_DONE | DESTROY_STATUS;
    var asyncIterator = Symbol.asyncIterator || /* @__PURE__ */ Symbol("asyncIterator");
    var WritableState = class {
      constructor(stream, { highWaterMark = 16384, map = null, mapWritable, byteLength, byteLengthWritable } = {}) {
        this.stream = stream;
        this.queue = new FIFO();
        this.highWaterMark = highWaterMark;
        this.buffered = 0;
        this.error = null;
        this.pipeline = null;
        this.drains = null;
        this.byteLength = byteLengthWritable || byteLength || defaultByteLength;
        this.map = mapWritable || map;
        this.afterWrite = afterWrite.bind(this);
        this.afterUpdateNextTick = updateWriteNT.bind(this);
      }
      get ending() {
        return (this.stream._duplexState & WRITE_FINISHING) !== 0;
      }
      get ended() {
        return (this.stream._duplexState & WRITE_DONE) !== 0;
      }
      push(data) {
        if ((this.stream._duplexState & WRITE_DROP_DATA) !== 0) return false;
        if (this.map !== null) data = this.map(data);
        this.buffered += this.byteLength(data);
        this.queue.push(data);
        if (this.buffered < this.highWaterMark) {
          this.stream._duplexState |= WRITE_QUEUED;
          return true;
        }
        this.stream._duplexState |= WRITE_QUEUED_AND_UNDRAINED;
        return false;
      }
      shift() {
        const data = this.queue.shift();
        this.buffered -= this.byteLength(data);
        if (this.buffered === 0) this.stream._duplexState &= WRITE_NOT_QUEUED;
        return data;
      }
      end(data) {
        if (typeof data === "function") {
          this.stream.once("finish", data);
        } else if (data !== void 0 && data !== null) {
          this.push(data);
        }
        this.stream._duplexState = (this.stream._duplexState | WRITE_FINISHING) & WRITE_NON_PRIMARY;
      }
      autoBatch(data, cb) {
        const buffer2 = [];
        const stream = this.stream;
        buffer2.push(data);
        while ((stream._duplexState & WRITE_STATUS) === WRITE_QUEUED_AND_ACTIVE) {
          buffer2.push(stream._writableState.shift());
        }
        if ((stream._duplexState & OPEN_STATUS) !== 0) return cb(null);
        stream._writev(buffer2, cb);
      }
      update() {
        const stream = this.stream;
        stream._duplexState |= WRITE_UPDATING;
        do {
          while ((stream._duplexState & WRITE_STATUS) === WRITE_QUEUED) {
            const data = this.shift();
            stream._duplexState |= WRITE_ACTIVE_AND_WRITING;
            stream._write(data, this.afterWrite);
          }
          if ((stream._duplexState & WRITE_PRIMARY_AND_ACTIVE) === 0) this.updateNonPrimary();
        } while (this.continueUpdate() === true);
        stream._duplexState &= WRITE_NOT_UPDATING;
      }
      updateNonPrimary() {
        const stream = this.stream;
        if ((stream._duplexState & WRITE_FINISHING_STATUS) === WRITE_FINISHING) {
          stream._duplexState = stream._duplexState | WRITE_ACTIVE;
          stream._final(afterFinal.bind(this));
          return;
        }
        if ((stream._duplexState & DESTROY_STATUS) === DESTROYING) {
          if ((stream._duplexState & ACTIVE_OR_TICKING) === 0) {
            stream._duplexState |= ACTIVE;
            stream._destroy(afterDestroy.bind(this));
          }
          return;
        }
        if ((stream._duplexState & IS_OPENING) === OPENING) {
          stream._duplexState = (stream._duplexState | ACTIVE) & NOT_OPENING;
          stream._open(afterOpen.bind(this));
        }
      }
      continueUpdate() {
        if ((this.stream._duplexState & WRITE_NEXT_TICK) === 0) return false;
        this.stream._duplexState &= WRITE_NOT_NEXT_TICK;
        return true;
      }
      updateCallback() {
        if ((this.stream._duplexState & WRITE_UPDATE_SYNC_STATUS) === WRITE_PRIMARY) {
          this.update();
        } else {
          this.updateNextTick();
        }
      }
      updateNextTick() {
        if ((this.stream._duplexState & WRITE_NEXT_TICK) !== 0) return;
        this.stream._duplexState |= WRITE_NEXT_TICK;
        if ((this.stream._duplexState & WRITE_UPDATING) === 0) qmt(this.afterUpdateNextTick);
      }
    };
    var ReadableState = class {
      constructor(stream, { highWaterMark = 16384, map = null, mapReadable, byteLength, byteLengthReadable } = {}) {
        this.stream = stream;
        this.queue = new FIFO();
        this.highWaterMark = highWaterMark === 0 ? 1 : highWaterMark;
        this.buffered = 0;
        this.readAhead = highWaterMark > 0;
        this.error = null;
        this.pipeline = null;
        this.byteLength = byteLengthReadable || byteLength || defaultByteLength;
        this.map = mapReadable || map;
        this.pipeTo = null;
        this.afterRead = afterRead.bind(this);
        this.afterUpdateNextTick = updateReadNT.bind(this);
      }
      get ending() {
        return (this.stream._duplexState & READ_ENDING) !== 0;
      }
      get ended() {
        return (this.stream._duplexState & READ_DONE) !== 0;
      }
      pipe(pipeTo, cb) {
        if (this.pipeTo !== null) throw StreamError.BAD_ARGUMENT("Can only pipe to one destination");
        if (typeof cb !== "function") cb = null;
        this.stream._duplexState |= READ_PIPE_DRAINED;
        this.pipeTo = pipeTo;
        this.pipeline = new Pipeline(this.stream, pipeTo, cb);
        if (cb) this.stream.on("error", noop2);
        if (isStreamx(pipeTo)) {
          pipeTo._writableState.pipeline = this.pipeline;
          if (cb) pipeTo.on("error", noop2);
          pipeTo.on("finish", this.pipeline.finished.bind(this.pipeline));
        } else {
          const onerror = this.pipeline.done.bind(this.pipeline, pipeTo);
          const onclose = this.pipeline.done.bind(this.pipeline, pipeTo, null);
          pipeTo.on("error", onerror);
          pipeTo.on("close", onclose);
          pipeTo.on("finish", this.pipeline.finished.bind(this.pipeline));
        }
        pipeTo.on("drain", afterDrain.bind(this));
        this.stream.emit("piping", pipeTo);
        pipeTo.emit("pipe", this.stream);
      }
      push(data) {
        const stream = this.stream;
        if (data === null) {
          this.highWaterMark = 0;
          stream._duplexState = (stream._duplexState | READ_ENDING) & READ_NON_PRIMARY_AND_PUSHED;
          return false;
        }
        if (this.map !== null) {
          data = this.map(data);
          if (data === null) {
            stream._duplexState &= READ_PUSHED;
            return this.buffered < this.highWaterMark;
          }
        }
        this.buffered += this.byteLength(data);
        this.queue.push(data);
        stream._duplexState = (stream._duplexState | READ_QUEUED) & READ_PUSHED;
        return this.buffered < this.highWaterMark;
      }
      shift() {
        const data = this.queue.shift();
        this.buffered -= this.byteLength(data);
        if (this.buffered === 0) {
          this.stream._duplexState &= READ_NOT_QUEUED;
        }
        return data;
      }
      unshift(data) {
        const pending = [this.map !== null ? this.map(data) : data];
        while (this.buffered > 0) pending.push(this.shift());
        for (let i = 0; i < pending.length - 1; i++) {
          const data2 = pending[i];
          this.buffered += this.byteLength(data2);
          this.queue.push(data2);
        }
        this.push(pending[pending.length - 1]);
      }
      read() {
        const stream = this.stream;
        if ((stream._duplexState & READ_STATUS) === READ_QUEUED) {
          const data = this.shift();
          if (this.pipeTo !== null && this.pipeTo.write(data) === false) {
            stream._duplexState &= READ_PIPE_NOT_DRAINED;
          }
          if ((stream._duplexState & READ_EMIT_DATA) !== 0) {
            stream.emit("data", data);
          }
          return data;
        }
        if (this.readAhead === false) {
          stream._duplexState |= READ_READ_AHEAD;
          this.updateNextTick();
        }
        return null;
      }
      drain() {
        const stream = this.stream;
        while ((stream._duplexState & READ_STATUS) === READ_QUEUED && (stream._duplexState & READ_FLOWING) !== 0) {
          const data = this.shift();
          if (this.pipeTo !== null && this.pipeTo.write(data) === false) {
            stream._duplexState &= READ_PIPE_NOT_DRAINED;
          }
          if ((stream._duplexState & READ_EMIT_DATA) !== 0) {
            stream.emit("data", data);
          }
        }
      }
      update() {
        const stream = this.stream;
        stream._duplexState |= READ_UPDATING;
        do {
          this.drain();
          while (this.buffered < this.highWaterMark && (stream._duplexState & SHOULD_NOT_READ) === READ_READ_AHEAD) {
            stream._duplexState |= READ_ACTIVE_AND_NEEDS_PUSH;
            stream._read(this.afterRead);
            this.drain();
          }
          if ((stream._duplexState & READ_READABLE_STATUS) === READ_EMIT_READABLE_AND_QUEUED) {
            stream._duplexState |= READ_EMITTED_READABLE;
            stream.emit("readable");
          }
          if ((stream._duplexState & READ_PRIMARY_AND_ACTIVE) === 0) {
            this.updateNonPrimary();
          }
        } while (this.continueUpdate() === true);
        stream._duplexState &= READ_NOT_UPDATING;
      }
      updateNonPrimary() {
        const stream = this.stream;
        if ((stream._duplexState & READ_ENDING_STATUS) === READ_ENDING) {
          stream._duplexState = (stream._duplexState | READ_DONE) & READ_NOT_ENDING;
          stream.emit("end");
          if ((stream._duplexState & AUTO_DESTROY) === DONE2) {
            stream._duplexState |= DESTROYING;
          }
          if (this.pipeTo !== null) {
            this.pipeTo.end();
          }
        }
        if ((stream._duplexState & DESTROY_STATUS) === DESTROYING) {
          if ((stream._duplexState & ACTIVE_OR_TICKING) === 0) {
            stream._duplexState |= ACTIVE;
            stream._destroy(afterDestroy.bind(this));
          }
          return;
        }
        if ((stream._duplexState & IS_OPENING) === OPENING) {
          stream._duplexState = (stream._duplexState | ACTIVE) & NOT_OPENING;
          stream._open(afterOpen.bind(this));
        }
      }
      continueUpdate() {
        if ((this.stream._duplexState & READ_NEXT_TICK) === 0) return false;
        this.stream._duplexState &= READ_NOT_NEXT_TICK;
        return true;
      }
      updateCallback() {
        if ((this.stream._duplexState & READ_UPDATE_SYNC_STATUS) === READ_PRIMARY) {
          this.update();
        } else {
          this.updateNextTick();
        }
      }
      updateNextTickIfOpen() {
        if ((this.stream._duplexState & READ_NEXT_TICK_OR_OPENING) !== 0) return;
        this.stream._duplexState |= READ_NEXT_TICK;
        if ((this.stream._duplexState & READ_UPDATING) === 0) qmt(this.afterUpdateNextTick);
      }
      updateNextTick() {
        if ((this.stream._duplexState & READ_NEXT_TICK) !== 0) return;
        this.stream._duplexState |= READ_NEXT_TICK;
        if ((this.stream._duplexState & READ_UPDATING) === 0) qmt(this.afterUpdateNextTick);
      }
    };
    var TransformState = class {
      constructor(stream) {
        this.data = null;
        this.afterTransform = afterTransform.bind(stream);
        this.afterFinal = null;
      }
    };
    var Pipeline = class {
      constructor(src2, dst, cb) {
        this.from = src2;
        this.to = dst;
        this.afterPipe = cb;
        this.error = null;
        this.pipeToFinished = false;
      }
      finished() {
        this.pipeToFinished = true;
      }
      done(stream, err) {
        if (err) this.error = err;
        if (stream === this.to) {
          this.to = null;
          if (this.from !== null) {
            if ((this.from._duplexState & READ_DONE) === 0 || !this.pipeToFinished) {
              this.from.destroy(this.error || StreamError.PREMATURE_CLOSE("Writable stream closed"));
            }
            return;
          }
        }
        if (stream === this.from) {
          this.from = null;
          if (this.to !== null) {
            if ((stream._duplexState & READ_DONE) === 0) {
              this.to.destroy(this.error || StreamError.PREMATURE_CLOSE("Readable stream closed"));
            }
            return;
          }
        }
        if (this.afterPipe !== null) this.afterPipe(this.error);
        this.to = this.from = this.afterPipe = null;
      }
    };
    function afterDrain() {
      this.stream._duplexState |= READ_PIPE_DRAINED;
      this.updateCallback();
    }
    function afterFinal(err) {
      const stream = this.stream;
      if (err) stream.destroy(err);
      if ((stream._duplexState & DESTROY_STATUS) === 0) {
        stream._duplexState |= WRITE_DONE;
        stream.emit("finish");
      }
      if ((stream._duplexState & AUTO_DESTROY) === DONE2) {
        stream._duplexState |= DESTROYING;
      }
      stream._duplexState &= WRITE_NOT_FINISHING;
      if ((stream._duplexState & WRITE_UPDATING) === 0) {
        this.update();
      } else {
        this.updateNextTick();
      }
    }
    function afterDestroy(err) {
      const stream = this.stream;
      if (!err && !StreamError.isStreamDestroyed(this.error)) err = this.error;
      if (err) stream.emit("error", err);
      stream._duplexState |= DESTROYED;
      stream.emit("close");
      const rs = stream._readableState;
      const ws = stream._writableState;
      if (rs !== null && rs.pipeline !== null) {
        rs.pipeline.done(stream, err);
      }
      if (ws !== null) {
        while (ws.drains !== null && ws.drains.length > 0) {
          ws.drains.shift().resolve(false);
        }
        if (ws.pipeline !== null) {
          ws.pipeline.done(stream, err);
        }
      }
    }
    function afterWrite(err) {
      const stream = this.stream;
      if (err) stream.destroy(err);
      stream._duplexState &= WRITE_NOT_ACTIVE;
      if (this.drains !== null) tickDrains(this.drains);
      if ((stream._duplexState & WRITE_DRAIN_STATUS) === WRITE_UNDRAINED) {
        stream._duplexState &= WRITE_DRAINED;
        if ((stream._duplexState & WRITE_EMIT_DRAIN) === WRITE_EMIT_DRAIN) {
          stream.emit("drain");
        }
      }
      this.updateCallback();
    }
    function afterRead(err) {
      if (err) this.stream.destroy(err);
      this.stream._duplexState &= READ_NOT_ACTIVE;
      if (this.readAhead === false && (this.stream._duplexState & READ_RESUMED) === 0) {
        this.stream._duplexState &= READ_NO_READ_AHEAD;
      }
      this.updateCallback();
    }
    function updateReadNT() {
      if ((this.stream._duplexState & READ_UPDATING) === 0) {
        this.stream._duplexState &= READ_NOT_NEXT_TICK;
        this.update();
      }
    }
    function updateWriteNT() {
      if ((this.stream._duplexState & WRITE_UPDATING) === 0) {
        this.stream._duplexState &= WRITE_NOT_NEXT_TICK;
        this.update();
      }
    }
    function tickDrains(drains) {
      for (let i = 0; i < drains.length; i++) {
        if (--drains[i].writes === 0) {
          drains.shift().resolve(true);
          i--;
        }
      }
    }
    function afterOpen(err) {
      const stream = this.stream;
      if (err) stream.destroy(err);
      if ((stream._duplexState & DESTROYING) === 0) {
        if ((stream._duplexState & READ_PRIMARY_STATUS) === 0) {
          stream._duplexState |= READ_PRIMARY;
        }
        if ((stream._duplexState & WRITE_PRIMARY_STATUS) === 0) {
          stream._duplexState |= WRITE_PRIMARY;
        }
        stream.emit("open");
      }
      stream._duplexState &= NOT_ACTIVE;
      if (stream._writableState !== null) {
        stream._writableState.updateCallback();
      }
      if (stream._readableState !== null) {
        stream._readableState.updateCallback();
      }
    }
    function afterTransform(err, data) {
      if (data !== void 0 && data !== null) this.push(data);
      this._writableState.afterWrite(err);
    }
    function newListener(name4) {
      if (this._readableState !== null) {
        if (name4 === "data") {
          this._duplexState |= READ_EMIT_DATA | READ_RESUMED_READ_AHEAD;
          this._readableState.updateNextTick();
        }
        if (name4 === "readable") {
          this._duplexState |= READ_EMIT_READABLE;
          this._readableState.updateNextTick();
        }
      }
      if (this._writableState !== null) {
        if (name4 === "drain") {
          this._duplexState |= WRITE_EMIT_DRAIN;
          this._writableState.updateNextTick();
        }
      }
    }
    var Stream = class extends EventEmitter2 {
      constructor(opts) {
        super();
        this._duplexState = 0;
        this._readableState = null;
        this._writableState = null;
        if (opts) {
          if (opts.open) this._open = opts.open;
          if (opts.destroy) this._destroy = opts.destroy;
          if (opts.predestroy) this._predestroy = opts.predestroy;
          if (opts.signal) opts.signal.addEventListener("abort", abort.bind(this));
        }
        this.on("newListener", newListener);
      }
      _open(cb) {
        cb(null);
      }
      _destroy(cb) {
        cb(null);
      }
      _predestroy() {
      }
      get readable() {
        return this._readableState !== null ? true : void 0;
      }
      get writable() {
        return this._writableState !== null ? true : void 0;
      }
      get destroyed() {
        return (this._duplexState & DESTROYED) !== 0;
      }
      get destroying() {
        return (this._duplexState & DESTROY_STATUS) !== 0;
      }
      destroy(err) {
        if ((this._duplexState & DESTROY_STATUS) === 0) {
          if (!err) err = StreamError.STREAM_DESTROYED();
          this._duplexState = (this._duplexState | DESTROYING) & NON_PRIMARY;
          if (this._readableState !== null) {
            this._readableState.highWaterMark = 0;
            this._readableState.error = err;
          }
          if (this._writableState !== null) {
            this._writableState.highWaterMark = 0;
            this._writableState.error = err;
          }
          this._duplexState |= PREDESTROYING;
          this._predestroy();
          this._duplexState &= NOT_PREDESTROYING;
          if (this._readableState !== null) {
            this._readableState.updateNextTick();
          }
          if (this._writableState !== null) {
            this._writableState.updateNextTick();
          }
        }
      }
    };
    var Readable4 = class _Readable extends Stream {
      constructor(opts) {
        super(opts);
        this._duplexState |= OPENING | WRITE_DONE | READ_READ_AHEAD;
        this._readableState = new ReadableState(this, opts);
        if (opts) {
          if (this._readableState.readAhead === false) this._duplexState &= READ_NO_READ_AHEAD;
          if (opts.read) this._read = opts.read;
          if (opts.eagerOpen) this._readableState.updateNextTick();
          if (opts.encoding) this.setEncoding(opts.encoding);
        }
      }
      static deferred(fn, opts) {
        const out = new PassThrough2(opts);
        fn().then((src2) => {
          if (src2 === null) return out.end();
          if (out.destroying) return;
          pipeline5(src2, out, noop2);
        }).catch((err) => out.destroy(err));
        return out;
      }
      setEncoding(encoding) {
        const dec = new TextDecoder2(encoding);
        const map = this._readableState.map || echo;
        this._readableState.map = mapOrSkip;
        return this;
        function mapOrSkip(data) {
          const next = dec.push(data);
          return next === "" && (data.byteLength !== 0 || dec.remaining > 0) ? null : map(next);
        }
      }
      _read(cb) {
        cb(null);
      }
      pipe(dest, cb) {
        this._readableState.updateNextTick();
        this._readableState.pipe(dest, cb);
        return dest;
      }
      read() {
        this._readableState.updateNextTick();
        return this._readableState.read();
      }
      push(data) {
        this._readableState.updateNextTickIfOpen();
        return this._readableState.push(data);
      }
      unshift(data) {
        this._readableState.updateNextTickIfOpen();
        return this._readableState.unshift(data);
      }
      resume() {
        this._duplexState |= READ_RESUMED_READ_AHEAD;
        this._readableState.updateNextTick();
        return this;
      }
      pause() {
        this._duplexState &= this._readableState.readAhead === false ? READ_PAUSED_NO_READ_AHEAD : READ_PAUSED;
        return this;
      }
      static _fromAsyncIterator(ite, opts) {
        let destroy;
        const rs = new _Readable({
          ...opts,
          read(cb) {
            ite.next().then(push2).then(cb.bind(null, null)).catch(cb);
          },
          predestroy() {
            destroy = ite.return();
          },
          destroy(cb) {
            if (!destroy) return cb(null);
            destroy.then(cb.bind(null, null)).catch(cb);
          }
        });
        return rs;
        function push2(data) {
          if (data.done) rs.push(null);
          else rs.push(data.value);
        }
      }
      static from(data, opts) {
        if (isReadStreamx(data)) return data;
        if (data[asyncIterator]) return this._fromAsyncIterator(data[asyncIterator](), opts);
        if (!Array.isArray(data)) data = data === void 0 ? [] : [data];
        let i = 0;
        return new _Readable({
          ...opts,
          read(cb) {
            this.push(i === data.length ? null : data[i++]);
            cb(null);
          }
        });
      }
      static isBackpressured(rs) {
        return (rs._duplexState & READ_BACKPRESSURE_STATUS) !== 0 || rs._readableState.buffered >= rs._readableState.highWaterMark;
      }
      static isPaused(rs) {
        return (rs._duplexState & READ_RESUMED) === 0;
      }
      [asyncIterator]() {
        const stream = this;
        let error = null;
        let promiseResolve = null;
        let promiseReject = null;
        this.on("error", (err) => {
          error = err;
        });
        this.on("readable", onreadable);
        this.on("close", onclose);
        return {
          [asyncIterator]() {
            return this;
          },
          next() {
            return new Promise(function(resolve2, reject) {
              promiseResolve = resolve2;
              promiseReject = reject;
              const data = stream.read();
              if (data !== null) ondata(data);
              else if ((stream._duplexState & DESTROYED) !== 0) ondata(null);
            });
          },
          return() {
            return destroy(null);
          },
          throw(err) {
            return destroy(err);
          }
        };
        function onreadable() {
          if (promiseResolve !== null) ondata(stream.read());
        }
        function onclose() {
          if (promiseResolve !== null) ondata(null);
        }
        function ondata(data) {
          if (promiseReject === null) return;
          if (error) {
            promiseReject(error);
          } else if (data === null && (stream._duplexState & READ_DONE) === 0) {
            promiseReject(StreamError.STREAM_DESTROYED());
          } else {
            promiseResolve({ value: data, done: data === null });
          }
          promiseReject = promiseResolve = null;
        }
        function destroy(err) {
          stream.destroy(err);
          return new Promise((resolve2, reject) => {
            if (stream._duplexState & DESTROYED) return resolve2({ value: void 0, done: true });
            stream.once("close", function() {
              if (err) reject(err);
              else resolve2({ value: void 0, done: true });
            });
          });
        }
      }
    };
    var Writable2 = class extends Stream {
      constructor(opts) {
        super(opts);
        this._duplexState |= OPENING | READ_DONE;
        this._writableState = new WritableState(this, opts);
        if (opts) {
          if (opts.writev) this._writev = opts.writev;
          if (opts.write) this._write = opts.write;
          if (opts.final) this._final = opts.final;
          if (opts.eagerOpen) this._writableState.updateNextTick();
        }
      }
      cork() {
        this._duplexState |= WRITE_CORKED;
      }
      uncork() {
        this._duplexState &= WRITE_NOT_CORKED;
        this._writableState.updateNextTick();
      }
      _writev(batch2, cb) {
        cb(null);
      }
      _write(data, cb) {
        this._writableState.autoBatch(data, cb);
      }
      _final(cb) {
        cb(null);
      }
      static isBackpressured(ws) {
        return (ws._duplexState & WRITE_BACKPRESSURE_STATUS) !== 0;
      }
      static drained(ws) {
        if (ws.destroyed) return Promise.resolve(false);
        const state = ws._writableState;
        const pending = isWritev(ws) ? Math.min(1, state.queue.length) : state.queue.length;
        const writes = pending + (ws._duplexState & WRITE_WRITING ? 1 : 0);
        if (writes === 0) return Promise.resolve(true);
        if (state.drains === null) state.drains = [];
        return new Promise((resolve2) => {
          state.drains.push({ writes, resolve: resolve2 });
        });
      }
      write(data) {
        this._writableState.updateNextTick();
        return this._writableState.push(data);
      }
      end(data) {
        this._writableState.updateNextTick();
        this._writableState.end(data);
        return this;
      }
    };
    var Duplex = class extends Readable4 {
      // and Writable
      constructor(opts) {
        super(opts);
        this._duplexState = OPENING | this._duplexState & READ_READ_AHEAD;
        this._writableState = new WritableState(this, opts);
        if (opts) {
          if (opts.writev) this._writev = opts.writev;
          if (opts.write) this._write = opts.write;
          if (opts.final) this._final = opts.final;
        }
      }
      cork() {
        this._duplexState |= WRITE_CORKED;
      }
      uncork() {
        this._duplexState &= WRITE_NOT_CORKED;
        this._writableState.updateNextTick();
      }
      _writev(batch2, cb) {
        cb(null);
      }
      _write(data, cb) {
        this._writableState.autoBatch(data, cb);
      }
      _final(cb) {
        cb(null);
      }
      write(data) {
        this._writableState.updateNextTick();
        return this._writableState.push(data);
      }
      end(data) {
        this._writableState.updateNextTick();
        this._writableState.end(data);
        return this;
      }
    };
    var Transform4 = class extends Duplex {
      constructor(opts) {
        super(opts);
        this._transformState = new TransformState(this);
        if (opts) {
          if (opts.transform) this._transform = opts.transform;
          if (opts.flush) this._flush = opts.flush;
        }
      }
      _write(data, cb) {
        if (this._readableState.buffered >= this._readableState.highWaterMark) {
          this._transformState.data = data;
        } else {
          this._transform(data, this._transformState.afterTransform);
        }
      }
      _read(cb) {
        if (this._transformState.data !== null) {
          const data = this._transformState.data;
          this._transformState.data = null;
          cb(null);
          this._transform(data, this._transformState.afterTransform);
        } else {
          cb(null);
        }
      }
      destroy(err) {
        super.destroy(err);
        if (this._transformState.data !== null) {
          this._transformState.data = null;
          this._transformState.afterTransform();
        }
      }
      _transform(data, cb) {
        cb(null, data);
      }
      _flush(cb) {
        cb(null);
      }
      _final(cb) {
        this._transformState.afterFinal = cb;
        this._flush(transformAfterFlush.bind(this));
      }
    };
    var PassThrough2 = class extends Transform4 {
    };
    function transformAfterFlush(err, data) {
      const cb = this._transformState.afterFinal;
      if (err) return cb(err);
      if (data !== null && data !== void 0) this.push(data);
      this.push(null);
      cb(null);
    }
    function pipelinePromise(...streams) {
      return new Promise((resolve2, reject) => {
        return pipeline5(...streams, (err) => {
          if (err) return reject(err);
          resolve2();
        });
      });
    }
    function pipeline5(stream, ...streams) {
      const all = Array.isArray(stream) ? [...stream, ...streams] : [stream, ...streams];
      const done = all.length && typeof all[all.length - 1] === "function" ? all.pop() : null;
      if (all.length < 2) throw StreamError.BAD_ARGUMENT("Pipeline requires at least 2 streams");
      let src2 = all[0];
      let dest = null;
      let error = null;
      for (let i = 1; i < all.length; i++) {
        dest = all[i];
        if (isStreamx(src2)) {
          src2.pipe(dest, onerror);
        } else {
          errorHandle(src2, true, i > 1, onerror);
          src2.pipe(dest);
        }
        src2 = dest;
      }
      if (done) {
        let fin = false;
        const autoDestroy = isStreamx(dest) || !!(dest._writableState && dest._writableState.autoDestroy);
        dest.on("error", (err) => {
          if (error === null) error = err;
        });
        dest.on("finish", () => {
          fin = true;
          if (!autoDestroy) done(error);
        });
        if (autoDestroy) {
          dest.on("close", () => done(error || (fin ? null : StreamError.PREMATURE_CLOSE())));
        }
      }
      return dest;
      function errorHandle(s, rd, wr, onerror2) {
        s.on("error", onerror2);
        s.on("close", onclose);
        function onclose() {
          if (rd && s._readableState && !s._readableState.ended) {
            return onerror2(StreamError.PREMATURE_CLOSE());
          }
          if (wr && s._writableState && !s._writableState.ended) {
            return onerror2(StreamError.PREMATURE_CLOSE());
          }
        }
      }
      function onerror(err) {
        if (!err || error) return;
        error = err;
        for (const s of all) {
          s.destroy(err);
        }
      }
    }
    function echo(s) {
      return s;
    }
    function isStream(stream) {
      return !!stream._readableState || !!stream._writableState;
    }
    function isStreamx(stream) {
      return typeof stream._duplexState === "number" && isStream(stream);
    }
    function isEnding(stream) {
      return !!stream._readableState && stream._readableState.ending;
    }
    function isEnded(stream) {
      return !!stream._readableState && stream._readableState.ended;
    }
    function isFinishing(stream) {
      return !!stream._writableState && stream._writableState.ending;
    }
    function isFinished(stream) {
      return !!stream._writableState && stream._writableState.ended;
    }
    function getStreamError(stream, opts = {}) {
      const err = stream._readableState && stream._readableState.error || stream._writableState && stream._writableState.error;
      return !opts.all && StreamError.isStreamDestroyed(err) ? null : err;
    }
    function isReadStreamx(stream) {
      return isStreamx(stream) && stream.readable;
    }
    function isDisturbed(stream) {
      return (stream._duplexState & OPENING) !== OPENING || (stream._duplexState & DESTROYING) === DESTROYING || (stream._duplexState & ACTIVE_OR_TICKING) !== 0;
    }
    function isTypedArray(data) {
      return typeof data === "object" && data !== null && typeof data.byteLength === "number";
    }
    function defaultByteLength(data) {
      return isTypedArray(data) ? data.byteLength : 1024;
    }
    function noop2() {
    }
    function abort() {
      this.destroy(StreamError.ABORTED());
    }
    function isWritev(s) {
      return s._writev !== Writable2.prototype._writev && s._writev !== Duplex.prototype._writev;
    }
    module.exports = {
      pipeline: pipeline5,
      pipelinePromise,
      isStream,
      isStreamx,
      isEnding,
      isEnded,
      isFinishing,
      isFinished,
      isDisturbed,
      getStreamError,
      Stream,
      Writable: Writable2,
      Readable: Readable4,
      Duplex,
      Transform: Transform4,
      // Export PassThrough for compatibility with Node.js core's stream module
      PassThrough: PassThrough2
    };
  }
});

// node_modules/tar-stream/headers.js
var require_headers = __commonJS({
  "node_modules/tar-stream/headers.js"(exports) {
    var b4a = require_b4a();
    var ZEROS = "0000000000000000000";
    var SEVENS = "7777777777777777777";
    var ZERO_OFFSET = "0".charCodeAt(0);
    var USTAR_MAGIC = b4a.from([117, 115, 116, 97, 114, 0]);
    var USTAR_VER = b4a.from([ZERO_OFFSET, ZERO_OFFSET]);
    var GNU_MAGIC = b4a.from([117, 115, 116, 97, 114, 32]);
    var GNU_VER = b4a.from([32, 0]);
    var MASK = 4095;
    var MAGIC_OFFSET = 257;
    var VERSION_OFFSET = 263;
    exports.decodeLongPath = function decodeLongPath(buf, encoding) {
      return decodeStr(buf, 0, buf.length, encoding);
    };
    exports.encodePax = function encodePax(opts) {
      let result = "";
      if (opts.name) result += addLength(" path=" + opts.name + "\n");
      if (opts.linkname) result += addLength(" linkpath=" + opts.linkname + "\n");
      const pax = opts.pax;
      if (pax) {
        for (const key in pax) {
          result += addLength(" " + key + "=" + pax[key] + "\n");
        }
      }
      return b4a.from(result);
    };
    exports.decodePax = function decodePax(buf) {
      const result = {};
      while (buf.length) {
        let i = 0;
        while (i < buf.length && buf[i] !== 32) i++;
        const len = parseInt(b4a.toString(buf.subarray(0, i)), 10);
        if (!len) return result;
        const b = b4a.toString(buf.subarray(i + 1, len - 1));
        const keyIndex = b.indexOf("=");
        if (keyIndex === -1) return result;
        result[b.slice(0, keyIndex)] = b.slice(keyIndex + 1);
        buf = buf.subarray(len);
      }
      return result;
    };
    exports.encode = function encode8(opts) {
      const buf = b4a.alloc(512);
      let name4 = opts.name;
      let prefix = "";
      if (opts.typeflag === 5 && name4[name4.length - 1] !== "/") name4 += "/";
      if (b4a.byteLength(name4) !== name4.length) return null;
      while (b4a.byteLength(name4) > 100) {
        const i = name4.indexOf("/");
        if (i === -1) return null;
        prefix += prefix ? "/" + name4.slice(0, i) : name4.slice(0, i);
        name4 = name4.slice(i + 1);
      }
      if (b4a.byteLength(name4) > 100 || b4a.byteLength(prefix) > 155) return null;
      if (opts.linkname && b4a.byteLength(opts.linkname) > 100) return null;
      b4a.write(buf, name4);
      b4a.write(buf, encodeOct(opts.mode & MASK, 6), 100);
      b4a.write(buf, encodeOct(opts.uid, 6), 108);
      b4a.write(buf, encodeOct(opts.gid, 6), 116);
      encodeSize(opts.size, buf, 124);
      b4a.write(buf, encodeOct(opts.mtime.getTime() / 1e3 | 0, 11), 136);
      buf[156] = ZERO_OFFSET + toTypeflag(opts.type);
      if (opts.linkname) b4a.write(buf, opts.linkname, 157);
      b4a.copy(USTAR_MAGIC, buf, MAGIC_OFFSET);
      b4a.copy(USTAR_VER, buf, VERSION_OFFSET);
      if (opts.uname) b4a.write(buf, opts.uname, 265);
      if (opts.gname) b4a.write(buf, opts.gname, 297);
      b4a.write(buf, encodeOct(opts.devmajor || 0, 6), 329);
      b4a.write(buf, encodeOct(opts.devminor || 0, 6), 337);
      if (prefix) b4a.write(buf, prefix, 345);
      b4a.write(buf, encodeOct(cksum(buf), 6), 148);
      return buf;
    };
    exports.decode = function decode10(buf, filenameEncoding, allowUnknownFormat) {
      let typeflag = buf[156] === 0 ? 0 : buf[156] - ZERO_OFFSET;
      let name4 = decodeStr(buf, 0, 100, filenameEncoding);
      const mode = decodeOct(buf, 100, 8);
      const uid = decodeOct(buf, 108, 8);
      const gid = decodeOct(buf, 116, 8);
      const size = decodeOct(buf, 124, 12);
      const mtime = decodeOct(buf, 136, 12);
      const type = toType(typeflag);
      const linkname = buf[157] === 0 ? null : decodeStr(buf, 157, 100, filenameEncoding);
      const uname = decodeStr(buf, 265, 32);
      const gname = decodeStr(buf, 297, 32);
      const devmajor = decodeOct(buf, 329, 8);
      const devminor = decodeOct(buf, 337, 8);
      const c = cksum(buf);
      if (c === 8 * 32) return null;
      if (c !== decodeOct(buf, 148, 8)) throw new Error("Invalid tar header. Maybe the tar is corrupted or it needs to be gunzipped?");
      if (isUSTAR(buf)) {
        if (buf[345]) name4 = decodeStr(buf, 345, 155, filenameEncoding) + "/" + name4;
      } else if (isGNU(buf)) {
      } else {
        if (!allowUnknownFormat) {
          throw new Error("Invalid tar header: unknown format.");
        }
      }
      if (typeflag === 0 && name4 && name4[name4.length - 1] === "/") typeflag = 5;
      return {
        name: name4,
        mode,
        uid,
        gid,
        size,
        byteOffset: 0,
        mtime: new Date(1e3 * mtime),
        type,
        linkname,
        uname,
        gname,
        devmajor,
        devminor,
        pax: null
      };
    };
    function isUSTAR(buf) {
      return b4a.equals(USTAR_MAGIC, buf.subarray(MAGIC_OFFSET, MAGIC_OFFSET + 6));
    }
    function isGNU(buf) {
      return b4a.equals(GNU_MAGIC, buf.subarray(MAGIC_OFFSET, MAGIC_OFFSET + 6)) && b4a.equals(GNU_VER, buf.subarray(VERSION_OFFSET, VERSION_OFFSET + 2));
    }
    function clamp(index, len, defaultValue) {
      if (typeof index !== "number") return defaultValue;
      index = ~~index;
      if (index >= len) return len;
      if (index >= 0) return index;
      index += len;
      if (index >= 0) return index;
      return 0;
    }
    function toType(flag) {
      switch (flag) {
        case 0:
          return "file";
        case 1:
          return "link";
        case 2:
          return "symlink";
        case 3:
          return "character-device";
        case 4:
          return "block-device";
        case 5:
          return "directory";
        case 6:
          return "fifo";
        case 7:
          return "contiguous-file";
        case 72:
          return "pax-header";
        case 55:
          return "pax-global-header";
        case 27:
          return "gnu-long-link-path";
        case 28:
        case 30:
          return "gnu-long-path";
      }
      return null;
    }
    function toTypeflag(flag) {
      switch (flag) {
        case "file":
          return 0;
        case "link":
          return 1;
        case "symlink":
          return 2;
        case "character-device":
          return 3;
        case "block-device":
          return 4;
        case "directory":
          return 5;
        case "fifo":
          return 6;
        case "contiguous-file":
          return 7;
        case "pax-header":
          return 72;
      }
      return 0;
    }
    function indexOf(block, num, offset, end) {
      for (; offset < end; offset++) {
        if (block[offset] === num) return offset;
      }
      return end;
    }
    function cksum(block) {
      let sum = 8 * 32;
      for (let i = 0; i < 148; i++) sum += block[i];
      for (let j = 156; j < 512; j++) sum += block[j];
      return sum;
    }
    function encodeOct(val, n) {
      val = val.toString(8);
      if (val.length > n) return SEVENS.slice(0, n) + " ";
      return ZEROS.slice(0, n - val.length) + val + " ";
    }
    function encodeSizeBin(num, buf, off) {
      buf[off] = 128;
      for (let i = 11; i > 0; i--) {
        buf[off + i] = num & 255;
        num = Math.floor(num / 256);
      }
    }
    function encodeSize(num, buf, off) {
      if (num.toString(8).length > 11) {
        encodeSizeBin(num, buf, off);
      } else {
        b4a.write(buf, encodeOct(num, 11), off);
      }
    }
    function parse256(buf) {
      let positive;
      if (buf[0] === 128) positive = true;
      else if (buf[0] === 255) positive = false;
      else return null;
      const tuple = [];
      let i;
      for (i = buf.length - 1; i > 0; i--) {
        const byte = buf[i];
        if (positive) tuple.push(byte);
        else tuple.push(255 - byte);
      }
      let sum = 0;
      const l = tuple.length;
      for (i = 0; i < l; i++) {
        sum += tuple[i] * Math.pow(256, i);
      }
      return positive ? sum : -1 * sum;
    }
    function decodeOct(val, offset, length3) {
      val = val.subarray(offset, offset + length3);
      offset = 0;
      if (val[offset] & 128) {
        return parse256(val);
      } else {
        while (offset < val.length && val[offset] === 32) offset++;
        const end = clamp(indexOf(val, 32, offset, val.length), val.length, val.length);
        while (offset < end && val[offset] === 0) offset++;
        if (end === offset) return 0;
        return parseInt(b4a.toString(val.subarray(offset, end)), 8);
      }
    }
    function decodeStr(val, offset, length3, encoding) {
      return b4a.toString(val.subarray(offset, indexOf(val, 0, offset, offset + length3)), encoding);
    }
    function addLength(str2) {
      const len = b4a.byteLength(str2);
      let digits = Math.floor(Math.log(len) / Math.log(10)) + 1;
      if (len + digits >= Math.pow(10, digits)) digits++;
      return len + digits + str2;
    }
  }
});

// node_modules/tar-stream/extract.js
var require_extract = __commonJS({
  "node_modules/tar-stream/extract.js"(exports, module) {
    var { Writable: Writable2, Readable: Readable4, getStreamError } = require_streamx();
    var FIFO = require_fast_fifo();
    var b4a = require_b4a();
    var headers = require_headers();
    var EMPTY = b4a.alloc(0);
    var MAX_HEADER_SIZE = 4 * 1024 * 1024;
    var BufferList = class {
      constructor() {
        this.buffered = 0;
        this.shifted = 0;
        this.queue = new FIFO();
        this._offset = 0;
      }
      push(buffer2) {
        this.buffered += buffer2.byteLength;
        this.queue.push(buffer2);
      }
      shiftFirst(size) {
        return this.buffered === 0 ? null : this._next(size);
      }
      shift(size) {
        if (size > this.buffered) return null;
        if (size === 0) return EMPTY;
        let chunk = this._next(size);
        if (size === chunk.byteLength) return chunk;
        const chunks = [chunk];
        while ((size -= chunk.byteLength) > 0) {
          chunk = this._next(size);
          chunks.push(chunk);
        }
        return b4a.concat(chunks);
      }
      _next(size) {
        const buf = this.queue.peek();
        const rem = buf.byteLength - this._offset;
        if (size >= rem) {
          const sub = this._offset ? buf.subarray(this._offset, buf.byteLength) : buf;
          this.queue.shift();
          this._offset = 0;
          this.buffered -= rem;
          this.shifted += rem;
          return sub;
        }
        this.buffered -= size;
        this.shifted += size;
        return buf.subarray(this._offset, this._offset += size);
      }
    };
    var Source = class extends Readable4 {
      constructor(self, header, offset) {
        super();
        this.header = header;
        this.offset = offset;
        this._parent = self;
      }
      _read(cb) {
        if (this.header.size === 0) {
          this.push(null);
        }
        if (this._parent._stream === this) {
          this._parent._update();
        }
        cb(null);
      }
      _predestroy() {
        this._parent.destroy(getStreamError(this));
      }
      _detach() {
        if (this._parent._stream === this) {
          this._parent._stream = null;
          this._parent._missing = overflow(this.header.size);
          this._parent._update();
        }
      }
      _destroy(cb) {
        this._detach();
        cb(null);
      }
    };
    var Extract = class extends Writable2 {
      constructor(opts) {
        super(opts);
        if (!opts) opts = {};
        this._buffer = new BufferList();
        this._offset = 0;
        this._header = null;
        this._stream = null;
        this._missing = 0;
        this._longHeader = false;
        this._callback = noop2;
        this._locked = false;
        this._finished = false;
        this._pax = null;
        this._paxGlobal = null;
        this._gnuLongPath = null;
        this._gnuLongLinkPath = null;
        this._filenameEncoding = opts.filenameEncoding || "utf-8";
        this._allowUnknownFormat = !!opts.allowUnknownFormat;
        this._unlockBound = this._unlock.bind(this);
      }
      _unlock(err) {
        this._locked = false;
        if (err) {
          this.destroy(err);
          this._continueWrite(err);
          return;
        }
        this._update();
      }
      _consumeHeader() {
        if (this._locked) return false;
        this._offset = this._buffer.shifted;
        try {
          this._header = headers.decode(this._buffer.shift(512), this._filenameEncoding, this._allowUnknownFormat);
        } catch (err) {
          this._continueWrite(err);
          return false;
        }
        if (!this._header) return true;
        this._header.byteOffset = this._buffer.shifted;
        switch (this._header.type) {
          case "gnu-long-path":
          case "gnu-long-link-path":
          case "pax-global-header":
          case "pax-header":
            this._longHeader = true;
            this._missing = this._header.size;
            if (this._missing > MAX_HEADER_SIZE) {
              this._continueWrite(new Error("Header exceeds max size"));
              return false;
            }
            return true;
        }
        this._locked = true;
        this._applyLongHeaders();
        if (!(this._header.size >= 0)) {
          this._continueWrite(new Error("Invalid header"));
          return false;
        }
        if (this._header.size === 0 || this._header.type === "directory") {
          this.emit("entry", this._header, this._createStream(), this._unlockBound);
          return true;
        }
        this._stream = this._createStream();
        this._missing = this._header.size;
        this.emit("entry", this._header, this._stream, this._unlockBound);
        return true;
      }
      _applyLongHeaders() {
        if (this._gnuLongPath) {
          this._header.name = this._gnuLongPath;
          this._gnuLongPath = null;
        }
        if (this._gnuLongLinkPath) {
          this._header.linkname = this._gnuLongLinkPath;
          this._gnuLongLinkPath = null;
        }
        if (this._pax) {
          if (this._pax.path) this._header.name = this._pax.path;
          if (this._pax.linkpath) this._header.linkname = this._pax.linkpath;
          if (this._pax.size) this._header.size = parseInt(this._pax.size, 10);
          this._header.pax = this._pax;
          this._pax = null;
        }
      }
      _decodeLongHeader(buf) {
        switch (this._header.type) {
          case "gnu-long-path":
            this._gnuLongPath = headers.decodeLongPath(buf, this._filenameEncoding);
            break;
          case "gnu-long-link-path":
            this._gnuLongLinkPath = headers.decodeLongPath(buf, this._filenameEncoding);
            break;
          case "pax-global-header":
            this._paxGlobal = headers.decodePax(buf);
            break;
          case "pax-header":
            this._pax = this._paxGlobal === null ? headers.decodePax(buf) : Object.assign({}, this._paxGlobal, headers.decodePax(buf));
            break;
        }
      }
      _consumeLongHeader() {
        this._longHeader = false;
        this._missing = overflow(this._header.size);
        const buf = this._buffer.shift(this._header.size);
        try {
          this._decodeLongHeader(buf);
        } catch (err) {
          this._continueWrite(err);
          return false;
        }
        return true;
      }
      _consumeStream() {
        const buf = this._buffer.shiftFirst(this._missing);
        if (buf === null) return false;
        this._missing -= buf.byteLength;
        const drained = this._stream.push(buf);
        if (this._missing === 0) {
          this._stream.push(null);
          if (drained) this._stream._detach();
          return drained && this._locked === false;
        }
        return drained;
      }
      _createStream() {
        return new Source(this, this._header, this._offset);
      }
      _update() {
        while (this._buffer.buffered > 0 && !this.destroying) {
          if (this._missing > 0) {
            if (this._stream !== null) {
              if (this._consumeStream() === false) return;
              continue;
            }
            if (this._longHeader === true) {
              if (this._missing > this._buffer.buffered) break;
              if (this._consumeLongHeader() === false) return false;
              continue;
            }
            const ignore = this._buffer.shiftFirst(this._missing);
            if (ignore !== null) this._missing -= ignore.byteLength;
            continue;
          }
          if (this._buffer.buffered < 512) break;
          if (this._stream !== null || this._consumeHeader() === false) return;
        }
        this._continueWrite(null);
      }
      _continueWrite(err) {
        const cb = this._callback;
        this._callback = noop2;
        cb(err);
      }
      _write(data, cb) {
        this._callback = cb;
        this._buffer.push(data);
        this._update();
      }
      _final(cb) {
        this._finished = this._missing === 0 && this._buffer.buffered === 0;
        cb(this._finished ? null : new Error("Unexpected end of data"));
      }
      _predestroy() {
        this._continueWrite(null);
      }
      _destroy(cb) {
        if (this._stream) this._stream.destroy(getStreamError(this));
        cb(null);
      }
      [Symbol.asyncIterator]() {
        let error = null;
        let promiseResolve = null;
        let promiseReject = null;
        let entryStream = null;
        let entryCallback = null;
        const extract = this;
        this.on("entry", onentry);
        this.on("error", (err) => {
          error = err;
        });
        this.on("close", onclose);
        return {
          [Symbol.asyncIterator]() {
            return this;
          },
          next() {
            return new Promise(onnext);
          },
          return() {
            return destroy(null);
          },
          throw(err) {
            return destroy(err);
          }
        };
        function consumeCallback(err) {
          if (!entryCallback) return;
          const cb = entryCallback;
          entryCallback = null;
          cb(err);
        }
        function onnext(resolve2, reject) {
          if (error) {
            return reject(error);
          }
          if (entryStream) {
            resolve2({ value: entryStream, done: false });
            entryStream = null;
            return;
          }
          promiseResolve = resolve2;
          promiseReject = reject;
          consumeCallback(null);
          if (extract._finished && promiseResolve) {
            promiseResolve({ value: void 0, done: true });
            promiseResolve = promiseReject = null;
          }
        }
        function onentry(header, stream, callback) {
          entryCallback = callback;
          stream.on("error", noop2);
          if (promiseResolve) {
            promiseResolve({ value: stream, done: false });
            promiseResolve = promiseReject = null;
          } else {
            entryStream = stream;
          }
        }
        function onclose() {
          consumeCallback(error);
          if (!promiseResolve) return;
          if (error) promiseReject(error);
          else promiseResolve({ value: void 0, done: true });
          promiseResolve = promiseReject = null;
        }
        function destroy(err) {
          extract.destroy(err);
          consumeCallback(err);
          return new Promise((resolve2, reject) => {
            if (extract.destroyed) return resolve2({ value: void 0, done: true });
            extract.once("close", function() {
              if (err) reject(err);
              else resolve2({ value: void 0, done: true });
            });
          });
        }
      }
    };
    module.exports = function extract(opts) {
      return new Extract(opts);
    };
    function noop2() {
    }
    function overflow(size) {
      size &= 511;
      return size && 512 - size;
    }
  }
});

// node_modules/tar-stream/constants.js
var require_constants = __commonJS({
  "node_modules/tar-stream/constants.js"(exports, module) {
    var constants3 = {
      // just for envs without fs
      S_IFMT: 61440,
      S_IFDIR: 16384,
      S_IFCHR: 8192,
      S_IFBLK: 24576,
      S_IFIFO: 4096,
      S_IFLNK: 40960
    };
    try {
      module.exports = __require("fs").constants || constants3;
    } catch {
      module.exports = constants3;
    }
  }
});

// node_modules/tar-stream/pack.js
var require_pack = __commonJS({
  "node_modules/tar-stream/pack.js"(exports, module) {
    var { Readable: Readable4, Writable: Writable2, getStreamError } = require_streamx();
    var b4a = require_b4a();
    var constants3 = require_constants();
    var headers = require_headers();
    var DMODE = 493;
    var FMODE = 420;
    var END_OF_TAR = b4a.alloc(1024);
    var Sink = class extends Writable2 {
      constructor(pack, header, callback) {
        super({ mapWritable, eagerOpen: true });
        this.written = 0;
        this.header = header;
        this._callback = callback;
        this._linkname = null;
        this._isLinkname = header.type === "symlink" && !header.linkname;
        this._isVoid = header.type !== "file" && header.type !== "contiguous-file";
        this._finished = false;
        this._pack = pack;
        this._openCallback = null;
        if (this._pack._stream === null) this._pack._stream = this;
        else this._pack._pending.push(this);
      }
      _open(cb) {
        this._openCallback = cb;
        if (this._pack._stream === this) this._continueOpen();
      }
      _continuePack(err) {
        if (this._callback === null) return;
        const callback = this._callback;
        this._callback = null;
        callback(err);
      }
      _continueOpen() {
        if (this._pack._stream === null) this._pack._stream = this;
        const cb = this._openCallback;
        this._openCallback = null;
        if (cb === null) return;
        if (this._pack.destroying) return cb(new Error("pack stream destroyed"));
        if (this._pack._finalized) return cb(new Error("pack stream is already finalized"));
        this._pack._stream = this;
        if (!this._isLinkname) {
          this._pack._encode(this.header);
        }
        if (this._isVoid) {
          this._finish();
          this._continuePack(null);
        }
        cb(null);
      }
      _write(data, cb) {
        if (this._isLinkname) {
          this._linkname = this._linkname ? b4a.concat([this._linkname, data]) : data;
          return cb(null);
        }
        if (this._isVoid) {
          if (data.byteLength > 0) {
            return cb(new Error("No body allowed for this entry"));
          }
          return cb();
        }
        this.written += data.byteLength;
        if (this._pack.push(data)) return cb();
        this._pack._drain = cb;
      }
      _finish() {
        if (this._finished) return;
        this._finished = true;
        if (this._isLinkname) {
          this.header.linkname = this._linkname ? b4a.toString(this._linkname, "utf-8") : "";
          this._pack._encode(this.header);
        }
        overflow(this._pack, this.header.size);
        this._pack._done(this);
      }
      _final(cb) {
        if (this.written !== this.header.size) {
          return cb(new Error("Size mismatch"));
        }
        this._finish();
        cb(null);
      }
      _getError() {
        return getStreamError(this) || new Error("tar entry destroyed");
      }
      _predestroy() {
        this._pack.destroy(this._getError());
      }
      _destroy(cb) {
        this._pack._done(this);
        this._continuePack(this._finished ? null : this._getError());
        cb();
      }
    };
    var Pack = class extends Readable4 {
      constructor(opts) {
        super(opts);
        this._drain = noop2;
        this._finalized = false;
        this._finalizing = false;
        this._pending = [];
        this._stream = null;
      }
      entry(header, buffer2, callback) {
        if (this._finalized || this.destroying) throw new Error("already finalized or destroyed");
        if (typeof buffer2 === "function") {
          callback = buffer2;
          buffer2 = null;
        }
        if (!callback) callback = noop2;
        if (!header.size || header.type === "symlink") header.size = 0;
        if (!header.type) header.type = modeToType(header.mode);
        if (!header.mode) header.mode = header.type === "directory" ? DMODE : FMODE;
        if (!header.uid) header.uid = 0;
        if (!header.gid) header.gid = 0;
        if (!header.mtime) header.mtime = /* @__PURE__ */ new Date();
        if (typeof buffer2 === "string") buffer2 = b4a.from(buffer2);
        const sink = new Sink(this, header, callback);
        if (b4a.isBuffer(buffer2)) {
          header.size = buffer2.byteLength;
          sink.write(buffer2);
          sink.end();
          return sink;
        }
        if (sink._isVoid) {
          return sink;
        }
        return sink;
      }
      finalize() {
        if (this._stream || this._pending.length > 0) {
          this._finalizing = true;
          return;
        }
        if (this._finalized) return;
        this._finalized = true;
        this.push(END_OF_TAR);
        this.push(null);
      }
      _done(stream) {
        if (stream !== this._stream) return;
        this._stream = null;
        if (this._finalizing) this.finalize();
        if (this._pending.length) this._pending.shift()._continueOpen();
      }
      _encode(header) {
        if (!header.pax) {
          const buf = headers.encode(header);
          if (buf) {
            this.push(buf);
            return;
          }
        }
        this._encodePax(header);
      }
      _encodePax(header) {
        const paxHeader = headers.encodePax({
          name: header.name,
          linkname: header.linkname,
          pax: header.pax
        });
        const newHeader = {
          name: "PaxHeader",
          mode: header.mode,
          uid: header.uid,
          gid: header.gid,
          size: paxHeader.byteLength,
          mtime: header.mtime,
          type: "pax-header",
          linkname: header.linkname && "PaxHeader",
          uname: header.uname,
          gname: header.gname,
          devmajor: header.devmajor,
          devminor: header.devminor
        };
        this.push(headers.encode(newHeader));
        this.push(paxHeader);
        overflow(this, paxHeader.byteLength);
        newHeader.size = header.size;
        newHeader.type = header.type;
        this.push(headers.encode(newHeader));
      }
      _doDrain() {
        const drain = this._drain;
        this._drain = noop2;
        drain();
      }
      _predestroy() {
        const err = getStreamError(this);
        if (this._stream) this._stream.destroy(err);
        while (this._pending.length) {
          const stream = this._pending.shift();
          stream.destroy(err);
          stream._continueOpen();
        }
        this._doDrain();
      }
      _read(cb) {
        this._doDrain();
        cb();
      }
    };
    module.exports = function pack(opts) {
      return new Pack(opts);
    };
    function modeToType(mode) {
      switch (mode & constants3.S_IFMT) {
        case constants3.S_IFBLK:
          return "block-device";
        case constants3.S_IFCHR:
          return "character-device";
        case constants3.S_IFDIR:
          return "directory";
        case constants3.S_IFIFO:
          return "fifo";
        case constants3.S_IFLNK:
          return "symlink";
      }
      return "file";
    }
    function noop2() {
    }
    function overflow(self, size) {
      size &= 511;
      if (size) self.push(END_OF_TAR.subarray(0, 512 - size));
    }
    function mapWritable(buf) {
      return b4a.isBuffer(buf) ? buf : b4a.from(buf);
    }
  }
});

// node_modules/tar-stream/index.js
var require_tar_stream = __commonJS({
  "node_modules/tar-stream/index.js"(exports) {
    exports.extract = require_extract();
    exports.pack = require_pack();
  }
});

// src/core/interrupt.ts
import { rmSync } from "node:fs";
import { rm } from "node:fs/promises";

// src/core/errors.ts
function option(key) {
  return { option: key };
}
function text(strings, ...values) {
  const parts = [];
  strings.forEach((s, i) => {
    parts.push(s);
    if (i < values.length) {
      const value = values[i];
      parts.push(typeof value === "object" && value != null && "option" in value ? value : String(value));
    }
  });
  return parts;
}
function renderMessage(parts, name4 = (key) => `'${key}'`) {
  return parts.map((p) => typeof p === "string" ? p : name4(p.option)).join("");
}
var IpcrError = class extends Error {
  code;
  input;
  reason;
  constructor(code5, message2, options) {
    super(message2, options);
    this.name = new.target.name;
    this.code = code5;
    if (options?.input != null) this.input = options.input;
    if (options?.reason != null) this.reason = options.reason;
  }
};
function inputMessage(input, reason) {
  const parts = typeof reason === "string" ? [reason] : reason;
  return [`Input '${input}': ${renderMessage(parts)}`, { input, reason: parts }];
}
var InputError = class extends IpcrError {
  constructor(input, reason, options) {
    const [message2, named] = inputMessage(input, reason);
    super("ERR_INPUT", message2, { ...options, ...named });
  }
};
var ImageFormatError = class extends IpcrError {
  constructor(message2, options) {
    super("ERR_IMAGE_FORMAT", message2, options);
  }
};
var DigestMismatchError = class extends IpcrError {
  constructor(message2, options) {
    super("ERR_DIGEST_MISMATCH", message2, options);
  }
};
var BlockNotFoundError = class extends IpcrError {
  constructor(message2, options) {
    super("ERR_BLOCK_NOT_FOUND", message2, options);
  }
};
var TreeError = class extends IpcrError {
  constructor(message2, options) {
    super("ERR_TREE", message2, options);
  }
};
var RedirectError = class extends IpcrError {
  constructor(message2, options) {
    super("ERR_REDIRECT", message2, options);
  }
};
var ResponseTooLargeError = class extends IpcrError {
  constructor(message2, options) {
    super("ERR_RESPONSE_TOO_LARGE", message2, options);
  }
};
function throwIfAborted(signal) {
  if (signal?.aborted === true) {
    throw signal.reason instanceof Error ? signal.reason : new IpcrError("ERR_ABORTED", "Operation aborted");
  }
}

// src/core/interrupt.ts
var temporary = /* @__PURE__ */ new Set();
function registerTemporary(path2) {
  temporary.add(path2);
}
function releaseTemporary(path2) {
  temporary.delete(path2);
}
async function removeTemporary(path2) {
  await rm(path2, { recursive: true, force: true });
  temporary.delete(path2);
}
function removeTemporaryNow() {
  for (const path2 of temporary) {
    try {
      rmSync(path2, { recursive: true, force: true });
    } catch {
    }
  }
  temporary.clear();
}
var EXIT_CODES = { SIGINT: 130, SIGTERM: 143 };
function handleInterrupts(notify) {
  const controller = new AbortController();
  let exitCode;
  const onSignal = (name4) => {
    const code5 = EXIT_CODES[name4];
    if (exitCode == null) {
      exitCode = code5;
      notify(`${name4} received: cancelling and removing temporary files`);
      controller.abort(new IpcrError("ERR_ABORTED", `Cancelled by ${name4}`));
      return;
    }
    removeTemporaryNow();
    notify(`${name4} received again: temporary files removed, exiting now`);
    process.exit(code5);
  };
  const names = Object.keys(EXIT_CODES);
  for (const name4 of names) process.on(name4, onSignal);
  process.on("exit", removeTemporaryNow);
  return {
    signal: controller.signal,
    get exitCode() {
      return exitCode;
    },
    dispose: () => {
      for (const name4 of names) process.off(name4, onSignal);
      process.off("exit", removeTemporaryNow);
    }
  };
}

// src/cli/main.ts
import { mkdir as mkdir5, mkdtemp as mkdtemp4, readdir as readdir3, readFile as readFile3 } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename as basename2, join as join10, relative as relative2, resolve } from "node:path";

// node_modules/commander/lib/error.js
var CommanderError = class extends Error {
  /**
   * Constructs the CommanderError class
   * @param {number} exitCode suggested exit code which could be used with process.exit
   * @param {string} code an id string representing the error
   * @param {string} message human-readable description of the error
   */
  constructor(exitCode, code5, message2) {
    super(message2);
    Error.captureStackTrace(this, this.constructor);
    this.name = this.constructor.name;
    this.code = code5;
    this.exitCode = exitCode;
    this.nestedError = void 0;
  }
};
var InvalidArgumentError = class extends CommanderError {
  /**
   * Constructs the InvalidArgumentError class
   * @param {string} [message] explanation of why argument is invalid
   */
  constructor(message2) {
    super(1, "commander.invalidArgument", message2);
    Error.captureStackTrace(this, this.constructor);
    this.name = this.constructor.name;
  }
};

// node_modules/commander/lib/argument.js
var Argument = class {
  /**
   * Initialize a new command argument with the given name and description.
   * The default is that the argument is required, and you can explicitly
   * indicate this with <> around the name. Put [] around the name for an optional argument.
   *
   * @param {string} name
   * @param {string} [description]
   */
  constructor(name4, description) {
    this.description = description || "";
    this.variadic = false;
    this.parseArg = void 0;
    this.defaultValue = void 0;
    this.defaultValueDescription = void 0;
    this.argChoices = void 0;
    switch (name4[0]) {
      case "<":
        this.required = true;
        this._name = name4.slice(1, -1);
        break;
      case "[":
        this.required = false;
        this._name = name4.slice(1, -1);
        break;
      default:
        this.required = true;
        this._name = name4;
        break;
    }
    if (this._name.endsWith("...")) {
      this.variadic = true;
      this._name = this._name.slice(0, -3);
    }
  }
  /**
   * Return argument name.
   *
   * @return {string}
   */
  name() {
    return this._name;
  }
  /**
   * @package
   */
  _collectValue(value, previous) {
    if (previous === this.defaultValue || !Array.isArray(previous)) {
      return [value];
    }
    previous.push(value);
    return previous;
  }
  /**
   * Set the default value, and optionally supply the description to be displayed in the help.
   *
   * @param {*} value
   * @param {string} [description]
   * @return {Argument}
   */
  default(value, description) {
    this.defaultValue = value;
    this.defaultValueDescription = description;
    return this;
  }
  /**
   * Set the custom handler for processing CLI command arguments into argument values.
   *
   * @param {Function} [fn]
   * @return {Argument}
   */
  argParser(fn) {
    this.parseArg = fn;
    return this;
  }
  /**
   * Only allow argument value to be one of choices.
   *
   * @param {string[]} values
   * @return {Argument}
   */
  choices(values) {
    this.argChoices = values.slice();
    this.parseArg = (arg, previous) => {
      if (!this.argChoices.includes(arg)) {
        throw new InvalidArgumentError(
          `Allowed choices are ${this.argChoices.join(", ")}.`
        );
      }
      if (this.variadic) {
        return this._collectValue(arg, previous);
      }
      return arg;
    };
    return this;
  }
  /**
   * Make argument required.
   *
   * @returns {Argument}
   */
  argRequired() {
    this.required = true;
    return this;
  }
  /**
   * Make argument optional.
   *
   * @returns {Argument}
   */
  argOptional() {
    this.required = false;
    return this;
  }
};
function humanReadableArgName(arg) {
  const nameOutput = arg.name() + (arg.variadic === true ? "..." : "");
  return arg.required ? "<" + nameOutput + ">" : "[" + nameOutput + "]";
}

// node_modules/commander/lib/command.js
import { EventEmitter } from "node:events";
import childProcess from "node:child_process";
import path from "node:path";
import fs from "node:fs";
import process2 from "node:process";
import { stripVTControlCharacters as stripVTControlCharacters2 } from "node:util";

// node_modules/commander/lib/help.js
import { stripVTControlCharacters } from "node:util";
var Help = class {
  constructor() {
    this.helpWidth = void 0;
    this.minWidthToWrap = 40;
    this.sortSubcommands = false;
    this.sortOptions = false;
    this.showGlobalOptions = false;
  }
  /**
   * prepareContext is called by Commander after applying overrides from `Command.configureHelp()`
   * and just before calling `formatHelp()`.
   *
   * Commander just uses the helpWidth and the rest is provided for optional use by more complex subclasses.
   *
   * @param {{ error?: boolean, helpWidth?: number, outputHasColors?: boolean }} contextOptions
   */
  prepareContext(contextOptions) {
    this.helpWidth = this.helpWidth ?? contextOptions.helpWidth ?? 80;
  }
  /**
   * Get an array of the visible subcommands. Includes a placeholder for the implicit help command, if there is one.
   *
   * @param {Command} cmd
   * @returns {Command[]}
   */
  visibleCommands(cmd) {
    const visibleCommands = cmd.commands.filter((cmd2) => !cmd2._hidden);
    const helpCommand = cmd._getHelpCommand();
    if (helpCommand && !helpCommand._hidden) {
      visibleCommands.push(helpCommand);
    }
    if (this.sortSubcommands) {
      visibleCommands.sort((a, b) => {
        return a.name().localeCompare(b.name());
      });
    }
    return visibleCommands;
  }
  /**
   * Compare options for sort.
   *
   * @param {Option} a
   * @param {Option} b
   * @returns {number}
   */
  compareOptions(a, b) {
    const getSortKey = (option2) => {
      return option2.short ? option2.short.replace(/^-/, "") : option2.long.replace(/^--/, "");
    };
    return getSortKey(a).localeCompare(getSortKey(b));
  }
  /**
   * Get an array of the visible options. Includes a placeholder for the implicit help option, if there is one.
   *
   * @param {Command} cmd
   * @returns {Option[]}
   */
  visibleOptions(cmd) {
    const visibleOptions = cmd.options.filter((option2) => !option2.hidden);
    const helpOption = cmd._getHelpOption();
    if (helpOption && !helpOption.hidden) {
      const removeShort = helpOption.short && cmd._findOption(helpOption.short);
      const removeLong = helpOption.long && cmd._findOption(helpOption.long);
      if (!removeShort && !removeLong) {
        visibleOptions.push(helpOption);
      } else if (helpOption.long && !removeLong) {
        visibleOptions.push(
          cmd.createOption(helpOption.long, helpOption.description).helpGroup(helpOption.helpGroupHeading)
        );
      } else if (helpOption.short && !removeShort) {
        visibleOptions.push(
          cmd.createOption(helpOption.short, helpOption.description).helpGroup(helpOption.helpGroupHeading)
        );
      }
    }
    if (this.sortOptions) {
      visibleOptions.sort(this.compareOptions);
    }
    return visibleOptions;
  }
  /**
   * Get an array of the visible global options. (Not including help.)
   *
   * @param {Command} cmd
   * @returns {Option[]}
   */
  visibleGlobalOptions(cmd) {
    if (!this.showGlobalOptions) return [];
    const globalOptions = [];
    for (let ancestorCmd = cmd.parent; ancestorCmd; ancestorCmd = ancestorCmd.parent) {
      const visibleOptions = ancestorCmd.options.filter(
        (option2) => !option2.hidden
      );
      globalOptions.push(...visibleOptions);
    }
    if (this.sortOptions) {
      globalOptions.sort(this.compareOptions);
    }
    return globalOptions;
  }
  /**
   * Get an array of the arguments if any have a description.
   *
   * @param {Command} cmd
   * @returns {Argument[]}
   */
  visibleArguments(cmd) {
    if (cmd._argsDescription) {
      cmd.registeredArguments.forEach((argument) => {
        argument.description = argument.description || cmd._argsDescription[argument.name()] || "";
      });
    }
    if (cmd.registeredArguments.find((argument) => argument.description)) {
      return cmd.registeredArguments;
    }
    return [];
  }
  /**
   * Get the command term to show in the list of subcommands.
   *
   * @param {Command} cmd
   * @returns {string}
   */
  subcommandTerm(cmd) {
    const args = cmd.registeredArguments.map((arg) => humanReadableArgName(arg)).join(" ");
    return cmd._name + (cmd._aliases[0] ? "|" + cmd._aliases[0] : "") + (cmd.options.length ? " [options]" : "") + // simplistic check for non-help option
    (args ? " " + args : "");
  }
  /**
   * Get the option term to show in the list of options.
   *
   * @param {Option} option
   * @returns {string}
   */
  optionTerm(option2) {
    return option2.flags;
  }
  /**
   * Get the argument term to show in the list of arguments.
   *
   * @param {Argument} argument
   * @returns {string}
   */
  argumentTerm(argument) {
    return argument.name();
  }
  /**
   * Get the longest command term length.
   *
   * @param {Command} cmd
   * @param {Help} helper
   * @returns {number}
   */
  longestSubcommandTermLength(cmd, helper) {
    return helper.visibleCommands(cmd).reduce((max, command) => {
      return Math.max(
        max,
        this.displayWidth(
          helper.styleSubcommandTerm(helper.subcommandTerm(command))
        )
      );
    }, 0);
  }
  /**
   * Get the longest option term length.
   *
   * @param {Command} cmd
   * @param {Help} helper
   * @returns {number}
   */
  longestOptionTermLength(cmd, helper) {
    return helper.visibleOptions(cmd).reduce((max, option2) => {
      return Math.max(
        max,
        this.displayWidth(helper.styleOptionTerm(helper.optionTerm(option2)))
      );
    }, 0);
  }
  /**
   * Get the longest global option term length.
   *
   * @param {Command} cmd
   * @param {Help} helper
   * @returns {number}
   */
  longestGlobalOptionTermLength(cmd, helper) {
    return helper.visibleGlobalOptions(cmd).reduce((max, option2) => {
      return Math.max(
        max,
        this.displayWidth(helper.styleOptionTerm(helper.optionTerm(option2)))
      );
    }, 0);
  }
  /**
   * Get the longest argument term length.
   *
   * @param {Command} cmd
   * @param {Help} helper
   * @returns {number}
   */
  longestArgumentTermLength(cmd, helper) {
    return helper.visibleArguments(cmd).reduce((max, argument) => {
      return Math.max(
        max,
        this.displayWidth(
          helper.styleArgumentTerm(helper.argumentTerm(argument))
        )
      );
    }, 0);
  }
  /**
   * Get the command usage to be displayed at the top of the built-in help.
   *
   * @param {Command} cmd
   * @returns {string}
   */
  commandUsage(cmd) {
    let cmdName = cmd._name;
    if (cmd._aliases[0]) {
      cmdName = cmdName + "|" + cmd._aliases[0];
    }
    let ancestorCmdNames = "";
    for (let ancestorCmd = cmd.parent; ancestorCmd; ancestorCmd = ancestorCmd.parent) {
      ancestorCmdNames = ancestorCmd.name() + " " + ancestorCmdNames;
    }
    return ancestorCmdNames + cmdName + " " + cmd.usage();
  }
  /**
   * Get the description for the command.
   *
   * @param {Command} cmd
   * @returns {string}
   */
  commandDescription(cmd) {
    return cmd.description();
  }
  /**
   * Get the subcommand summary to show in the list of subcommands.
   * (Fallback to description for backwards compatibility.)
   *
   * @param {Command} cmd
   * @returns {string}
   */
  subcommandDescription(cmd) {
    return cmd.summary() || cmd.description();
  }
  /**
   * Get the option description to show in the list of options.
   *
   * @param {Option} option
   * @return {string}
   */
  optionDescription(option2) {
    const extraInfo = [];
    if (option2.argChoices) {
      extraInfo.push(
        // use stringify to match the display of the default value
        `choices: ${option2.argChoices.map((choice) => JSON.stringify(choice)).join(", ")}`
      );
    }
    if (option2.defaultValue !== void 0) {
      const showDefault = option2.required || option2.optional || option2.isBoolean() && typeof option2.defaultValue === "boolean";
      if (showDefault) {
        extraInfo.push(
          `default: ${option2.defaultValueDescription || JSON.stringify(option2.defaultValue)}`
        );
      }
    }
    if (option2.presetArg !== void 0 && option2.optional) {
      extraInfo.push(`preset: ${JSON.stringify(option2.presetArg)}`);
    }
    if (option2.envVar !== void 0) {
      extraInfo.push(`env: ${option2.envVar}`);
    }
    if (extraInfo.length > 0) {
      const extraDescription = `(${extraInfo.join(", ")})`;
      if (option2.description) {
        return `${option2.description} ${extraDescription}`;
      }
      return extraDescription;
    }
    return option2.description;
  }
  /**
   * Get the argument description to show in the list of arguments.
   *
   * @param {Argument} argument
   * @return {string}
   */
  argumentDescription(argument) {
    const extraInfo = [];
    if (argument.argChoices) {
      extraInfo.push(
        // use stringify to match the display of the default value
        `choices: ${argument.argChoices.map((choice) => JSON.stringify(choice)).join(", ")}`
      );
    }
    if (argument.defaultValue !== void 0) {
      extraInfo.push(
        `default: ${argument.defaultValueDescription || JSON.stringify(argument.defaultValue)}`
      );
    }
    if (extraInfo.length > 0) {
      const extraDescription = `(${extraInfo.join(", ")})`;
      if (argument.description) {
        return `${argument.description} ${extraDescription}`;
      }
      return extraDescription;
    }
    return argument.description;
  }
  /**
   * Format a list of items, given a heading and an array of formatted items.
   *
   * @param {string} heading
   * @param {string[]} items
   * @param {Help} helper
   * @returns string[]
   */
  formatItemList(heading, items, helper) {
    if (items.length === 0) return [];
    return [helper.styleTitle(heading), ...items, ""];
  }
  /**
   * Group items by their help group heading.
   *
   * @param {Command[] | Option[]} unsortedItems
   * @param {Command[] | Option[]} visibleItems
   * @param {Function} getGroup
   * @returns {Map<string, Command[] | Option[]>}
   */
  groupItems(unsortedItems, visibleItems, getGroup) {
    const result = /* @__PURE__ */ new Map();
    unsortedItems.forEach((item) => {
      const group = getGroup(item);
      if (!result.has(group)) result.set(group, []);
    });
    visibleItems.forEach((item) => {
      const group = getGroup(item);
      if (!result.has(group)) {
        result.set(group, []);
      }
      result.get(group).push(item);
    });
    return result;
  }
  /**
   * Generate the built-in help text.
   *
   * @param {Command} cmd
   * @param {Help} helper
   * @returns {string}
   */
  formatHelp(cmd, helper) {
    const termWidth = helper.padWidth(cmd, helper);
    const helpWidth = helper.helpWidth ?? 80;
    function callFormatItem(term, description) {
      return helper.formatItem(term, termWidth, description, helper);
    }
    let output = [
      `${helper.styleTitle("Usage:")} ${helper.styleUsage(helper.commandUsage(cmd))}`,
      ""
    ];
    const commandDescription = helper.commandDescription(cmd);
    if (commandDescription.length > 0) {
      output = output.concat([
        helper.boxWrap(
          helper.styleCommandDescription(commandDescription),
          helpWidth
        ),
        ""
      ]);
    }
    const argumentList = helper.visibleArguments(cmd).map((argument) => {
      return callFormatItem(
        helper.styleArgumentTerm(helper.argumentTerm(argument)),
        helper.styleArgumentDescription(helper.argumentDescription(argument))
      );
    });
    output = output.concat(
      this.formatItemList("Arguments:", argumentList, helper)
    );
    const optionGroups = this.groupItems(
      cmd.options,
      helper.visibleOptions(cmd),
      (option2) => option2.helpGroupHeading ?? "Options:"
    );
    optionGroups.forEach((options, group) => {
      const optionList = options.map((option2) => {
        return callFormatItem(
          helper.styleOptionTerm(helper.optionTerm(option2)),
          helper.styleOptionDescription(helper.optionDescription(option2))
        );
      });
      output = output.concat(this.formatItemList(group, optionList, helper));
    });
    if (helper.showGlobalOptions) {
      const globalOptionList = helper.visibleGlobalOptions(cmd).map((option2) => {
        return callFormatItem(
          helper.styleOptionTerm(helper.optionTerm(option2)),
          helper.styleOptionDescription(helper.optionDescription(option2))
        );
      });
      output = output.concat(
        this.formatItemList("Global Options:", globalOptionList, helper)
      );
    }
    const commandGroups = this.groupItems(
      cmd.commands,
      helper.visibleCommands(cmd),
      (sub) => sub.helpGroup() || "Commands:"
    );
    commandGroups.forEach((commands, group) => {
      const commandList = commands.map((sub) => {
        return callFormatItem(
          helper.styleSubcommandTerm(helper.subcommandTerm(sub)),
          helper.styleSubcommandDescription(helper.subcommandDescription(sub))
        );
      });
      output = output.concat(this.formatItemList(group, commandList, helper));
    });
    return output.join("\n");
  }
  /**
   * Return display width of string, ignoring ANSI escape sequences. Used in padding and wrapping calculations.
   *
   * @param {string} str
   * @returns {number}
   */
  displayWidth(str2) {
    return stripVTControlCharacters(str2).length;
  }
  /**
   * Style the title for displaying in the help. Called with 'Usage:', 'Options:', etc.
   *
   * @param {string} str
   * @returns {string}
   */
  styleTitle(str2) {
    return str2;
  }
  styleUsage(str2) {
    return str2.split(" ").map((word) => {
      if (word === "[options]") return this.styleOptionText(word);
      if (word === "[command]") return this.styleSubcommandText(word);
      if (word[0] === "[" || word[0] === "<")
        return this.styleArgumentText(word);
      return this.styleCommandText(word);
    }).join(" ");
  }
  styleCommandDescription(str2) {
    return this.styleDescriptionText(str2);
  }
  styleOptionDescription(str2) {
    return this.styleDescriptionText(str2);
  }
  styleSubcommandDescription(str2) {
    return this.styleDescriptionText(str2);
  }
  styleArgumentDescription(str2) {
    return this.styleDescriptionText(str2);
  }
  styleDescriptionText(str2) {
    return str2;
  }
  styleOptionTerm(str2) {
    return this.styleOptionText(str2);
  }
  styleSubcommandTerm(str2) {
    return str2.split(" ").map((word) => {
      if (word === "[options]") return this.styleOptionText(word);
      if (word[0] === "[" || word[0] === "<")
        return this.styleArgumentText(word);
      return this.styleSubcommandText(word);
    }).join(" ");
  }
  styleArgumentTerm(str2) {
    return this.styleArgumentText(str2);
  }
  styleOptionText(str2) {
    return str2;
  }
  styleArgumentText(str2) {
    return str2;
  }
  styleSubcommandText(str2) {
    return str2;
  }
  styleCommandText(str2) {
    return str2;
  }
  /**
   * Calculate the pad width from the maximum term length.
   *
   * @param {Command} cmd
   * @param {Help} helper
   * @returns {number}
   */
  padWidth(cmd, helper) {
    return Math.max(
      helper.longestOptionTermLength(cmd, helper),
      helper.longestGlobalOptionTermLength(cmd, helper),
      helper.longestSubcommandTermLength(cmd, helper),
      helper.longestArgumentTermLength(cmd, helper)
    );
  }
  /**
   * Detect manually wrapped and indented strings by checking for line break followed by whitespace.
   *
   * @param {string} str
   * @returns {boolean}
   */
  preformatted(str2) {
    return /\n[^\S\r\n]/.test(str2);
  }
  /**
   * Format the "item", which consists of a term and description. Pad the term and wrap the description, indenting the following lines.
   *
   * So "TTT", 5, "DDD DDDD DD DDD" might be formatted for this.helpWidth=17 like so:
   *   TTT  DDD DDDD
   *        DD DDD
   *
   * @param {string} term
   * @param {number} termWidth
   * @param {string} description
   * @param {Help} helper
   * @returns {string}
   */
  formatItem(term, termWidth, description, helper) {
    const itemIndent = 2;
    const itemIndentStr = " ".repeat(itemIndent);
    if (!description) return itemIndentStr + term;
    const paddedTerm = term.padEnd(
      termWidth + term.length - helper.displayWidth(term)
    );
    const spacerWidth = 2;
    const helpWidth = this.helpWidth ?? 80;
    const remainingWidth = helpWidth - termWidth - spacerWidth - itemIndent;
    let formattedDescription;
    if (remainingWidth < this.minWidthToWrap || helper.preformatted(description)) {
      formattedDescription = description;
    } else {
      const wrappedDescription = helper.boxWrap(description, remainingWidth);
      formattedDescription = wrappedDescription.replace(
        /\n/g,
        "\n" + " ".repeat(termWidth + spacerWidth)
      );
    }
    return itemIndentStr + paddedTerm + " ".repeat(spacerWidth) + formattedDescription.replace(/\n/g, `
${itemIndentStr}`);
  }
  /**
   * Wrap a string at whitespace, preserving existing line breaks.
   * Wrapping is skipped if the width is less than `minWidthToWrap`.
   *
   * @param {string} str
   * @param {number} width
   * @returns {string}
   */
  boxWrap(str2, width) {
    if (width < this.minWidthToWrap) return str2;
    const rawLines = str2.split(/\r\n|\n/);
    const chunkPattern = /[\s]*[^\s]+/g;
    const wrappedLines = [];
    rawLines.forEach((line) => {
      const chunks = line.match(chunkPattern);
      if (chunks === null) {
        wrappedLines.push("");
        return;
      }
      let sumChunks = [chunks.shift()];
      let sumWidth = this.displayWidth(sumChunks[0]);
      chunks.forEach((chunk) => {
        const visibleWidth = this.displayWidth(chunk);
        if (sumWidth + visibleWidth <= width) {
          sumChunks.push(chunk);
          sumWidth += visibleWidth;
          return;
        }
        wrappedLines.push(sumChunks.join(""));
        const nextChunk = chunk.trimStart();
        sumChunks = [nextChunk];
        sumWidth = this.displayWidth(nextChunk);
      });
      wrappedLines.push(sumChunks.join(""));
    });
    return wrappedLines.join("\n");
  }
};

// node_modules/commander/lib/option.js
var Option = class {
  /**
   * Initialize a new `Option` with the given `flags` and `description`.
   *
   * @param {string} flags
   * @param {string} [description]
   */
  constructor(flags, description) {
    this.flags = flags;
    this.description = description || "";
    this.required = flags.includes("<");
    this.optional = flags.includes("[");
    this.variadic = new RegExp("\\p{ID_Continue}\\.\\.\\.[>\\]]$", "u").test(flags);
    this.mandatory = false;
    const optionFlags = splitOptionFlags(flags);
    this.short = optionFlags.shortFlag;
    this.long = optionFlags.longFlag;
    this.negate = false;
    if (this.long) {
      this.negate = this.long.startsWith("--no-");
    }
    this.defaultValue = void 0;
    this.defaultValueDescription = void 0;
    this.presetArg = void 0;
    this.envVar = void 0;
    this.parseArg = void 0;
    this.hidden = false;
    this.argChoices = void 0;
    this.conflictsWith = [];
    this.implied = void 0;
    this.helpGroupHeading = void 0;
  }
  /**
   * Set the default value, and optionally supply the description to be displayed in the help.
   *
   * @param {*} value
   * @param {string} [description]
   * @return {Option}
   */
  default(value, description) {
    this.defaultValue = value;
    this.defaultValueDescription = description;
    return this;
  }
  /**
   * Preset to use when option used without option-argument, especially optional but also boolean and negated.
   * The custom processing (parseArg) is called.
   *
   * @example
   * new Option('--color').default('GREYSCALE').preset('RGB');
   * new Option('--donate [amount]').preset('20').argParser(parseFloat);
   *
   * @param {*} arg
   * @return {Option}
   */
  preset(arg) {
    this.presetArg = arg;
    return this;
  }
  /**
   * Add option name(s) that conflict with this option.
   * An error will be displayed if conflicting options are found during parsing.
   *
   * @example
   * new Option('--rgb').conflicts('cmyk');
   * new Option('--js').conflicts(['ts', 'jsx']);
   *
   * @param {(string | string[])} names
   * @return {Option}
   */
  conflicts(names) {
    this.conflictsWith = this.conflictsWith.concat(names);
    return this;
  }
  /**
   * Specify implied option values for when this option is set and the implied options are not.
   *
   * The custom processing (parseArg) is not called on the implied values.
   *
   * @example
   * program
   *   .addOption(new Option('--log', 'write logging information to file'))
   *   .addOption(new Option('--trace', 'log extra details').implies({ log: 'trace.txt' }));
   *
   * @param {object} impliedOptionValues
   * @return {Option}
   */
  implies(impliedOptionValues) {
    let newImplied = impliedOptionValues;
    if (typeof impliedOptionValues === "string") {
      newImplied = { [impliedOptionValues]: true };
    }
    this.implied = Object.assign(this.implied || {}, newImplied);
    return this;
  }
  /**
   * Set environment variable to check for option value.
   *
   * An environment variable is only used if when processed the current option value is
   * undefined, or the source of the current value is 'default' or 'config' or 'env'.
   *
   * @param {string} name
   * @return {Option}
   */
  env(name4) {
    this.envVar = name4;
    return this;
  }
  /**
   * Set the custom handler for processing CLI option arguments into option values.
   *
   * @param {Function} [fn]
   * @return {Option}
   */
  argParser(fn) {
    this.parseArg = fn;
    return this;
  }
  /**
   * Whether the option is mandatory and must have a value after parsing.
   *
   * @param {boolean} [mandatory=true]
   * @return {Option}
   */
  makeOptionMandatory(mandatory = true) {
    this.mandatory = !!mandatory;
    return this;
  }
  /**
   * Hide option in help.
   *
   * @param {boolean} [hide=true]
   * @return {Option}
   */
  hideHelp(hide = true) {
    this.hidden = !!hide;
    return this;
  }
  /**
   * @package
   */
  _collectValue(value, previous) {
    if (previous === this.defaultValue || !Array.isArray(previous)) {
      return [value];
    }
    previous.push(value);
    return previous;
  }
  /**
   * Only allow option value to be one of choices.
   *
   * @param {string[]} values
   * @return {Option}
   */
  choices(values) {
    this.argChoices = values.slice();
    this.parseArg = (arg, previous) => {
      if (!this.argChoices.includes(arg)) {
        throw new InvalidArgumentError(
          `Allowed choices are ${this.argChoices.join(", ")}.`
        );
      }
      if (this.variadic) {
        return this._collectValue(arg, previous);
      }
      return arg;
    };
    return this;
  }
  /**
   * Return option name.
   *
   * @return {string}
   */
  name() {
    if (this.long) {
      return this.long.replace(/^--/, "");
    }
    return this.short.replace(/^-/, "");
  }
  /**
   * Return option name, in a camelcase format that can be used
   * as an object attribute key.
   *
   * @return {string}
   */
  attributeName() {
    if (this.negate) {
      return camelcase(this.name().replace(/^no-/, ""));
    }
    return camelcase(this.name());
  }
  /**
   * Set the help group heading.
   *
   * @param {string} heading
   * @return {Option}
   */
  helpGroup(heading) {
    this.helpGroupHeading = heading;
    return this;
  }
  /**
   * Check if `arg` matches the short or long flag.
   *
   * @param {string} arg
   * @return {boolean}
   * @package
   */
  is(arg) {
    return this.short === arg || this.long === arg;
  }
  /**
   * Return whether a boolean option.
   *
   * Options are one of boolean, negated, required argument, or optional argument.
   *
   * @return {boolean}
   * @package
   */
  isBoolean() {
    return !this.required && !this.optional && !this.negate;
  }
};
var DualOptions = class {
  /**
   * @param {Option[]} options
   */
  constructor(options) {
    this.positiveOptions = /* @__PURE__ */ new Map();
    this.negativeOptions = /* @__PURE__ */ new Map();
    this.dualOptions = /* @__PURE__ */ new Set();
    options.forEach((option2) => {
      if (option2.negate) {
        this.negativeOptions.set(option2.attributeName(), option2);
      } else {
        this.positiveOptions.set(option2.attributeName(), option2);
      }
    });
    this.negativeOptions.forEach((value, key) => {
      if (this.positiveOptions.has(key)) {
        this.dualOptions.add(key);
      }
    });
  }
  /**
   * Did the value come from the option, and not from possible matching dual option?
   *
   * @param {*} value
   * @param {Option} option
   * @returns {boolean}
   */
  valueFromOption(value, option2) {
    const optionKey = option2.attributeName();
    if (!this.dualOptions.has(optionKey)) return true;
    const preset = this.negativeOptions.get(optionKey).presetArg;
    const negativeValue = preset !== void 0 ? preset : false;
    return option2.negate === (negativeValue === value);
  }
};
function camelcase(str2) {
  return str2.split("-").reduce((str3, word) => {
    return str3 + word[0].toUpperCase() + word.slice(1);
  });
}
function splitOptionFlags(flags) {
  let shortFlag;
  let longFlag;
  const shortFlagExp = /^-[^-]$/;
  const longFlagExp = /^--[^-]/;
  const flagParts = flags.split(/[ |,]+/).concat("guard");
  if (shortFlagExp.test(flagParts[0])) shortFlag = flagParts.shift();
  if (longFlagExp.test(flagParts[0])) longFlag = flagParts.shift();
  if (!shortFlag && shortFlagExp.test(flagParts[0]))
    shortFlag = flagParts.shift();
  if (!shortFlag && longFlagExp.test(flagParts[0])) {
    shortFlag = longFlag;
    longFlag = flagParts.shift();
  }
  if (flagParts[0].startsWith("-")) {
    const unsupportedFlag = flagParts[0];
    const baseError = `option creation failed due to '${unsupportedFlag}' in option flags '${flags}'`;
    if (/^-[^-][^-]/.test(unsupportedFlag))
      throw new Error(
        `${baseError}
- a short flag is a single dash and a single character
  - either use a single dash and a single character (for a short flag)
  - or use a double dash for a long option (and can have two, like '--ws, --workspace')`
      );
    if (shortFlagExp.test(unsupportedFlag))
      throw new Error(`${baseError}
- too many short flags`);
    if (longFlagExp.test(unsupportedFlag))
      throw new Error(`${baseError}
- too many long flags`);
    throw new Error(`${baseError}
- unrecognised flag format`);
  }
  if (shortFlag === void 0 && longFlag === void 0)
    throw new Error(
      `option creation failed due to no flags found in '${flags}'.`
    );
  return { shortFlag, longFlag };
}

// node_modules/commander/lib/suggestSimilar.js
var maxDistance = 3;
function editDistance(a, b) {
  if (Math.abs(a.length - b.length) > maxDistance)
    return Math.max(a.length, b.length);
  const d = [];
  for (let i = 0; i <= a.length; i++) {
    d[i] = [i];
  }
  for (let j = 0; j <= b.length; j++) {
    d[0][j] = j;
  }
  for (let j = 1; j <= b.length; j++) {
    for (let i = 1; i <= a.length; i++) {
      let cost;
      if (a[i - 1] === b[j - 1]) {
        cost = 0;
      } else {
        cost = 1;
      }
      d[i][j] = Math.min(
        d[i - 1][j] + 1,
        // deletion
        d[i][j - 1] + 1,
        // insertion
        d[i - 1][j - 1] + cost
        // substitution
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}
function suggestSimilar(word, candidates) {
  if (!candidates || candidates.length === 0) return "";
  candidates = Array.from(new Set(candidates));
  const searchingOptions = word.startsWith("--");
  if (searchingOptions) {
    word = word.slice(2);
    candidates = candidates.map((candidate) => candidate.slice(2));
  }
  let similar = [];
  let bestDistance = maxDistance;
  const minSimilarity = 0.4;
  candidates.forEach((candidate) => {
    if (candidate.length <= 1) return;
    const distance = editDistance(word, candidate);
    const length3 = Math.max(word.length, candidate.length);
    const similarity = (length3 - distance) / length3;
    if (similarity > minSimilarity) {
      if (distance < bestDistance) {
        bestDistance = distance;
        similar = [candidate];
      } else if (distance === bestDistance) {
        similar.push(candidate);
      }
    }
  });
  similar.sort((a, b) => a.localeCompare(b));
  if (searchingOptions) {
    similar = similar.map((candidate) => `--${candidate}`);
  }
  if (similar.length > 1) {
    return `
(Did you mean one of ${similar.join(", ")}?)`;
  }
  if (similar.length === 1) {
    return `
(Did you mean ${similar[0]}?)`;
  }
  return "";
}

// node_modules/commander/lib/command.js
var Command = class _Command extends EventEmitter {
  /**
   * Initialize a new `Command`.
   *
   * @param {string} [name]
   */
  constructor(name4) {
    super();
    this.commands = [];
    this.options = [];
    this.parent = null;
    this._allowUnknownOption = false;
    this._allowExcessArguments = false;
    this.registeredArguments = [];
    this._args = this.registeredArguments;
    this.args = [];
    this.rawArgs = [];
    this.processedArgs = [];
    this._scriptPath = null;
    this._name = name4 || "";
    this._optionValues = {};
    this._optionValueSources = {};
    this._storeOptionsAsProperties = false;
    this._actionHandler = null;
    this._executableHandler = false;
    this._executableFile = null;
    this._executableDir = null;
    this._defaultCommandName = null;
    this._exitCallback = null;
    this._aliases = [];
    this._combineFlagAndOptionalValue = true;
    this._description = "";
    this._summary = "";
    this._argsDescription = void 0;
    this._enablePositionalOptions = false;
    this._passThroughOptions = false;
    this._lifeCycleHooks = {};
    this._showHelpAfterError = false;
    this._showSuggestionAfterError = true;
    this._savedState = null;
    this._outputConfiguration = {
      writeOut: (str2) => process2.stdout.write(str2),
      writeErr: (str2) => process2.stderr.write(str2),
      outputError: (str2, write2) => write2(str2),
      getOutHelpWidth: () => process2.stdout.isTTY ? process2.stdout.columns : void 0,
      getErrHelpWidth: () => process2.stderr.isTTY ? process2.stderr.columns : void 0,
      getOutHasColors: () => useColor() ?? (process2.stdout.isTTY && process2.stdout.hasColors?.()),
      getErrHasColors: () => useColor() ?? (process2.stderr.isTTY && process2.stderr.hasColors?.()),
      stripColor: (str2) => stripVTControlCharacters2(str2)
    };
    this._hidden = false;
    this._helpOption = void 0;
    this._addImplicitHelpCommand = void 0;
    this._helpCommand = void 0;
    this._helpConfiguration = {};
    this._helpGroupHeading = void 0;
    this._defaultCommandGroup = void 0;
    this._defaultOptionGroup = void 0;
  }
  /**
   * Copy settings that are useful to have in common across root command and subcommands.
   *
   * (Used internally when adding a command using `.command()` so subcommands inherit parent settings.)
   *
   * @param {Command} sourceCommand
   * @return {Command} `this` command for chaining
   */
  copyInheritedSettings(sourceCommand) {
    this._outputConfiguration = sourceCommand._outputConfiguration;
    this._helpOption = sourceCommand._helpOption;
    this._helpCommand = sourceCommand._helpCommand;
    this._helpConfiguration = sourceCommand._helpConfiguration;
    this._exitCallback = sourceCommand._exitCallback;
    this._storeOptionsAsProperties = sourceCommand._storeOptionsAsProperties;
    this._combineFlagAndOptionalValue = sourceCommand._combineFlagAndOptionalValue;
    this._allowExcessArguments = sourceCommand._allowExcessArguments;
    this._enablePositionalOptions = sourceCommand._enablePositionalOptions;
    this._showHelpAfterError = sourceCommand._showHelpAfterError;
    this._showSuggestionAfterError = sourceCommand._showSuggestionAfterError;
    return this;
  }
  /**
   * @returns {Command[]}
   * @private
   */
  _getCommandAndAncestors() {
    const result = [];
    for (let command = this; command; command = command.parent) {
      result.push(command);
    }
    return result;
  }
  /**
   * Define a command.
   *
   * There are two styles of command: pay attention to where to put the description.
   *
   * @example
   * // Command implemented using action handler (description is supplied separately to `.command`)
   * program
   *   .command('clone <source> [destination]')
   *   .description('clone a repository into a newly created directory')
   *   .action((source, destination) => {
   *     console.log('clone command called');
   *   });
   *
   * // Command implemented using separate executable file (description is second parameter to `.command`)
   * program
   *   .command('start <service>', 'start named service')
   *   .command('stop [service]', 'stop named service, or all if no name supplied');
   *
   * @param {string} nameAndArgs - command name and arguments, args are `<required>` or `[optional]` and last may also be `variadic...`
   * @param {(object | string)} [actionOptsOrExecDesc] - configuration options (for action), or description (for executable)
   * @param {object} [execOpts] - configuration options (for executable)
   * @return {Command} returns new command for action handler, or `this` for executable command
   */
  command(nameAndArgs, actionOptsOrExecDesc, execOpts) {
    let desc = actionOptsOrExecDesc;
    let opts = execOpts;
    if (typeof desc === "object" && desc !== null) {
      opts = desc;
      desc = null;
    }
    opts = opts || {};
    const [, name4, args] = nameAndArgs.match(/([^ ]+) *(.*)/);
    const cmd = this.createCommand(name4);
    if (desc) {
      cmd.description(desc);
      cmd._executableHandler = true;
    }
    if (opts.isDefault) this._defaultCommandName = cmd._name;
    cmd._hidden = !!(opts.noHelp || opts.hidden);
    cmd._executableFile = opts.executableFile || null;
    if (args) cmd.arguments(args);
    this._registerCommand(cmd);
    cmd.parent = this;
    cmd.copyInheritedSettings(this);
    if (desc) return this;
    return cmd;
  }
  /**
   * Factory routine to create a new unattached command.
   *
   * See .command() for creating an attached subcommand, which uses this routine to
   * create the command. You can override createCommand to customise subcommands.
   *
   * @param {string} [name]
   * @return {Command} new command
   */
  createCommand(name4) {
    return new _Command(name4);
  }
  /**
   * You can customise the help with a subclass of Help by overriding createHelp,
   * or by overriding Help properties using configureHelp().
   *
   * @return {Help}
   */
  createHelp() {
    return Object.assign(new Help(), this.configureHelp());
  }
  /**
   * You can customise the help by overriding Help properties using configureHelp(),
   * or with a subclass of Help by overriding createHelp().
   *
   * @param {object} [configuration] - configuration options
   * @return {(Command | object)} `this` command for chaining, or stored configuration
   */
  configureHelp(configuration) {
    if (configuration === void 0) return this._helpConfiguration;
    this._helpConfiguration = configuration;
    return this;
  }
  /**
   * The default output goes to stdout and stderr. You can customise this for special
   * applications. You can also customise the display of errors by overriding outputError.
   *
   * The configuration properties are all functions:
   *
   *     // change how output being written, defaults to stdout and stderr
   *     writeOut(str)
   *     writeErr(str)
   *     // change how output being written for errors, defaults to writeErr
   *     outputError(str, write) // used for displaying errors and not used for displaying help
   *     // specify width for wrapping help
   *     getOutHelpWidth()
   *     getErrHelpWidth()
   *     // color support, currently only used with Help
   *     getOutHasColors()
   *     getErrHasColors()
   *     stripColor() // used to remove ANSI escape codes if output does not have colors
   *
   * @param {object} [configuration] - configuration options
   * @return {(Command | object)} `this` command for chaining, or stored configuration
   */
  configureOutput(configuration) {
    if (configuration === void 0) return this._outputConfiguration;
    this._outputConfiguration = {
      ...this._outputConfiguration,
      ...configuration
    };
    return this;
  }
  /**
   * Display the help or a custom message after an error occurs.
   *
   * @param {(boolean|string)} [displayHelp]
   * @return {Command} `this` command for chaining
   */
  showHelpAfterError(displayHelp = true) {
    if (typeof displayHelp !== "string") displayHelp = !!displayHelp;
    this._showHelpAfterError = displayHelp;
    return this;
  }
  /**
   * Display suggestion of similar commands for unknown commands, or options for unknown options.
   *
   * @param {boolean} [displaySuggestion]
   * @return {Command} `this` command for chaining
   */
  showSuggestionAfterError(displaySuggestion = true) {
    this._showSuggestionAfterError = !!displaySuggestion;
    return this;
  }
  /**
   * Add a prepared subcommand.
   *
   * See .command() for creating an attached subcommand which inherits settings from its parent.
   *
   * @param {Command} cmd - new subcommand
   * @param {object} [opts] - configuration options
   * @return {Command} `this` command for chaining
   */
  addCommand(cmd, opts) {
    if (!cmd._name) {
      throw new Error(`Command passed to .addCommand() must have a name
- specify the name in Command constructor or using .name()`);
    }
    opts = opts || {};
    if (opts.isDefault) this._defaultCommandName = cmd._name;
    if (opts.noHelp || opts.hidden) cmd._hidden = true;
    this._registerCommand(cmd);
    cmd.parent = this;
    cmd._checkForBrokenPassThrough();
    return this;
  }
  /**
   * Factory routine to create a new unattached argument.
   *
   * See .argument() for creating an attached argument, which uses this routine to
   * create the argument. You can override createArgument to return a custom argument.
   *
   * @param {string} name
   * @param {string} [description]
   * @return {Argument} new argument
   */
  createArgument(name4, description) {
    return new Argument(name4, description);
  }
  /**
   * Define argument syntax for command.
   *
   * The default is that the argument is required, and you can explicitly
   * indicate this with <> around the name. Put [] around the name for an optional argument.
   *
   * @example
   * program.argument('<input-file>');
   * program.argument('[output-file]');
   *
   * @param {string} name
   * @param {string} [description]
   * @param {(Function|*)} [parseArg] - custom argument processing function or default value
   * @param {*} [defaultValue]
   * @return {Command} `this` command for chaining
   */
  argument(name4, description, parseArg, defaultValue) {
    const argument = this.createArgument(name4, description);
    if (typeof parseArg === "function") {
      argument.default(defaultValue).argParser(parseArg);
    } else {
      argument.default(parseArg);
    }
    this.addArgument(argument);
    return this;
  }
  /**
   * Define argument syntax for command, adding multiple at once (without descriptions).
   *
   * See also .argument().
   *
   * @example
   * program.arguments('<cmd> [env]');
   *
   * @param {string} names
   * @return {Command} `this` command for chaining
   */
  arguments(names) {
    names.trim().split(/ +/).forEach((detail) => {
      this.argument(detail);
    });
    return this;
  }
  /**
   * Define argument syntax for command, adding a prepared argument.
   *
   * @param {Argument} argument
   * @return {Command} `this` command for chaining
   */
  addArgument(argument) {
    const previousArgument = this.registeredArguments.slice(-1)[0];
    if (previousArgument?.variadic) {
      throw new Error(
        `only the last argument can be variadic '${previousArgument.name()}'`
      );
    }
    if (argument.required && argument.defaultValue !== void 0 && argument.parseArg === void 0) {
      throw new Error(
        `a default value for a required argument is never used: '${argument.name()}'`
      );
    }
    this.registeredArguments.push(argument);
    return this;
  }
  /**
   * Customise or override default help command. By default a help command is automatically added if your command has subcommands.
   *
   * @example
   *    program.helpCommand('help [cmd]');
   *    program.helpCommand('help [cmd]', 'show help');
   *    program.helpCommand(false); // suppress default help command
   *    program.helpCommand(true); // add help command even if no subcommands
   *
   * @param {string|boolean} enableOrNameAndArgs - enable with custom name and/or arguments, or boolean to override whether added
   * @param {string} [description] - custom description
   * @return {Command} `this` command for chaining
   */
  helpCommand(enableOrNameAndArgs, description) {
    if (typeof enableOrNameAndArgs === "boolean") {
      this._addImplicitHelpCommand = enableOrNameAndArgs;
      if (enableOrNameAndArgs && this._defaultCommandGroup) {
        this._initCommandGroup(this._getHelpCommand());
      }
      return this;
    }
    const nameAndArgs = enableOrNameAndArgs ?? "help [command]";
    const [, helpName, helpArgs] = nameAndArgs.match(/([^ ]+) *(.*)/);
    const helpDescription = description ?? "display help for command";
    const helpCommand = this.createCommand(helpName);
    helpCommand.helpOption(false);
    if (helpArgs) helpCommand.arguments(helpArgs);
    if (helpDescription) helpCommand.description(helpDescription);
    this._addImplicitHelpCommand = true;
    this._helpCommand = helpCommand;
    if (enableOrNameAndArgs || description) this._initCommandGroup(helpCommand);
    return this;
  }
  /**
   * Add prepared custom help command.
   *
   * @param {(Command|string|boolean)} helpCommand - custom help command, or deprecated enableOrNameAndArgs as for `.helpCommand()`
   * @param {string} [deprecatedDescription] - deprecated custom description used with custom name only
   * @return {Command} `this` command for chaining
   */
  addHelpCommand(helpCommand, deprecatedDescription) {
    if (typeof helpCommand !== "object") {
      this.helpCommand(helpCommand, deprecatedDescription);
      return this;
    }
    this._addImplicitHelpCommand = true;
    this._helpCommand = helpCommand;
    this._initCommandGroup(helpCommand);
    return this;
  }
  /**
   * Lazy create help command.
   *
   * @return {(Command|null)}
   * @package
   */
  _getHelpCommand() {
    const hasImplicitHelpCommand = this._addImplicitHelpCommand ?? (this.commands.length && !this._actionHandler && !this._findCommand("help"));
    if (hasImplicitHelpCommand) {
      if (this._helpCommand === void 0) {
        this.helpCommand(void 0, void 0);
      }
      return this._helpCommand;
    }
    return null;
  }
  /**
   * Add hook for life cycle event.
   *
   * @param {string} event
   * @param {Function} listener
   * @return {Command} `this` command for chaining
   */
  hook(event, listener) {
    const allowedValues = ["preSubcommand", "preAction", "postAction"];
    if (!allowedValues.includes(event)) {
      throw new Error(`Unexpected value for event passed to hook : '${event}'.
Expecting one of '${allowedValues.join("', '")}'`);
    }
    if (this._lifeCycleHooks[event]) {
      this._lifeCycleHooks[event].push(listener);
    } else {
      this._lifeCycleHooks[event] = [listener];
    }
    return this;
  }
  /**
   * Register callback to use as replacement for calling process.exit.
   *
   * @param {Function} [fn] optional callback which will be passed a CommanderError, defaults to throwing
   * @return {Command} `this` command for chaining
   */
  exitOverride(fn) {
    if (fn) {
      this._exitCallback = fn;
    } else {
      this._exitCallback = (err) => {
        if (err.code !== "commander.executeSubCommandAsync") {
          throw err;
        } else {
        }
      };
    }
    return this;
  }
  /**
   * Call process.exit, and _exitCallback if defined.
   *
   * @param {number} exitCode exit code for using with process.exit
   * @param {string} code an id string representing the error
   * @param {string} message human-readable description of the error
   * @return never
   * @private
   */
  _exit(exitCode, code5, message2) {
    if (this._exitCallback) {
      this._exitCallback(new CommanderError(exitCode, code5, message2));
    }
    process2.exit(exitCode);
  }
  /**
   * Register callback `fn` for the command.
   *
   * @example
   * program
   *   .command('serve')
   *   .description('start service')
   *   .action(function() {
   *      // do work here
   *   });
   *
   * @param {Function} fn
   * @return {Command} `this` command for chaining
   */
  action(fn) {
    const listener = (args) => {
      const expectedArgsCount = this.registeredArguments.length;
      const actionArgs = args.slice(0, expectedArgsCount);
      if (this._storeOptionsAsProperties) {
        actionArgs[expectedArgsCount] = this;
      } else {
        actionArgs[expectedArgsCount] = this.opts();
      }
      actionArgs.push(this);
      return fn.apply(this, actionArgs);
    };
    this._actionHandler = listener;
    return this;
  }
  /**
   * Factory routine to create a new unattached option.
   *
   * See .option() for creating an attached option, which uses this routine to
   * create the option. You can override createOption to return a custom option.
   *
   * @param {string} flags
   * @param {string} [description]
   * @return {Option} new option
   */
  createOption(flags, description) {
    return new Option(flags, description);
  }
  /**
   * Wrap parseArgs to catch 'commander.invalidArgument'.
   *
   * @param {(Option | Argument)} target
   * @param {string} value
   * @param {*} previous
   * @param {string} invalidArgumentMessage
   * @private
   */
  _callParseArg(target, value, previous, invalidArgumentMessage) {
    try {
      return target.parseArg(value, previous);
    } catch (err) {
      if (err.code === "commander.invalidArgument") {
        const message2 = `${invalidArgumentMessage} ${err.message}`;
        this.error(message2, { exitCode: err.exitCode, code: err.code });
      }
      throw err;
    }
  }
  /**
   * Check for option flag conflicts.
   * Register option if no conflicts found, or throw on conflict.
   *
   * @param {Option} option
   * @private
   */
  _registerOption(option2) {
    const matchingOption = option2.short && this._findOption(option2.short) || option2.long && this._findOption(option2.long);
    if (matchingOption) {
      const matchingFlag = option2.long && this._findOption(option2.long) ? option2.long : option2.short;
      throw new Error(`Cannot add option '${option2.flags}'${this._name && ` to command '${this._name}'`} due to conflicting flag '${matchingFlag}'
-  already used by option '${matchingOption.flags}'`);
    }
    this._initOptionGroup(option2);
    this.options.push(option2);
  }
  /**
   * Check for command name and alias conflicts with existing commands.
   * Register command if no conflicts found, or throw on conflict.
   *
   * @param {Command} command
   * @private
   */
  _registerCommand(command) {
    const knownBy = (cmd) => {
      return [cmd.name()].concat(cmd.aliases());
    };
    const alreadyUsed = knownBy(command).find(
      (name4) => this._findCommand(name4)
    );
    if (alreadyUsed) {
      const existingCmd = knownBy(this._findCommand(alreadyUsed)).join("|");
      const newCmd = knownBy(command).join("|");
      throw new Error(
        `cannot add command '${newCmd}' as already have command '${existingCmd}'`
      );
    }
    this._initCommandGroup(command);
    this.commands.push(command);
  }
  /**
   * Add an option.
   *
   * @param {Option} option
   * @return {Command} `this` command for chaining
   */
  addOption(option2) {
    this._registerOption(option2);
    const oname = option2.name();
    const name4 = option2.attributeName();
    if (option2.defaultValue !== void 0) {
      this.setOptionValueWithSource(name4, option2.defaultValue, "default");
    }
    const handleOptionValue = (val, invalidValueMessage, valueSource) => {
      if (val == null && option2.presetArg !== void 0) {
        val = option2.presetArg;
      }
      const oldValue = this.getOptionValue(name4);
      if (val !== null && option2.parseArg) {
        val = this._callParseArg(option2, val, oldValue, invalidValueMessage);
      } else if (val !== null && option2.variadic) {
        val = option2._collectValue(val, oldValue);
      }
      if (val == null) {
        if (option2.negate) {
          val = false;
        } else if (option2.isBoolean() || option2.optional) {
          val = true;
        } else {
          val = "";
        }
      }
      this.setOptionValueWithSource(name4, val, valueSource);
    };
    this.on("option:" + oname, (val) => {
      const invalidValueMessage = `error: option '${option2.flags}' argument '${val}' is invalid.`;
      handleOptionValue(val, invalidValueMessage, "cli");
    });
    if (option2.envVar) {
      this.on("optionEnv:" + oname, (val) => {
        const invalidValueMessage = `error: option '${option2.flags}' value '${val}' from env '${option2.envVar}' is invalid.`;
        handleOptionValue(val, invalidValueMessage, "env");
      });
    }
    return this;
  }
  /**
   * Internal implementation shared by .option() and .requiredOption()
   *
   * @return {Command} `this` command for chaining
   * @private
   */
  _optionEx(config, flags, description, fn, defaultValue) {
    if (typeof flags === "object" && flags instanceof Option) {
      throw new Error(
        "To add an Option object use addOption() instead of option() or requiredOption()"
      );
    }
    const option2 = this.createOption(flags, description);
    option2.makeOptionMandatory(!!config.mandatory);
    if (typeof fn === "function") {
      option2.default(defaultValue).argParser(fn);
    } else if (fn instanceof RegExp) {
      const regex = fn;
      fn = (val, def) => {
        const m = regex.exec(val);
        return m ? m[0] : def;
      };
      option2.default(defaultValue).argParser(fn);
    } else {
      option2.default(fn);
    }
    return this.addOption(option2);
  }
  /**
   * Define option with `flags`, `description`, and optional argument parsing function or `defaultValue` or both.
   *
   * The `flags` string contains the short and/or long flags, separated by comma, a pipe or space. A required
   * option-argument is indicated by `<>` and an optional option-argument by `[]`.
   *
   * See the README for more details, and see also addOption() and requiredOption().
   *
   * @example
   * program
   *     .option('-p, --pepper', 'add pepper')
   *     .option('--pt, --pizza-type <TYPE>', 'type of pizza') // required option-argument
   *     .option('-c, --cheese [CHEESE]', 'add extra cheese', 'mozzarella') // optional option-argument with default
   *     .option('-t, --tip <VALUE>', 'add tip to purchase cost', parseFloat) // custom parse function
   *
   * @param {string} flags
   * @param {string} [description]
   * @param {(Function|*)} [parseArg] - custom option processing function or default value
   * @param {*} [defaultValue]
   * @return {Command} `this` command for chaining
   */
  option(flags, description, parseArg, defaultValue) {
    return this._optionEx({}, flags, description, parseArg, defaultValue);
  }
  /**
   * Add a required option which must have a value after parsing. This usually means
   * the option must be specified on the command line. (Otherwise the same as .option().)
   *
   * The `flags` string contains the short and/or long flags, separated by comma, a pipe or space.
   *
   * @param {string} flags
   * @param {string} [description]
   * @param {(Function|*)} [parseArg] - custom option processing function or default value
   * @param {*} [defaultValue]
   * @return {Command} `this` command for chaining
   */
  requiredOption(flags, description, parseArg, defaultValue) {
    return this._optionEx(
      { mandatory: true },
      flags,
      description,
      parseArg,
      defaultValue
    );
  }
  /**
   * Alter parsing of short flags with optional values.
   *
   * @example
   * // for `.option('-f,--flag [value]'):
   * program.combineFlagAndOptionalValue(true);  // `-f80` is treated like `--flag=80`, this is the default behaviour
   * program.combineFlagAndOptionalValue(false) // `-fb` is treated like `-f -b`
   *
   * @param {boolean} [combine] - if `true` or omitted, an optional value can be specified directly after the flag.
   * @return {Command} `this` command for chaining
   */
  combineFlagAndOptionalValue(combine = true) {
    this._combineFlagAndOptionalValue = !!combine;
    return this;
  }
  /**
   * Allow unknown options on the command line.
   *
   * @param {boolean} [allowUnknown] - if `true` or omitted, no error will be thrown for unknown options.
   * @return {Command} `this` command for chaining
   */
  allowUnknownOption(allowUnknown = true) {
    this._allowUnknownOption = !!allowUnknown;
    return this;
  }
  /**
   * Allow excess command-arguments on the command line. Pass false to make excess arguments an error.
   *
   * @param {boolean} [allowExcess] - if `true` or omitted, no error will be thrown for excess arguments.
   * @return {Command} `this` command for chaining
   */
  allowExcessArguments(allowExcess = true) {
    this._allowExcessArguments = !!allowExcess;
    return this;
  }
  /**
   * Enable positional options. Positional means global options are specified before subcommands which lets
   * subcommands reuse the same option names, and also enables subcommands to turn on passThroughOptions.
   * The default behaviour is non-positional and global options may appear anywhere on the command line.
   *
   * @param {boolean} [positional]
   * @return {Command} `this` command for chaining
   */
  enablePositionalOptions(positional = true) {
    this._enablePositionalOptions = !!positional;
    return this;
  }
  /**
   * Pass through options that come after command-arguments rather than treat them as command-options,
   * so actual command-options come before command-arguments. Turning this on for a subcommand requires
   * positional options to have been enabled on the program (parent commands).
   * The default behaviour is non-positional and options may appear before or after command-arguments.
   *
   * @param {boolean} [passThrough] for unknown options.
   * @return {Command} `this` command for chaining
   */
  passThroughOptions(passThrough = true) {
    this._passThroughOptions = !!passThrough;
    this._checkForBrokenPassThrough();
    return this;
  }
  /**
   * @private
   */
  _checkForBrokenPassThrough() {
    if (this.parent && this._passThroughOptions && !this.parent._enablePositionalOptions) {
      throw new Error(
        `passThroughOptions cannot be used for '${this._name}' without turning on enablePositionalOptions for parent command(s)`
      );
    }
  }
  /**
   * Whether to store option values as properties on command object,
   * or store separately (specify false). In both cases the option values can be accessed using .opts().
   *
   * @param {boolean} [storeAsProperties=true]
   * @return {Command} `this` command for chaining
   */
  storeOptionsAsProperties(storeAsProperties = true) {
    if (this.options.length) {
      throw new Error("call .storeOptionsAsProperties() before adding options");
    }
    if (Object.keys(this._optionValues).length) {
      throw new Error(
        "call .storeOptionsAsProperties() before setting option values"
      );
    }
    this._storeOptionsAsProperties = !!storeAsProperties;
    return this;
  }
  /**
   * Retrieve option value.
   *
   * @param {string} key
   * @return {object} value
   */
  getOptionValue(key) {
    if (this._storeOptionsAsProperties) {
      return this[key];
    }
    return this._optionValues[key];
  }
  /**
   * Store option value.
   *
   * @param {string} key
   * @param {object} value
   * @return {Command} `this` command for chaining
   */
  setOptionValue(key, value) {
    return this.setOptionValueWithSource(key, value, void 0);
  }
  /**
   * Store option value and where the value came from.
   *
   * @param {string} key
   * @param {object} value
   * @param {string} source - expected values are default/config/env/cli/implied
   * @return {Command} `this` command for chaining
   */
  setOptionValueWithSource(key, value, source) {
    if (this._storeOptionsAsProperties) {
      this[key] = value;
    } else {
      this._optionValues[key] = value;
    }
    this._optionValueSources[key] = source;
    return this;
  }
  /**
   * Get source of option value.
   * Expected values are default | config | env | cli | implied
   *
   * @param {string} key
   * @return {string}
   */
  getOptionValueSource(key) {
    return this._optionValueSources[key];
  }
  /**
   * Get source of option value. See also .optsWithGlobals().
   * Expected values are default | config | env | cli | implied
   *
   * @param {string} key
   * @return {string}
   */
  getOptionValueSourceWithGlobals(key) {
    let source;
    this._getCommandAndAncestors().forEach((cmd) => {
      if (Object.hasOwn(cmd._optionValueSources, key)) {
        source = cmd.getOptionValueSource(key);
      }
    });
    return source;
  }
  /**
   * Get user arguments from implied or explicit arguments.
   * Side-effects: set _scriptPath if args included script. Used for default program name, and subcommand searches.
   *
   * @private
   */
  _prepareUserArgs(argv, parseOptions) {
    if (argv !== void 0 && !Array.isArray(argv)) {
      throw new Error("first parameter to parse must be array or undefined");
    }
    parseOptions = parseOptions || {};
    if (argv === void 0 && parseOptions.from === void 0) {
      if (process2.versions?.electron) {
        parseOptions.from = "electron";
      }
      const execArgv = process2.execArgv ?? [];
      if (execArgv.includes("-e") || execArgv.includes("--eval") || execArgv.includes("-p") || execArgv.includes("--print")) {
        parseOptions.from = "eval";
      }
    }
    if (argv === void 0) {
      argv = process2.argv;
    }
    this.rawArgs = argv.slice();
    let userArgs;
    switch (parseOptions.from) {
      case void 0:
      case "node":
        this._scriptPath = argv[1];
        userArgs = argv.slice(2);
        break;
      case "electron":
        if (process2.defaultApp) {
          this._scriptPath = argv[1];
          userArgs = argv.slice(2);
        } else {
          userArgs = argv.slice(1);
        }
        break;
      case "user":
        userArgs = argv.slice(0);
        break;
      case "eval":
        userArgs = argv.slice(1);
        break;
      default:
        throw new Error(
          `unexpected parse option { from: '${parseOptions.from}' }`
        );
    }
    if (!this._name && this._scriptPath)
      this.nameFromFilename(this._scriptPath);
    this._name = this._name || "program";
    return userArgs;
  }
  /**
   * Parse `argv`, setting options and invoking commands when defined.
   *
   * Use parseAsync instead of parse if any of your action handlers are async.
   *
   * Call with no parameters to parse `process.argv`. Detects Electron and special node options like `node --eval`. Easy mode!
   *
   * Or call with an array of strings to parse, and optionally where the user arguments start by specifying where the arguments are `from`:
   * - `'node'`: default, `argv[0]` is the application and `argv[1]` is the script being run, with user arguments after that
   * - `'electron'`: `argv[0]` is the application and `argv[1]` varies depending on whether the electron application is packaged
   * - `'user'`: just user arguments
   *
   * @example
   * program.parse(); // parse process.argv and auto-detect electron and special node flags
   * program.parse(process.argv); // assume argv[0] is app and argv[1] is script
   * program.parse(my-args, { from: 'user' }); // just user supplied arguments, nothing special about argv[0]
   *
   * @param {string[]} [argv] - optional, defaults to process.argv
   * @param {object} [parseOptions] - optionally specify style of options with from: node/user/electron
   * @param {string} [parseOptions.from] - where the args are from: 'node', 'user', 'electron'
   * @return {Command} `this` command for chaining
   */
  parse(argv, parseOptions) {
    this._prepareForParse();
    const userArgs = this._prepareUserArgs(argv, parseOptions);
    this._parseCommand([], userArgs);
    return this;
  }
  /**
   * Parse `argv`, setting options and invoking commands when defined.
   *
   * Call with no parameters to parse `process.argv`. Detects Electron and special node options like `node --eval`. Easy mode!
   *
   * Or call with an array of strings to parse, and optionally where the user arguments start by specifying where the arguments are `from`:
   * - `'node'`: default, `argv[0]` is the application and `argv[1]` is the script being run, with user arguments after that
   * - `'electron'`: `argv[0]` is the application and `argv[1]` varies depending on whether the electron application is packaged
   * - `'user'`: just user arguments
   *
   * @example
   * await program.parseAsync(); // parse process.argv and auto-detect electron and special node flags
   * await program.parseAsync(process.argv); // assume argv[0] is app and argv[1] is script
   * await program.parseAsync(my-args, { from: 'user' }); // just user supplied arguments, nothing special about argv[0]
   *
   * @param {string[]} [argv]
   * @param {object} [parseOptions]
   * @param {string} parseOptions.from - where the args are from: 'node', 'user', 'electron'
   * @return {Promise}
   */
  async parseAsync(argv, parseOptions) {
    this._prepareForParse();
    const userArgs = this._prepareUserArgs(argv, parseOptions);
    await this._parseCommand([], userArgs);
    return this;
  }
  _prepareForParse() {
    if (this._savedState === null) {
      this.options.filter(
        (option2) => option2.negate && option2.defaultValue === void 0 && this.getOptionValue(option2.attributeName()) === void 0
      ).forEach((option2) => {
        const positiveLongFlag = option2.long.replace(/^--no-/, "--");
        if (!this._findOption(positiveLongFlag)) {
          this.setOptionValueWithSource(
            option2.attributeName(),
            true,
            "default"
          );
        }
      });
      this.saveStateBeforeParse();
    } else {
      this.restoreStateBeforeParse();
    }
  }
  /**
   * Called the first time parse is called to save state and allow a restore before subsequent calls to parse.
   * Not usually called directly, but available for subclasses to save their custom state.
   *
   * This is called in a lazy way. Only commands used in parsing chain will have state saved.
   */
  saveStateBeforeParse() {
    this._savedState = {
      // name is stable if supplied by author, but may be unspecified for root command and deduced during parsing
      _name: this._name,
      // option values before parse have default values (including false for negated options)
      // shallow clones
      _optionValues: { ...this._optionValues },
      _optionValueSources: { ...this._optionValueSources }
    };
  }
  /**
   * Restore state before parse for calls after the first.
   * Not usually called directly, but available for subclasses to save their custom state.
   *
   * This is called in a lazy way. Only commands used in parsing chain will have state restored.
   */
  restoreStateBeforeParse() {
    if (this._storeOptionsAsProperties)
      throw new Error(`Can not call parse again when storeOptionsAsProperties is true.
- either make a new Command for each call to parse, or stop storing options as properties`);
    this._name = this._savedState._name;
    this._scriptPath = null;
    this.rawArgs = [];
    this._optionValues = { ...this._savedState._optionValues };
    this._optionValueSources = { ...this._savedState._optionValueSources };
    this.args = [];
    this.processedArgs = [];
  }
  /**
   * Throw if expected executable is missing. Add lots of help for author.
   *
   * @param {string} executableFile
   * @param {string} executableDir
   * @param {string} subcommandName
   */
  _checkForMissingExecutable(executableFile, executableDir, subcommandName) {
    if (fs.existsSync(executableFile)) return;
    const executableDirMessage = executableDir ? `searched for local subcommand relative to directory '${executableDir}'` : "no directory for search for local subcommand, use .executableDir() to supply a custom directory";
    const executableMissing = `'${executableFile}' does not exist
 - if '${subcommandName}' is not meant to be an executable command, remove description parameter from '.command()' and use '.description()' instead
 - if the default executable name is not suitable, use the executableFile option to supply a custom name or path
 - ${executableDirMessage}`;
    throw new Error(executableMissing);
  }
  /**
   * Execute a sub-command executable.
   *
   * @private
   */
  _executeSubCommand(subcommand, args) {
    args = args.slice();
    const sourceExt = [".js", ".ts", ".tsx", ".mjs", ".cjs"];
    function findFile(baseDir, baseName) {
      const localBin = path.resolve(baseDir, baseName);
      if (fs.existsSync(localBin)) return localBin;
      if (sourceExt.includes(path.extname(baseName))) return void 0;
      const foundExt = sourceExt.find(
        (ext) => fs.existsSync(`${localBin}${ext}`)
      );
      if (foundExt) return `${localBin}${foundExt}`;
      return void 0;
    }
    this._checkForMissingMandatoryOptions();
    this._checkForConflictingOptions();
    let executableFile = subcommand._executableFile || `${this._name}-${subcommand._name}`;
    let executableDir = this._executableDir || "";
    if (this._scriptPath) {
      let resolvedScriptPath;
      try {
        resolvedScriptPath = fs.realpathSync(this._scriptPath);
      } catch {
        resolvedScriptPath = this._scriptPath;
      }
      executableDir = path.resolve(
        path.dirname(resolvedScriptPath),
        executableDir
      );
    }
    if (executableDir) {
      let localFile = findFile(executableDir, executableFile);
      if (!localFile && !subcommand._executableFile && this._scriptPath) {
        const legacyName = path.basename(
          this._scriptPath,
          path.extname(this._scriptPath)
        );
        if (legacyName !== this._name) {
          localFile = findFile(
            executableDir,
            `${legacyName}-${subcommand._name}`
          );
        }
      }
      executableFile = localFile || executableFile;
    }
    const launchWithNode = sourceExt.includes(path.extname(executableFile));
    let proc;
    if (process2.platform !== "win32") {
      if (launchWithNode) {
        args.unshift(executableFile);
        args = incrementNodeInspectorPort(process2.execArgv).concat(args);
        proc = childProcess.spawn(process2.argv[0], args, { stdio: "inherit" });
      } else {
        proc = childProcess.spawn(executableFile, args, { stdio: "inherit" });
      }
    } else {
      this._checkForMissingExecutable(
        executableFile,
        executableDir,
        subcommand._name
      );
      args.unshift(executableFile);
      args = incrementNodeInspectorPort(process2.execArgv).concat(args);
      proc = childProcess.spawn(process2.execPath, args, { stdio: "inherit" });
    }
    if (!proc.killed) {
      const signals = ["SIGUSR1", "SIGUSR2", "SIGTERM", "SIGINT", "SIGHUP"];
      signals.forEach((signal) => {
        process2.on(signal, () => {
          if (proc.killed === false && proc.exitCode === null) {
            proc.kill(signal);
          }
        });
      });
    }
    const exitCallback = this._exitCallback;
    proc.on("close", (code5) => {
      code5 = code5 ?? 1;
      if (!exitCallback) {
        process2.exit(code5);
      } else {
        exitCallback(
          new CommanderError(
            code5,
            "commander.executeSubCommandAsync",
            "(close)"
          )
        );
      }
    });
    proc.on("error", (err) => {
      if (err.code === "ENOENT") {
        this._checkForMissingExecutable(
          executableFile,
          executableDir,
          subcommand._name
        );
      } else if (err.code === "EACCES") {
        throw new Error(`'${executableFile}' not executable`);
      }
      if (!exitCallback) {
        process2.exit(1);
      } else {
        const wrappedError = new CommanderError(
          1,
          "commander.executeSubCommandAsync",
          "(error)"
        );
        wrappedError.nestedError = err;
        exitCallback(wrappedError);
      }
    });
    this.runningCommand = proc;
  }
  /**
   * @private
   */
  _dispatchSubcommand(commandName, operands, unknown) {
    const subCommand = this._findCommand(commandName);
    if (!subCommand) this.help({ error: true });
    subCommand._prepareForParse();
    let promiseChain;
    promiseChain = this._chainOrCallSubCommandHook(
      promiseChain,
      subCommand,
      "preSubcommand"
    );
    promiseChain = this._chainOrCall(promiseChain, () => {
      if (subCommand._executableHandler) {
        this._executeSubCommand(subCommand, operands.concat(unknown));
      } else {
        return subCommand._parseCommand(operands, unknown);
      }
    });
    return promiseChain;
  }
  /**
   * Invoke help directly if possible, or dispatch if necessary.
   * e.g. help foo
   *
   * @private
   */
  _dispatchHelpCommand(subcommandName) {
    if (!subcommandName) {
      this.help();
    }
    const subCommand = this._findCommand(subcommandName);
    if (subCommand && !subCommand._executableHandler) {
      subCommand.help();
    }
    return this._dispatchSubcommand(
      subcommandName,
      [],
      [this._getHelpOption()?.long ?? this._getHelpOption()?.short ?? "--help"]
    );
  }
  /**
   * Check this.args against expected this.registeredArguments.
   *
   * @private
   */
  _checkNumberOfArguments() {
    this.registeredArguments.forEach((arg, i) => {
      if (arg.required && this.args[i] == null) {
        this.missingArgument(arg.name());
      }
    });
    if (this.registeredArguments.length > 0 && this.registeredArguments[this.registeredArguments.length - 1].variadic) {
      return;
    }
    if (this.args.length > this.registeredArguments.length) {
      this._excessArguments(this.args);
    }
  }
  /**
   * Process this.args using this.registeredArguments and save as this.processedArgs!
   *
   * @private
   */
  _processArguments() {
    const myParseArg = (argument, value, previous) => {
      let parsedValue = value;
      if (value !== null && argument.parseArg) {
        const invalidValueMessage = `error: command-argument value '${value}' is invalid for argument '${argument.name()}'.`;
        parsedValue = this._callParseArg(
          argument,
          value,
          previous,
          invalidValueMessage
        );
      }
      return parsedValue;
    };
    this._checkNumberOfArguments();
    const processedArgs = [];
    this.registeredArguments.forEach((declaredArg, index) => {
      let value = declaredArg.defaultValue;
      if (declaredArg.variadic) {
        if (index < this.args.length) {
          value = this.args.slice(index);
          if (declaredArg.parseArg) {
            value = value.reduce((processed, v) => {
              return myParseArg(declaredArg, v, processed);
            }, declaredArg.defaultValue);
          }
        } else if (value === void 0) {
          value = [];
        }
      } else if (index < this.args.length) {
        value = this.args[index];
        if (declaredArg.parseArg) {
          value = myParseArg(declaredArg, value, declaredArg.defaultValue);
        }
      }
      processedArgs[index] = value;
    });
    this.processedArgs = processedArgs;
  }
  /**
   * Once we have a promise we chain, but call synchronously until then.
   *
   * @param {(Promise|undefined)} promise
   * @param {Function} fn
   * @return {(Promise|undefined)}
   * @private
   */
  _chainOrCall(promise, fn) {
    if (promise?.then && typeof promise.then === "function") {
      return promise.then(() => fn());
    }
    return fn();
  }
  /**
   *
   * @param {(Promise|undefined)} promise
   * @param {string} event
   * @return {(Promise|undefined)}
   * @private
   */
  _chainOrCallHooks(promise, event) {
    let result = promise;
    const hooks = [];
    this._getCommandAndAncestors().reverse().filter((cmd) => cmd._lifeCycleHooks[event] !== void 0).forEach((hookedCommand) => {
      hookedCommand._lifeCycleHooks[event].forEach((callback) => {
        hooks.push({ hookedCommand, callback });
      });
    });
    if (event === "postAction") {
      hooks.reverse();
    }
    hooks.forEach((hookDetail) => {
      result = this._chainOrCall(result, () => {
        return hookDetail.callback(hookDetail.hookedCommand, this);
      });
    });
    return result;
  }
  /**
   *
   * @param {(Promise|undefined)} promise
   * @param {Command} subCommand
   * @param {string} event
   * @return {(Promise|undefined)}
   * @private
   */
  _chainOrCallSubCommandHook(promise, subCommand, event) {
    let result = promise;
    if (this._lifeCycleHooks[event] !== void 0) {
      this._lifeCycleHooks[event].forEach((hook) => {
        result = this._chainOrCall(result, () => {
          return hook(this, subCommand);
        });
      });
    }
    return result;
  }
  /**
   * Process arguments in context of this command.
   * Returns action result, in case it is a promise.
   *
   * @private
   */
  _parseCommand(operands, unknown) {
    const parsed = this.parseOptions(unknown);
    this._parseOptionsEnv();
    this._parseOptionsImplied();
    operands = operands.concat(parsed.operands);
    unknown = parsed.unknown;
    this.args = operands.concat(unknown);
    if (operands && this._findCommand(operands[0])) {
      return this._dispatchSubcommand(operands[0], operands.slice(1), unknown);
    }
    if (this._getHelpCommand() && operands[0] === this._getHelpCommand().name()) {
      return this._dispatchHelpCommand(operands[1]);
    }
    if (this._defaultCommandName) {
      this._outputHelpIfRequested(unknown);
      return this._dispatchSubcommand(
        this._defaultCommandName,
        operands,
        unknown
      );
    }
    if (this.commands.length && this.args.length === 0 && !this._actionHandler && !this._defaultCommandName) {
      this.help({ error: true });
    }
    this._outputHelpIfRequested(parsed.unknown);
    this._checkForMissingMandatoryOptions();
    this._checkForConflictingOptions();
    const checkForUnknownOptions = () => {
      if (parsed.unknown.length > 0) {
        this.unknownOption(parsed.unknown[0]);
      }
    };
    const commandEvent = `command:${this.name()}`;
    if (this._actionHandler) {
      checkForUnknownOptions();
      this._processArguments();
      let promiseChain;
      promiseChain = this._chainOrCallHooks(promiseChain, "preAction");
      promiseChain = this._chainOrCall(
        promiseChain,
        () => this._actionHandler(this.processedArgs)
      );
      if (this.parent) {
        promiseChain = this._chainOrCall(promiseChain, () => {
          this.parent.emit(commandEvent, operands, unknown);
        });
      }
      promiseChain = this._chainOrCallHooks(promiseChain, "postAction");
      return promiseChain;
    }
    if (this.parent?.listenerCount(commandEvent)) {
      checkForUnknownOptions();
      this._processArguments();
      this.parent.emit(commandEvent, operands, unknown);
    } else if (operands.length) {
      if (this._findCommand("*")) {
        return this._dispatchSubcommand("*", operands, unknown);
      }
      if (this.listenerCount("command:*")) {
        this.emit("command:*", operands, unknown);
      } else if (this.commands.length) {
        this.unknownCommand();
      } else {
        checkForUnknownOptions();
        this._processArguments();
      }
    } else if (this.commands.length) {
      checkForUnknownOptions();
      this.help({ error: true });
    } else {
      checkForUnknownOptions();
      this._processArguments();
    }
  }
  /**
   * Find matching command.
   *
   * @private
   * @return {Command | undefined}
   */
  _findCommand(name4) {
    if (!name4) return void 0;
    return this.commands.find(
      (cmd) => cmd._name === name4 || cmd._aliases.includes(name4)
    );
  }
  /**
   * Return an option matching `arg` if any.
   *
   * @param {string} arg
   * @return {Option}
   * @package
   */
  _findOption(arg) {
    return this.options.find((option2) => option2.is(arg));
  }
  /**
   * Display an error message if a mandatory option does not have a value.
   * Called after checking for help flags in leaf subcommand.
   *
   * @private
   */
  _checkForMissingMandatoryOptions() {
    this._getCommandAndAncestors().forEach((cmd) => {
      cmd.options.forEach((anOption) => {
        if (anOption.mandatory && cmd.getOptionValue(anOption.attributeName()) === void 0) {
          cmd.missingMandatoryOptionValue(anOption);
        }
      });
    });
  }
  /**
   * Display an error message if conflicting options are used together in this.
   *
   * @private
   */
  _checkForConflictingLocalOptions() {
    const definedNonDefaultOptions = this.options.filter((option2) => {
      const optionKey = option2.attributeName();
      if (this.getOptionValue(optionKey) === void 0) {
        return false;
      }
      return this.getOptionValueSource(optionKey) !== "default";
    });
    const optionsWithConflicting = definedNonDefaultOptions.filter(
      (option2) => option2.conflictsWith.length > 0
    );
    optionsWithConflicting.forEach((option2) => {
      const conflictingAndDefined = definedNonDefaultOptions.find(
        (defined) => option2.conflictsWith.includes(defined.attributeName())
      );
      if (conflictingAndDefined) {
        this._conflictingOption(option2, conflictingAndDefined);
      }
    });
  }
  /**
   * Display an error message if conflicting options are used together.
   * Called after checking for help flags in leaf subcommand.
   *
   * @private
   */
  _checkForConflictingOptions() {
    this._getCommandAndAncestors().forEach((cmd) => {
      cmd._checkForConflictingLocalOptions();
    });
  }
  /**
   * Parse options from `argv` removing known options,
   * and return argv split into operands and unknown arguments.
   *
   * Side effects: modifies command by storing options. Does not reset state if called again.
   *
   * Examples:
   *
   *     argv => operands, unknown
   *     --known kkk op => [op], []
   *     op --known kkk => [op], []
   *     sub --unknown uuu op => [sub], [--unknown uuu op]
   *     sub -- --unknown uuu op => [sub --unknown uuu op], []
   *
   * @param {string[]} args
   * @return {{operands: string[], unknown: string[]}}
   */
  parseOptions(args) {
    const operands = [];
    const unknown = [];
    let dest = operands;
    function maybeOption(arg) {
      return arg.length > 1 && arg[0] === "-";
    }
    const negativeNumberArg = (arg) => {
      if (!/^-(\d+|\d*\.\d+)([eE][+-]?\d+)?$/.test(arg)) return false;
      return !this._getCommandAndAncestors().some(
        (cmd) => cmd.options.map((opt) => opt.short).some((short) => /^-\d$/.test(short))
      );
    };
    let activeVariadicOption = null;
    let activeGroup = null;
    let i = 0;
    while (i < args.length || activeGroup) {
      const arg = activeGroup ?? args[i++];
      activeGroup = null;
      if (arg === "--") {
        if (dest === unknown) dest.push(arg);
        dest.push(...args.slice(i));
        break;
      }
      if (activeVariadicOption && (!maybeOption(arg) || negativeNumberArg(arg))) {
        this.emit(`option:${activeVariadicOption.name()}`, arg);
        continue;
      }
      activeVariadicOption = null;
      if (maybeOption(arg)) {
        const option2 = this._findOption(arg);
        if (option2) {
          if (option2.required) {
            const value = args[i++];
            if (value === void 0) this.optionMissingArgument(option2);
            this.emit(`option:${option2.name()}`, value);
          } else if (option2.optional) {
            let value = null;
            if (i < args.length && (!maybeOption(args[i]) || negativeNumberArg(args[i]))) {
              value = args[i++];
            }
            this.emit(`option:${option2.name()}`, value);
          } else {
            this.emit(`option:${option2.name()}`);
          }
          activeVariadicOption = option2.variadic ? option2 : null;
          continue;
        }
      }
      if (arg.length > 2 && arg[0] === "-" && arg[1] !== "-") {
        const option2 = this._findOption(`-${arg[1]}`);
        if (option2) {
          if (option2.required || option2.optional && this._combineFlagAndOptionalValue) {
            this.emit(`option:${option2.name()}`, arg.slice(2));
          } else {
            this.emit(`option:${option2.name()}`);
            activeGroup = `-${arg.slice(2)}`;
          }
          continue;
        }
      }
      if (/^--[^=]+=/.test(arg)) {
        const index = arg.indexOf("=");
        const option2 = this._findOption(arg.slice(0, index));
        if (option2 && (option2.required || option2.optional)) {
          this.emit(`option:${option2.name()}`, arg.slice(index + 1));
          continue;
        }
      }
      if (dest === operands && maybeOption(arg) && !(this.commands.length === 0 && negativeNumberArg(arg))) {
        dest = unknown;
      }
      if ((this._enablePositionalOptions || this._passThroughOptions) && operands.length === 0 && unknown.length === 0) {
        if (this._findCommand(arg)) {
          operands.push(arg);
          unknown.push(...args.slice(i));
          break;
        } else if (this._getHelpCommand() && arg === this._getHelpCommand().name()) {
          operands.push(arg, ...args.slice(i));
          break;
        } else if (this._defaultCommandName) {
          unknown.push(arg, ...args.slice(i));
          break;
        }
      }
      if (this._passThroughOptions) {
        dest.push(arg, ...args.slice(i));
        break;
      }
      dest.push(arg);
    }
    return { operands, unknown };
  }
  /**
   * Return an object containing local option values as key-value pairs.
   *
   * @return {object}
   */
  opts() {
    if (this._storeOptionsAsProperties) {
      const result = {};
      const len = this.options.length;
      for (let i = 0; i < len; i++) {
        const key = this.options[i].attributeName();
        result[key] = key === this._versionOptionName ? this._version : this[key];
      }
      return result;
    }
    return this._optionValues;
  }
  /**
   * Return an object containing merged local and global option values as key-value pairs.
   *
   * @return {object}
   */
  optsWithGlobals() {
    return this._getCommandAndAncestors().reduce(
      (combinedOptions, cmd) => Object.assign(combinedOptions, cmd.opts()),
      {}
    );
  }
  /**
   * Display error message and exit (or call exitOverride).
   *
   * @param {string} message
   * @param {object} [errorOptions]
   * @param {string} [errorOptions.code] - an id string representing the error
   * @param {number} [errorOptions.exitCode] - used with process.exit
   */
  error(message2, errorOptions) {
    this._outputConfiguration.outputError(
      `${message2}
`,
      this._outputConfiguration.writeErr
    );
    if (typeof this._showHelpAfterError === "string") {
      this._outputConfiguration.writeErr(`${this._showHelpAfterError}
`);
    } else if (this._showHelpAfterError) {
      this._outputConfiguration.writeErr("\n");
      this.outputHelp({ error: true });
    }
    const config = errorOptions || {};
    const exitCode = config.exitCode || 1;
    const code5 = config.code || "commander.error";
    this._exit(exitCode, code5, message2);
  }
  /**
   * Apply any option related environment variables, if option does
   * not have a value from cli or client code.
   *
   * @private
   */
  _parseOptionsEnv() {
    this.options.forEach((option2) => {
      if (option2.envVar && option2.envVar in process2.env) {
        const optionKey = option2.attributeName();
        if (this.getOptionValue(optionKey) === void 0 || ["default", "config", "env"].includes(
          this.getOptionValueSource(optionKey)
        )) {
          if (option2.required || option2.optional) {
            this.emit(`optionEnv:${option2.name()}`, process2.env[option2.envVar]);
          } else {
            this.emit(`optionEnv:${option2.name()}`);
          }
        }
      }
    });
  }
  /**
   * Apply any implied option values, if option is undefined or default value.
   *
   * @private
   */
  _parseOptionsImplied() {
    const dualHelper = new DualOptions(this.options);
    const hasCustomOptionValue = (optionKey) => {
      return this.getOptionValue(optionKey) !== void 0 && !["default", "implied"].includes(this.getOptionValueSource(optionKey));
    };
    this.options.filter(
      (option2) => option2.implied !== void 0 && hasCustomOptionValue(option2.attributeName()) && dualHelper.valueFromOption(
        this.getOptionValue(option2.attributeName()),
        option2
      )
    ).forEach((option2) => {
      Object.keys(option2.implied).filter((impliedKey) => !hasCustomOptionValue(impliedKey)).forEach((impliedKey) => {
        this.setOptionValueWithSource(
          impliedKey,
          option2.implied[impliedKey],
          "implied"
        );
      });
    });
  }
  /**
   * Argument `name` is missing.
   *
   * @param {string} name
   * @private
   */
  missingArgument(name4) {
    const message2 = `error: missing required argument '${name4}'`;
    this.error(message2, { code: "commander.missingArgument" });
  }
  /**
   * `Option` is missing an argument.
   *
   * @param {Option} option
   * @private
   */
  optionMissingArgument(option2) {
    const message2 = `error: option '${option2.flags}' argument missing`;
    this.error(message2, { code: "commander.optionMissingArgument" });
  }
  /**
   * `Option` does not have a value, and is a mandatory option.
   *
   * @param {Option} option
   * @private
   */
  missingMandatoryOptionValue(option2) {
    const message2 = `error: required option '${option2.flags}' not specified`;
    this.error(message2, { code: "commander.missingMandatoryOptionValue" });
  }
  /**
   * `Option` conflicts with another option.
   *
   * @param {Option} option
   * @param {Option} conflictingOption
   * @private
   */
  _conflictingOption(option2, conflictingOption) {
    const findBestOptionFromValue = (option3) => {
      const optionKey = option3.attributeName();
      const optionValue = this.getOptionValue(optionKey);
      const negativeOption = this.options.find(
        (target) => target.negate && optionKey === target.attributeName()
      );
      const positiveOption = this.options.find(
        (target) => !target.negate && optionKey === target.attributeName()
      );
      if (negativeOption && (negativeOption.presetArg === void 0 && optionValue === false || negativeOption.presetArg !== void 0 && optionValue === negativeOption.presetArg)) {
        return negativeOption;
      }
      return positiveOption || option3;
    };
    const getErrorMessage = (option3) => {
      const bestOption = findBestOptionFromValue(option3);
      const optionKey = bestOption.attributeName();
      const source = this.getOptionValueSource(optionKey);
      if (source === "env") {
        return `environment variable '${bestOption.envVar}'`;
      }
      return `option '${bestOption.flags}'`;
    };
    const message2 = `error: ${getErrorMessage(option2)} cannot be used with ${getErrorMessage(conflictingOption)}`;
    this.error(message2, { code: "commander.conflictingOption" });
  }
  /**
   * Unknown option `flag`.
   *
   * @param {string} flag
   * @private
   */
  unknownOption(flag) {
    if (this._allowUnknownOption) return;
    let suggestion = "";
    if (flag.startsWith("--") && this._showSuggestionAfterError) {
      let candidateFlags = [];
      let command = this;
      do {
        const moreFlags = command.createHelp().visibleOptions(command).filter((option2) => option2.long).map((option2) => option2.long);
        candidateFlags = candidateFlags.concat(moreFlags);
        command = command.parent;
      } while (command && !command._enablePositionalOptions);
      suggestion = suggestSimilar(flag, candidateFlags);
    }
    const message2 = `error: unknown option '${flag}'${suggestion}`;
    this.error(message2, { code: "commander.unknownOption" });
  }
  /**
   * Excess arguments, more than expected.
   *
   * @param {string[]} receivedArgs
   * @private
   */
  _excessArguments(receivedArgs) {
    if (this._allowExcessArguments) return;
    const expected = this.registeredArguments.length;
    const s = expected === 1 ? "" : "s";
    const received = receivedArgs.length;
    const forSubcommand = this.parent ? ` for '${this.name()}'` : "";
    const details = receivedArgs.join(", ");
    const message2 = `error: too many arguments${forSubcommand}. Expected ${expected} argument${s} but got ${received}: ${details}.`;
    this.error(message2, { code: "commander.excessArguments" });
  }
  /**
   * Unknown command.
   *
   * @private
   */
  unknownCommand() {
    const unknownName = this.args[0];
    let suggestion = "";
    if (this._showSuggestionAfterError) {
      const candidateNames = [];
      this.createHelp().visibleCommands(this).forEach((command) => {
        candidateNames.push(command.name());
        if (command.alias()) candidateNames.push(command.alias());
      });
      suggestion = suggestSimilar(unknownName, candidateNames);
    }
    const message2 = `error: unknown command '${unknownName}'${suggestion}`;
    this.error(message2, { code: "commander.unknownCommand" });
  }
  /**
   * Get or set the program version.
   *
   * This method auto-registers the "-V, --version" option which will print the version number.
   *
   * You can optionally supply the flags and description to override the defaults.
   *
   * @param {string} [str]
   * @param {string} [flags]
   * @param {string} [description]
   * @return {(this | string | undefined)} `this` command for chaining, or version string if no arguments
   */
  version(str2, flags, description) {
    if (str2 === void 0) return this._version;
    this._version = str2;
    flags = flags || "-V, --version";
    description = description || "output the version number";
    const versionOption = this.createOption(flags, description);
    this._versionOptionName = versionOption.attributeName();
    this._registerOption(versionOption);
    this.on("option:" + versionOption.name(), () => {
      this._outputConfiguration.writeOut(`${str2}
`);
      this._exit(0, "commander.version", str2);
    });
    return this;
  }
  /**
   * Set the description.
   *
   * @param {string} [str]
   * @param {object} [argsDescription]
   * @return {(string|Command)}
   */
  description(str2, argsDescription) {
    if (str2 === void 0 && argsDescription === void 0)
      return this._description;
    this._description = str2;
    if (argsDescription) {
      this._argsDescription = argsDescription;
    }
    return this;
  }
  /**
   * Set the summary. Used when listed as subcommand of parent.
   *
   * @param {string} [str]
   * @return {(string|Command)}
   */
  summary(str2) {
    if (str2 === void 0) return this._summary;
    this._summary = str2;
    return this;
  }
  /**
   * Set an alias for the command.
   *
   * You may call more than once to add multiple aliases. Only the first alias is shown in the auto-generated help.
   *
   * @param {string} [alias]
   * @return {(string|Command)}
   */
  alias(alias) {
    if (alias === void 0) return this._aliases[0];
    let command = this;
    if (this.commands.length !== 0 && this.commands[this.commands.length - 1]._executableHandler) {
      command = this.commands[this.commands.length - 1];
    }
    if (alias === command._name)
      throw new Error("Command alias can't be the same as its name");
    const matchingCommand = this.parent?._findCommand(alias);
    if (matchingCommand) {
      const existingCmd = [matchingCommand.name()].concat(matchingCommand.aliases()).join("|");
      throw new Error(
        `cannot add alias '${alias}' to command '${this.name()}' as already have command '${existingCmd}'`
      );
    }
    command._aliases.push(alias);
    return this;
  }
  /**
   * Set aliases for the command.
   *
   * Only the first alias is shown in the auto-generated help.
   *
   * @param {string[]} [aliases]
   * @return {(string[]|Command)}
   */
  aliases(aliases) {
    if (aliases === void 0) return this._aliases;
    aliases.forEach((alias) => this.alias(alias));
    return this;
  }
  /**
   * Set / get the command usage `str`.
   *
   * @param {string} [str]
   * @return {(string|Command)}
   */
  usage(str2) {
    if (str2 === void 0) {
      if (this._usage) return this._usage;
      const args = this.registeredArguments.map((arg) => {
        return humanReadableArgName(arg);
      });
      return [].concat(
        this.options.length || this._helpOption !== null ? "[options]" : [],
        this.commands.length ? "[command]" : [],
        this.registeredArguments.length ? args : []
      ).join(" ");
    }
    this._usage = str2;
    return this;
  }
  /**
   * Get or set the name of the command.
   *
   * @param {string} [str]
   * @return {(string|Command)}
   */
  name(str2) {
    if (str2 === void 0) return this._name;
    this._name = str2;
    return this;
  }
  /**
   * Set/get the help group heading for this subcommand in parent command's help.
   *
   * @param {string} [heading]
   * @return {Command | string}
   */
  helpGroup(heading) {
    if (heading === void 0) return this._helpGroupHeading ?? "";
    this._helpGroupHeading = heading;
    return this;
  }
  /**
   * Set/get the default help group heading for subcommands added to this command.
   * (This does not override a group set directly on the subcommand using .helpGroup().)
   *
   * @example
   * program.commandsGroup('Development Commands:');
   * program.command('watch')...
   * program.command('lint')...
   * ...
   *
   * @param {string} [heading]
   * @returns {Command | string}
   */
  commandsGroup(heading) {
    if (heading === void 0) return this._defaultCommandGroup ?? "";
    this._defaultCommandGroup = heading;
    return this;
  }
  /**
   * Set/get the default help group heading for options added to this command.
   * (This does not override a group set directly on the option using .helpGroup().)
   *
   * @example
   * program
   *   .optionsGroup('Development Options:')
   *   .option('-d, --debug', 'output extra debugging')
   *   .option('-p, --profile', 'output profiling information')
   *
   * @param {string} [heading]
   * @returns {Command | string}
   */
  optionsGroup(heading) {
    if (heading === void 0) return this._defaultOptionGroup ?? "";
    this._defaultOptionGroup = heading;
    return this;
  }
  /**
   * @param {Option} option
   * @private
   */
  _initOptionGroup(option2) {
    if (this._defaultOptionGroup && !option2.helpGroupHeading)
      option2.helpGroup(this._defaultOptionGroup);
  }
  /**
   * @param {Command} cmd
   * @private
   */
  _initCommandGroup(cmd) {
    if (this._defaultCommandGroup && !cmd.helpGroup())
      cmd.helpGroup(this._defaultCommandGroup);
  }
  /**
   * Set the name of the command from script filename, such as process.argv[1],
   * or import.meta.filename.
   *
   * (Used internally and public although not documented in README.)
   *
   * @example
   * program.nameFromFilename(import.meta.filename);
   *
   * @param {string} filename
   * @return {Command}
   */
  nameFromFilename(filename) {
    this._name = path.basename(filename, path.extname(filename));
    return this;
  }
  /**
   * Get or set the directory for searching for executable subcommands of this command.
   *
   * @example
   * program.executableDir(import.meta.dirname);
   * // or
   * program.executableDir('subcommands');
   *
   * @param {string} [path]
   * @return {(string|null|Command)}
   */
  executableDir(path2) {
    if (path2 === void 0) return this._executableDir;
    this._executableDir = path2;
    return this;
  }
  /**
   * Return program help documentation.
   *
   * @param {{ error: boolean }} [contextOptions] - pass {error:true} to wrap for stderr instead of stdout
   * @return {string}
   */
  helpInformation(contextOptions) {
    const helper = this.createHelp();
    const context = this._getOutputContext(contextOptions);
    helper.prepareContext({
      error: context.error,
      helpWidth: context.helpWidth,
      outputHasColors: context.hasColors
    });
    const text2 = helper.formatHelp(this, helper);
    if (context.hasColors) return text2;
    return this._outputConfiguration.stripColor(text2);
  }
  /**
   * @typedef HelpContext
   * @type {object}
   * @property {boolean} error
   * @property {number} helpWidth
   * @property {boolean} hasColors
   * @property {function} write - includes stripColor if needed
   *
   * @returns {HelpContext}
   * @private
   */
  _getOutputContext(contextOptions) {
    contextOptions = contextOptions || {};
    const error = !!contextOptions.error;
    let baseWrite;
    let hasColors;
    let helpWidth;
    if (error) {
      baseWrite = (str2) => this._outputConfiguration.writeErr(str2);
      hasColors = this._outputConfiguration.getErrHasColors();
      helpWidth = this._outputConfiguration.getErrHelpWidth();
    } else {
      baseWrite = (str2) => this._outputConfiguration.writeOut(str2);
      hasColors = this._outputConfiguration.getOutHasColors();
      helpWidth = this._outputConfiguration.getOutHelpWidth();
    }
    const write2 = (str2) => {
      if (!hasColors) str2 = this._outputConfiguration.stripColor(str2);
      return baseWrite(str2);
    };
    return { error, write: write2, hasColors, helpWidth };
  }
  /**
   * Output help information for this command.
   *
   * Outputs built-in help, and custom text added using `.addHelpText()`.
   *
   * @param {{ error: boolean } | Function} [contextOptions] - pass {error:true} to write to stderr instead of stdout
   */
  outputHelp(contextOptions) {
    let deprecatedCallback;
    if (typeof contextOptions === "function") {
      deprecatedCallback = contextOptions;
      contextOptions = void 0;
    }
    const outputContext = this._getOutputContext(contextOptions);
    const eventContext = {
      error: outputContext.error,
      write: outputContext.write,
      command: this
    };
    this._getCommandAndAncestors().reverse().forEach((command) => command.emit("beforeAllHelp", eventContext));
    this.emit("beforeHelp", eventContext);
    let helpInformation = this.helpInformation({ error: outputContext.error });
    if (deprecatedCallback) {
      helpInformation = deprecatedCallback(helpInformation);
      if (typeof helpInformation !== "string" && !Buffer.isBuffer(helpInformation)) {
        throw new Error("outputHelp callback must return a string or a Buffer");
      }
    }
    outputContext.write(helpInformation);
    if (this._getHelpOption()?.long) {
      this.emit(this._getHelpOption().long);
    }
    this.emit("afterHelp", eventContext);
    this._getCommandAndAncestors().forEach(
      (command) => command.emit("afterAllHelp", eventContext)
    );
  }
  /**
   * You can pass in flags and a description to customise the built-in help option.
   * Pass in false to disable the built-in help option.
   *
   * @example
   * program.helpOption('-?, --help', 'show help'); // customise
   * program.helpOption(false); // disable
   *
   * @param {(string | boolean)} flags
   * @param {string} [description]
   * @return {Command} `this` command for chaining
   */
  helpOption(flags, description) {
    if (typeof flags === "boolean") {
      if (flags) {
        if (this._helpOption === null) this._helpOption = void 0;
        if (this._defaultOptionGroup) {
          this._initOptionGroup(this._getHelpOption());
        }
      } else {
        this._helpOption = null;
      }
      return this;
    }
    this._helpOption = this.createOption(
      flags ?? "-h, --help",
      description ?? "display help for command"
    );
    if (flags || description) this._initOptionGroup(this._helpOption);
    return this;
  }
  /**
   * Lazy create help option.
   * Returns null if has been disabled with .helpOption(false).
   *
   * @returns {(Option | null)} the help option
   * @package
   */
  _getHelpOption() {
    if (this._helpOption === void 0) {
      this.helpOption(void 0, void 0);
    }
    return this._helpOption;
  }
  /**
   * Supply your own option to use for the built-in help option.
   * This is an alternative to using helpOption() to customise the flags and description etc.
   *
   * @param {Option} option
   * @return {Command} `this` command for chaining
   */
  addHelpOption(option2) {
    this._helpOption = option2;
    this._initOptionGroup(option2);
    return this;
  }
  /**
   * Output help information and exit.
   *
   * Outputs built-in help, and custom text added using `.addHelpText()`.
   *
   * @param {{ error: boolean }} [contextOptions] - pass {error:true} to write to stderr instead of stdout
   */
  help(contextOptions) {
    this.outputHelp(contextOptions);
    let exitCode = Number(process2.exitCode ?? 0);
    if (exitCode === 0 && contextOptions && typeof contextOptions !== "function" && contextOptions.error) {
      exitCode = 1;
    }
    this._exit(exitCode, "commander.help", "(outputHelp)");
  }
  /**
   * // Do a little typing to coordinate emit and listener for the help text events.
   * @typedef HelpTextEventContext
   * @type {object}
   * @property {boolean} error
   * @property {Command} command
   * @property {function} write
   */
  /**
   * Add additional text to be displayed with the built-in help.
   *
   * Position is 'before' or 'after' to affect just this command,
   * and 'beforeAll' or 'afterAll' to affect this command and all its subcommands.
   *
   * @param {string} position - before or after built-in help
   * @param {(string | Function)} text - string to add, or a function returning a string
   * @return {Command} `this` command for chaining
   */
  addHelpText(position, text2) {
    const allowedValues = ["beforeAll", "before", "after", "afterAll"];
    if (!allowedValues.includes(position)) {
      throw new Error(`Unexpected value for position to addHelpText.
Expecting one of '${allowedValues.join("', '")}'`);
    }
    const helpEvent = `${position}Help`;
    this.on(helpEvent, (context) => {
      let helpStr;
      if (typeof text2 === "function") {
        helpStr = text2({ error: context.error, command: context.command });
      } else {
        helpStr = text2;
      }
      if (helpStr) {
        context.write(`${helpStr}
`);
      }
    });
    return this;
  }
  /**
   * Output help information if help flags specified
   *
   * @param {Array} args - array of options to search for help flags
   * @private
   */
  _outputHelpIfRequested(args) {
    const helpOption = this._getHelpOption();
    const helpRequested = helpOption && args.find((arg) => helpOption.is(arg));
    if (helpRequested) {
      this.outputHelp();
      this._exit(0, "commander.helpDisplayed", "(outputHelp)");
    }
  }
};
function incrementNodeInspectorPort(args) {
  return args.map((arg) => {
    if (!arg.startsWith("--inspect")) {
      return arg;
    }
    let debugOption;
    let debugHost = "127.0.0.1";
    let debugPort = "9229";
    let match;
    if ((match = arg.match(/^(--inspect(-brk|-wait)?)$/)) !== null) {
      debugOption = match[1];
    } else if ((match = arg.match(
      /^(--inspect(-brk|-port|-wait)?)=(\[[^\]]+\]|[^:]+)$/
    )) !== null) {
      debugOption = match[1];
      if (/^\d+$/.test(match[3])) {
        debugPort = match[3];
      } else {
        debugHost = match[3];
      }
    } else if ((match = arg.match(
      /^(--inspect(-brk|-port|-wait)?)=(\[[^\]]+\]|[^:]+):(\d+)$/
    )) !== null) {
      debugOption = match[1];
      debugHost = match[3];
      debugPort = match[4];
    }
    if (debugOption && debugPort !== "0") {
      return `${debugOption}=${debugHost}:${parseInt(debugPort) + 1}`;
    }
    return arg;
  });
}
function useColor() {
  if (process2.env.NO_COLOR || process2.env.FORCE_COLOR === "0" || process2.env.FORCE_COLOR === "false")
    return false;
  if (process2.env.FORCE_COLOR || process2.env.CLICOLOR_FORCE !== void 0)
    return true;
  return void 0;
}

// node_modules/commander/index.js
var program = new Command();

// src/core/logger.ts
var silentLogger = {
  debug() {
  },
  info() {
  },
  warn() {
  },
  group: async (_name, fn) => fn()
};

// src/core/publish.ts
import { mkdtemp as mkdtemp2, stat as stat4 } from "node:fs/promises";
import { join as join3 } from "node:path";

// node_modules/multiformats/dist/src/bases/base32.js
var base32_exports = {};
__export(base32_exports, {
  base32: () => base32,
  base32hex: () => base32hex,
  base32hexpad: () => base32hexpad,
  base32hexpadupper: () => base32hexpadupper,
  base32hexupper: () => base32hexupper,
  base32pad: () => base32pad,
  base32padupper: () => base32padupper,
  base32upper: () => base32upper,
  base32z: () => base32z
});

// node_modules/multiformats/dist/src/bytes.js
var empty = new Uint8Array(0);
function equals(aa, bb) {
  if (aa === bb) {
    return true;
  }
  if (aa.byteLength !== bb.byteLength) {
    return false;
  }
  for (let ii = 0; ii < aa.byteLength; ii++) {
    if (aa[ii] !== bb[ii]) {
      return false;
    }
  }
  return true;
}
function coerce(o) {
  if (o instanceof Uint8Array && o.constructor.name === "Uint8Array") {
    return toArrayBufferBackedArray(o);
  }
  if (o instanceof ArrayBuffer) {
    return new Uint8Array(o);
  }
  if (ArrayBuffer.isView(o)) {
    return toArrayBufferBackedArray(new Uint8Array(o.buffer, o.byteOffset, o.byteLength));
  }
  throw new Error("Unknown type, must be binary type");
}
function fromString(str2) {
  const output = new Uint8Array(str2.length);
  for (let i = 0; i < str2.length; i++) {
    output[i] = str2.charCodeAt(i);
  }
  return output;
}
var MAX_ARGUMENTS_LENGTH = 4096;
function toString(b) {
  const len = b.length;
  if (len <= MAX_ARGUMENTS_LENGTH) {
    return String.fromCharCode.apply(String, b);
  }
  let res = "";
  let i = 0;
  while (i < len) {
    res += String.fromCharCode.apply(
      String,
      // @ts-expect-error cannot ordinarily apply a Uint8Array
      b.subarray(i, i += MAX_ARGUMENTS_LENGTH)
    );
  }
  return res;
}
function isByteArrayWithArrayBuffer(b) {
  return b?.buffer instanceof ArrayBuffer;
}
function toArrayBufferBackedArray(b) {
  if (isByteArrayWithArrayBuffer(b)) {
    return b;
  }
  return b.slice();
}

// node_modules/multiformats/dist/src/vendor/base-x.js
function base(ALPHABET, name4, caseInsensitive) {
  if (ALPHABET.length >= 255) {
    throw new TypeError("Alphabet too long");
  }
  var BASE_MAP = new Uint8Array(256);
  for (var j = 0; j < BASE_MAP.length; j++) {
    BASE_MAP[j] = 255;
  }
  for (var i = 0; i < ALPHABET.length; i++) {
    var x = ALPHABET.charAt(i);
    var xc = x.charCodeAt(0);
    if (BASE_MAP[xc] !== 255) {
      throw new TypeError(x + " is ambiguous");
    }
    BASE_MAP[xc] = i;
    if (caseInsensitive) {
      var xl = x.toLowerCase().charCodeAt(0);
      var xu = x.toUpperCase().charCodeAt(0);
      if (xl !== xc) {
        BASE_MAP[xl] = i;
      }
      if (xu !== xc) {
        BASE_MAP[xu] = i;
      }
    }
  }
  var BASE = ALPHABET.length;
  var LEADER = ALPHABET.charAt(0);
  var FACTOR = Math.log(BASE) / Math.log(256);
  var iFACTOR = Math.log(256) / Math.log(BASE);
  function encode8(source) {
    if (source instanceof Uint8Array)
      ;
    else if (ArrayBuffer.isView(source)) {
      source = new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
    } else if (Array.isArray(source)) {
      source = Uint8Array.from(source);
    }
    if (!(source instanceof Uint8Array)) {
      throw new TypeError("Expected Uint8Array");
    }
    if (source.length === 0) {
      return "";
    }
    var zeroes = 0;
    var length3 = 0;
    var pbegin = 0;
    var pend = source.length;
    while (pbegin !== pend && source[pbegin] === 0) {
      pbegin++;
      zeroes++;
    }
    var size = (pend - pbegin) * iFACTOR + 1 >>> 0;
    var b58 = new Uint8Array(size);
    while (pbegin !== pend) {
      var carry = source[pbegin];
      var i2 = 0;
      for (var it1 = size - 1; (carry !== 0 || i2 < length3) && it1 !== -1; it1--, i2++) {
        carry += 256 * b58[it1] >>> 0;
        b58[it1] = carry % BASE >>> 0;
        carry = carry / BASE >>> 0;
      }
      if (carry !== 0) {
        throw new Error("Non-zero carry");
      }
      length3 = i2;
      pbegin++;
    }
    var it2 = size - length3;
    while (it2 !== size && b58[it2] === 0) {
      it2++;
    }
    var str2 = LEADER.repeat(zeroes);
    for (; it2 < size; ++it2) {
      str2 += ALPHABET.charAt(b58[it2]);
    }
    return str2;
  }
  function decodeUnsafe(source) {
    if (typeof source !== "string") {
      throw new TypeError("Expected String");
    }
    if (source.length === 0) {
      return new Uint8Array();
    }
    var psz = 0;
    if (source[psz] === " ") {
      return;
    }
    var zeroes = 0;
    var length3 = 0;
    while (source[psz] === LEADER) {
      zeroes++;
      psz++;
    }
    var size = (source.length - psz) * FACTOR + 1 >>> 0;
    var b256 = new Uint8Array(size);
    while (source[psz]) {
      var carry = BASE_MAP[source.charCodeAt(psz)];
      if (carry === 255) {
        return;
      }
      var i2 = 0;
      for (var it3 = size - 1; (carry !== 0 || i2 < length3) && it3 !== -1; it3--, i2++) {
        carry += BASE * b256[it3] >>> 0;
        b256[it3] = carry % 256 >>> 0;
        carry = carry / 256 >>> 0;
      }
      if (carry !== 0) {
        throw new Error("Non-zero carry");
      }
      length3 = i2;
      psz++;
    }
    if (source[psz] === " ") {
      return;
    }
    var it4 = size - length3;
    while (it4 !== size && b256[it4] === 0) {
      it4++;
    }
    var vch = new Uint8Array(zeroes + (size - it4));
    var j2 = zeroes;
    while (it4 !== size) {
      vch[j2++] = b256[it4++];
    }
    return vch;
  }
  function decode10(string3) {
    var buffer2 = decodeUnsafe(string3);
    if (buffer2) {
      return buffer2;
    }
    throw new Error(`Non-${name4} character`);
  }
  return {
    encode: encode8,
    decodeUnsafe,
    decode: decode10
  };
}
var src = base;
var _brrp__multiformats_scope_baseX = src;
var base_x_default = _brrp__multiformats_scope_baseX;

// node_modules/multiformats/dist/src/bases/base.js
var Encoder = class {
  name;
  prefix;
  baseEncode;
  constructor(name4, prefix, baseEncode) {
    this.name = name4;
    this.prefix = prefix;
    this.baseEncode = baseEncode;
  }
  encode(bytes) {
    if (bytes instanceof Uint8Array) {
      return `${this.prefix}${this.baseEncode(bytes)}`;
    } else {
      throw Error("Unknown type, must be binary type");
    }
  }
};
var Decoder = class {
  name;
  prefix;
  baseDecode;
  prefixCodePoint;
  constructor(name4, prefix, baseDecode) {
    this.name = name4;
    this.prefix = prefix;
    const prefixCodePoint = prefix.codePointAt(0);
    if (prefixCodePoint === void 0) {
      throw new Error("Invalid prefix character");
    }
    this.prefixCodePoint = prefixCodePoint;
    this.baseDecode = baseDecode;
  }
  decode(text2) {
    if (typeof text2 === "string") {
      if (text2.codePointAt(0) !== this.prefixCodePoint) {
        throw Error(`Unable to decode multibase string ${JSON.stringify(text2)}, ${this.name} decoder only supports inputs prefixed with ${this.prefix}`);
      }
      return this.baseDecode(text2.slice(this.prefix.length));
    } else {
      throw Error("Can only multibase decode strings");
    }
  }
  or(decoder) {
    return or(this, decoder);
  }
};
var ComposedDecoder = class {
  decoders;
  constructor(decoders2) {
    this.decoders = decoders2;
  }
  or(decoder) {
    return or(this, decoder);
  }
  decode(input) {
    const prefix = input[0];
    const decoder = this.decoders[prefix];
    if (decoder != null) {
      return decoder.decode(input);
    } else {
      throw RangeError(`Unable to decode multibase string ${JSON.stringify(input)}, only inputs prefixed with ${Object.keys(this.decoders)} are supported`);
    }
  }
};
function or(left, right) {
  return new ComposedDecoder({
    ...left.decoders ?? { [left.prefix]: left },
    ...right.decoders ?? { [right.prefix]: right }
  });
}
var Codec = class {
  name;
  prefix;
  baseEncode;
  baseDecode;
  encoder;
  decoder;
  constructor(name4, prefix, baseEncode, baseDecode) {
    this.name = name4;
    this.prefix = prefix;
    this.baseEncode = baseEncode;
    this.baseDecode = baseDecode;
    this.encoder = new Encoder(name4, prefix, baseEncode);
    this.decoder = new Decoder(name4, prefix, baseDecode);
  }
  encode(input) {
    return this.encoder.encode(input);
  }
  decode(input) {
    return this.decoder.decode(input);
  }
};
function from({ name: name4, prefix, encode: encode8, decode: decode10 }) {
  return new Codec(name4, prefix, encode8, decode10);
}
function baseX({ name: name4, prefix, alphabet: alphabet2, caseInsensitive = false }) {
  const { encode: encode8, decode: decode10 } = base_x_default(alphabet2, name4, caseInsensitive);
  return from({
    prefix,
    name: name4,
    encode: encode8,
    decode: (text2) => coerce(decode10(text2))
  });
}
function decode(string3, alphabetIdx, bitsPerChar, name4) {
  let end = string3.length;
  while (string3[end - 1] === "=") {
    --end;
  }
  const out = new Uint8Array(end * bitsPerChar / 8 | 0);
  let bits = 0;
  let buffer2 = 0;
  let written = 0;
  for (let i = 0; i < end; ++i) {
    const value = alphabetIdx[string3[i]];
    if (value === void 0) {
      throw new SyntaxError(`Non-${name4} character`);
    }
    buffer2 = buffer2 << bitsPerChar | value;
    bits += bitsPerChar;
    if (bits >= 8) {
      bits -= 8;
      out[written++] = 255 & buffer2 >> bits;
    }
  }
  if (bits >= bitsPerChar || (255 & buffer2 << 8 - bits) !== 0) {
    throw new SyntaxError("Unexpected end of data");
  }
  return out;
}
function encode(data, alphabet2, bitsPerChar) {
  const pad = alphabet2[alphabet2.length - 1] === "=";
  const mask = (1 << bitsPerChar) - 1;
  let out = "";
  let bits = 0;
  let buffer2 = 0;
  for (let i = 0; i < data.length; ++i) {
    buffer2 = buffer2 << 8 | data[i];
    bits += 8;
    while (bits > bitsPerChar) {
      bits -= bitsPerChar;
      out += alphabet2[mask & buffer2 >> bits];
    }
  }
  if (bits !== 0) {
    out += alphabet2[mask & buffer2 << bitsPerChar - bits];
  }
  if (pad) {
    while ((out.length * bitsPerChar & 7) !== 0) {
      out += "=";
    }
  }
  return out;
}
function createAlphabetIdx(alphabet2, caseInsensitive) {
  const alphabetIdx = {};
  for (let i = 0; i < alphabet2.length; ++i) {
    alphabetIdx[alphabet2[i]] = i;
    if (caseInsensitive) {
      const lower = alphabet2[i].toLowerCase();
      const upper = alphabet2[i].toUpperCase();
      if (lower !== alphabet2[i]) {
        alphabetIdx[lower] = i;
      }
      if (upper !== alphabet2[i]) {
        alphabetIdx[upper] = i;
      }
    }
  }
  return alphabetIdx;
}
function rfc4648({ name: name4, prefix, bitsPerChar, alphabet: alphabet2, caseInsensitive = false }) {
  const alphabetIdx = createAlphabetIdx(alphabet2, caseInsensitive);
  return from({
    prefix,
    name: name4,
    encode(input) {
      return encode(input, alphabet2, bitsPerChar);
    },
    decode(input) {
      return decode(input, alphabetIdx, bitsPerChar, name4);
    }
  });
}

// node_modules/multiformats/dist/src/bases/base32.js
var base32 = rfc4648({
  prefix: "b",
  name: "base32",
  alphabet: "abcdefghijklmnopqrstuvwxyz234567",
  bitsPerChar: 5,
  caseInsensitive: true
});
var base32upper = rfc4648({
  prefix: "B",
  name: "base32upper",
  alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
  bitsPerChar: 5,
  caseInsensitive: true
});
var base32pad = rfc4648({
  prefix: "c",
  name: "base32pad",
  alphabet: "abcdefghijklmnopqrstuvwxyz234567=",
  bitsPerChar: 5,
  caseInsensitive: true
});
var base32padupper = rfc4648({
  prefix: "C",
  name: "base32padupper",
  alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567=",
  bitsPerChar: 5,
  caseInsensitive: true
});
var base32hex = rfc4648({
  prefix: "v",
  name: "base32hex",
  alphabet: "0123456789abcdefghijklmnopqrstuv",
  bitsPerChar: 5,
  caseInsensitive: true
});
var base32hexupper = rfc4648({
  prefix: "V",
  name: "base32hexupper",
  alphabet: "0123456789ABCDEFGHIJKLMNOPQRSTUV",
  bitsPerChar: 5,
  caseInsensitive: true
});
var base32hexpad = rfc4648({
  prefix: "t",
  name: "base32hexpad",
  alphabet: "0123456789abcdefghijklmnopqrstuv=",
  bitsPerChar: 5,
  caseInsensitive: true
});
var base32hexpadupper = rfc4648({
  prefix: "T",
  name: "base32hexpadupper",
  alphabet: "0123456789ABCDEFGHIJKLMNOPQRSTUV=",
  bitsPerChar: 5,
  caseInsensitive: true
});
var base32z = rfc4648({
  prefix: "h",
  name: "base32z",
  alphabet: "ybndrfg8ejkmcpqxot1uwisza345h769",
  bitsPerChar: 5
});

// node_modules/multiformats/dist/src/bases/base36.js
var base36_exports = {};
__export(base36_exports, {
  base36: () => base36,
  base36upper: () => base36upper
});
var base36 = baseX({
  prefix: "k",
  name: "base36",
  alphabet: "0123456789abcdefghijklmnopqrstuvwxyz",
  caseInsensitive: true
});
var base36upper = baseX({
  prefix: "K",
  name: "base36upper",
  alphabet: "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
  caseInsensitive: true
});

// node_modules/multiformats/dist/src/bases/base58.js
var base58_exports = {};
__export(base58_exports, {
  base58btc: () => base58btc,
  base58flickr: () => base58flickr
});
var base58btc = baseX({
  name: "base58btc",
  prefix: "z",
  alphabet: "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
});
var base58flickr = baseX({
  name: "base58flickr",
  prefix: "Z",
  alphabet: "123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
});

// node_modules/multiformats/dist/src/varint.js
var varint_exports = {};
__export(varint_exports, {
  decode: () => decode3,
  encodeTo: () => encodeTo,
  encodingLength: () => encodingLength
});

// node_modules/multiformats/dist/src/vendor/varint.js
var encode_1 = encode2;
var MSB = 128;
var REST = 127;
var MSBALL = ~REST;
var INT = Math.pow(2, 31);
function encode2(num, out, offset) {
  out = out || [];
  offset = offset || 0;
  var oldOffset = offset;
  while (num >= INT) {
    out[offset++] = num & 255 | MSB;
    num /= 128;
  }
  while (num & MSBALL) {
    out[offset++] = num & 255 | MSB;
    num >>>= 7;
  }
  out[offset] = num | 0;
  encode2.bytes = offset - oldOffset + 1;
  return out;
}
var decode2 = read;
var MSB$1 = 128;
var REST$1 = 127;
function read(buf, offset) {
  var res = 0, offset = offset || 0, shift = 0, counter = offset, b, l = buf.length;
  do {
    if (counter >= l) {
      read.bytes = 0;
      throw new RangeError("Could not decode varint");
    }
    b = buf[counter++];
    res += shift < 28 ? (b & REST$1) << shift : (b & REST$1) * Math.pow(2, shift);
    shift += 7;
  } while (b >= MSB$1);
  read.bytes = counter - offset;
  return res;
}
var N1 = Math.pow(2, 7);
var N2 = Math.pow(2, 14);
var N3 = Math.pow(2, 21);
var N4 = Math.pow(2, 28);
var N5 = Math.pow(2, 35);
var N6 = Math.pow(2, 42);
var N7 = Math.pow(2, 49);
var N8 = Math.pow(2, 56);
var N9 = Math.pow(2, 63);
var length = function(value) {
  return value < N1 ? 1 : value < N2 ? 2 : value < N3 ? 3 : value < N4 ? 4 : value < N5 ? 5 : value < N6 ? 6 : value < N7 ? 7 : value < N8 ? 8 : value < N9 ? 9 : 10;
};
var varint = {
  encode: encode_1,
  decode: decode2,
  encodingLength: length
};
var _brrp_varint = varint;
var varint_default = _brrp_varint;

// node_modules/multiformats/dist/src/varint.js
function decode3(data, offset = 0) {
  const code5 = varint_default.decode(data, offset);
  const length3 = varint_default.decode.bytes;
  if (length3 > 9) {
    throw new RangeError("Invalid varint: too long");
  }
  if (length3 > 1 && data[offset + length3 - 1] === 0) {
    throw new RangeError("Invalid varint: not minimally encoded");
  }
  return [code5, length3];
}
function encodeTo(int, target, offset = 0) {
  varint_default.encode(int, target, offset);
  return target;
}
function encodingLength(int) {
  return varint_default.encodingLength(int);
}

// node_modules/multiformats/dist/src/hashes/digest.js
function create(code5, digest2) {
  const size = digest2.byteLength;
  const sizeOffset = encodingLength(code5);
  const digestOffset = sizeOffset + encodingLength(size);
  const bytes = new Uint8Array(digestOffset + size);
  encodeTo(code5, bytes, 0);
  encodeTo(size, bytes, sizeOffset);
  bytes.set(digest2, digestOffset);
  return new Digest(code5, size, digest2, bytes);
}
function decode4(multihash) {
  const bytes = coerce(multihash);
  const [code5, sizeOffset] = decode3(bytes);
  const [size, digestOffset] = decode3(bytes.subarray(sizeOffset));
  const digest2 = bytes.subarray(sizeOffset + digestOffset);
  if (digest2.byteLength !== size) {
    throw new Error("Incorrect length");
  }
  return new Digest(code5, size, digest2, bytes);
}
function equals2(a, b) {
  if (a === b) {
    return true;
  } else {
    const data = b;
    return a.code === data.code && a.size === data.size && data.bytes instanceof Uint8Array && equals(a.bytes, data.bytes);
  }
}
var Digest = class {
  code;
  size;
  digest;
  bytes;
  /**
   * Creates a multihash digest.
   */
  constructor(code5, size, digest2, bytes) {
    this.code = code5;
    this.size = size;
    this.digest = toArrayBufferBackedArray(digest2);
    this.bytes = toArrayBufferBackedArray(bytes);
  }
};

// node_modules/multiformats/dist/src/cid.js
function format(link, base3) {
  const { bytes, version: version2 } = link;
  switch (version2) {
    case 0:
      return toStringV0(bytes, baseCache(link), base3 ?? base58btc.encoder);
    default:
      return toStringV1(bytes, baseCache(link), base3 ?? base32.encoder);
  }
}
var cache = /* @__PURE__ */ new WeakMap();
function baseCache(cid2) {
  const baseCache2 = cache.get(cid2);
  if (baseCache2 == null) {
    const baseCache3 = /* @__PURE__ */ new Map();
    cache.set(cid2, baseCache3);
    return baseCache3;
  }
  return baseCache2;
}
var CID = class _CID {
  code;
  version;
  multihash;
  bytes;
  "/";
  /**
   * @param version - Version of the CID
   * @param code - Code of the codec content is encoded in, see https://github.com/multiformats/multicodec/blob/master/table.csv
   * @param multihash - (Multi)hash of the of the content.
   */
  constructor(version2, code5, multihash, bytes) {
    this.code = code5;
    this.version = version2;
    this.multihash = multihash;
    this.bytes = toArrayBufferBackedArray(bytes);
    this["/"] = this.bytes;
  }
  /**
   * Signalling `cid.asCID === cid` has been replaced with `cid['/'] === cid.bytes`
   * please either use `CID.asCID(cid)` or switch to new signalling mechanism
   *
   * @deprecated
   */
  get asCID() {
    return this;
  }
  // ArrayBufferView
  get byteOffset() {
    return this.bytes.byteOffset;
  }
  // ArrayBufferView
  get byteLength() {
    return this.bytes.byteLength;
  }
  toV0() {
    switch (this.version) {
      case 0: {
        return this;
      }
      case 1: {
        const { code: code5, multihash } = this;
        if (code5 !== DAG_PB_CODE) {
          throw new Error("Cannot convert a non dag-pb CID to CIDv0");
        }
        if (multihash.code !== SHA_256_CODE) {
          throw new Error("Cannot convert non sha2-256 multihash CID to CIDv0");
        }
        return _CID.createV0(multihash);
      }
      default: {
        throw Error(`Can not convert CID version ${this.version} to version 0. This is a bug please report`);
      }
    }
  }
  toV1() {
    switch (this.version) {
      case 0: {
        const { code: code5, digest: digest2 } = this.multihash;
        const multihash = create(code5, digest2);
        return _CID.createV1(this.code, multihash);
      }
      case 1: {
        return this;
      }
      default: {
        throw Error(`Can not convert CID version ${this.version} to version 1. This is a bug please report`);
      }
    }
  }
  equals(other) {
    return _CID.equals(this, other);
  }
  static equals(self, other) {
    const unknown = other;
    return unknown != null && self.code === unknown.code && self.version === unknown.version && equals2(self.multihash, unknown.multihash);
  }
  toString(base3) {
    return format(this, base3);
  }
  toJSON() {
    return { "/": format(this) };
  }
  link() {
    return this;
  }
  [Symbol.toStringTag] = "CID";
  // Legacy
  [/* @__PURE__ */ Symbol.for("nodejs.util.inspect.custom")]() {
    return `CID(${this.toString()})`;
  }
  /**
   * Takes any input `value` and returns a `CID` instance if it was
   * a `CID` otherwise returns `null`. If `value` is instanceof `CID`
   * it will return value back. If `value` is not instance of this CID
   * class, but is compatible CID it will return new instance of this
   * `CID` class. Otherwise returns null.
   *
   * This allows two different incompatible versions of CID library to
   * co-exist and interop as long as binary interface is compatible.
   */
  static asCID(input) {
    if (input == null) {
      return null;
    }
    const value = input;
    if (value instanceof _CID) {
      return value;
    } else if (value["/"] != null && value["/"] === value.bytes || value.asCID === value) {
      const { version: version2, code: code5, multihash, bytes } = value;
      return new _CID(version2, code5, multihash, bytes ?? encodeCID(version2, code5, multihash.bytes));
    } else if (value[cidSymbol] === true) {
      const { version: version2, multihash, code: code5 } = value;
      const digest2 = decode4(multihash);
      return _CID.create(version2, code5, digest2);
    } else {
      return null;
    }
  }
  /**
   * @param version - Version of the CID
   * @param code - Code of the codec content is encoded in, see https://github.com/multiformats/multicodec/blob/master/table.csv
   * @param digest - (Multi)hash of the of the content.
   */
  static create(version2, code5, digest2) {
    if (typeof code5 !== "number") {
      throw new Error("String codecs are no longer supported");
    }
    if (!(digest2.bytes instanceof Uint8Array)) {
      throw new Error("Invalid digest");
    }
    switch (version2) {
      case 0: {
        if (code5 !== DAG_PB_CODE) {
          throw new Error(`Version 0 CID must use dag-pb (code: ${DAG_PB_CODE}) block encoding`);
        } else {
          return new _CID(version2, code5, digest2, digest2.bytes);
        }
      }
      case 1: {
        const bytes = encodeCID(version2, code5, digest2.bytes);
        return new _CID(version2, code5, digest2, bytes);
      }
      default: {
        throw new Error("Invalid version");
      }
    }
  }
  /**
   * Simplified version of `create` for CIDv0.
   */
  static createV0(digest2) {
    return _CID.create(0, DAG_PB_CODE, digest2);
  }
  /**
   * Simplified version of `create` for CIDv1.
   *
   * @param code - Content encoding format code.
   * @param digest - Multihash of the content.
   */
  static createV1(code5, digest2) {
    return _CID.create(1, code5, digest2);
  }
  /**
   * Decoded a CID from its binary representation. The byte array must contain
   * only the CID with no additional bytes.
   *
   * An error will be thrown if the bytes provided do not contain a valid
   * binary representation of a CID.
   */
  static decode(bytes) {
    const [cid2, remainder] = _CID.decodeFirst(bytes);
    if (remainder.length !== 0) {
      throw new Error("Incorrect length");
    }
    return cid2;
  }
  /**
   * Decoded a CID from its binary representation at the beginning of a byte
   * array.
   *
   * Returns an array with the first element containing the CID and the second
   * element containing the remainder of the original byte array. The remainder
   * will be a zero-length byte array if the provided bytes only contained a
   * binary CID representation.
   */
  static decodeFirst(bytes) {
    const specs = _CID.inspectBytes(bytes);
    const prefixSize = specs.size - specs.multihashSize;
    const multihashBytes = coerce(bytes.subarray(prefixSize, prefixSize + specs.multihashSize));
    if (multihashBytes.byteLength !== specs.multihashSize) {
      throw new Error("Incorrect length");
    }
    const digestBytes = multihashBytes.subarray(specs.multihashSize - specs.digestSize);
    const digest2 = new Digest(specs.multihashCode, specs.digestSize, digestBytes, multihashBytes);
    const cid2 = specs.version === 0 ? _CID.createV0(digest2) : _CID.createV1(specs.codec, digest2);
    return [cid2, bytes.subarray(specs.size)];
  }
  /**
   * Inspect the initial bytes of a CID to determine its properties.
   *
   * Involves decoding up to 4 varints. Typically this will require only 4 to 6
   * bytes but for larger multicodec code values and larger multihash digest
   * lengths these varints can be quite large. It is recommended that at least
   * 10 bytes be made available in the `initialBytes` argument for a complete
   * inspection.
   */
  static inspectBytes(initialBytes) {
    let offset = 0;
    const next = () => {
      const [i, length3] = decode3(initialBytes.subarray(offset));
      offset += length3;
      return i;
    };
    let version2 = next();
    let codec = DAG_PB_CODE;
    if (version2 === 18) {
      version2 = 0;
      offset = 0;
    } else {
      codec = next();
    }
    if (version2 !== 0 && version2 !== 1) {
      throw new RangeError(`Invalid CID version ${version2}`);
    }
    const prefixSize = offset;
    const multihashCode = next();
    const digestSize = next();
    const size = offset + digestSize;
    const multihashSize = size - prefixSize;
    return { version: version2, codec, multihashCode, digestSize, multihashSize, size };
  }
  /**
   * Takes cid in a string representation and creates an instance. If `base`
   * decoder is not provided will use a default from the configuration. It will
   * throw an error if encoding of the CID is not compatible with supplied (or
   * a default decoder).
   */
  static parse(source, base3) {
    const [prefix, bytes] = parseCIDtoBytes(source, base3);
    const cid2 = _CID.decode(bytes);
    if (cid2.version === 0 && source[0] !== "Q") {
      throw Error("Version 0 CID string must not include multibase prefix");
    }
    baseCache(cid2).set(prefix, source);
    return cid2;
  }
};
function parseCIDtoBytes(source, base3) {
  switch (source[0]) {
    // CIDv0 is parsed differently
    case "Q": {
      const decoder = base3 ?? base58btc;
      return [
        base58btc.prefix,
        decoder.decode(`${base58btc.prefix}${source}`)
      ];
    }
    case base58btc.prefix: {
      const decoder = base3 ?? base58btc;
      return [base58btc.prefix, decoder.decode(source)];
    }
    case base32.prefix: {
      const decoder = base3 ?? base32;
      return [base32.prefix, decoder.decode(source)];
    }
    case base36.prefix: {
      const decoder = base3 ?? base36;
      return [base36.prefix, decoder.decode(source)];
    }
    default: {
      if (base3 == null) {
        throw Error("To parse non base32, base36 or base58btc encoded CID multibase decoder must be provided");
      }
      return [source[0], base3.decode(source)];
    }
  }
}
function toStringV0(bytes, cache2, base3) {
  const { prefix } = base3;
  if (prefix !== base58btc.prefix) {
    throw Error(`Cannot string encode V0 in ${base3.name} encoding`);
  }
  const cid2 = cache2.get(prefix);
  if (cid2 == null) {
    const cid3 = base3.encode(bytes).slice(1);
    cache2.set(prefix, cid3);
    return cid3;
  } else {
    return cid2;
  }
}
function toStringV1(bytes, cache2, base3) {
  const { prefix } = base3;
  const cid2 = cache2.get(prefix);
  if (cid2 == null) {
    const cid3 = base3.encode(bytes);
    cache2.set(prefix, cid3);
    return cid3;
  } else {
    return cid2;
  }
}
var DAG_PB_CODE = 112;
var SHA_256_CODE = 18;
function encodeCID(version2, code5, multihash) {
  const codeOffset = encodingLength(version2);
  const hashOffset = codeOffset + encodingLength(code5);
  const bytes = new Uint8Array(hashOffset + multihash.byteLength);
  encodeTo(version2, bytes, 0);
  encodeTo(code5, bytes, codeOffset);
  bytes.set(multihash, hashOffset);
  return bytes;
}
var cidSymbol = /* @__PURE__ */ Symbol.for("@ipld/js-cid/CID");

// src/core/buffer-pool.ts
var BufferPool = class {
  /** `size`: bytes per buffer; `keep`: how many free buffers the pool holds on to. */
  constructor(size, keep) {
    this.size = size;
    this.keep = keep;
  }
  size;
  keep;
  free = [];
  /** A buffer of `size` bytes whose contents are undefined. */
  take() {
    return this.free.pop() ?? new Uint8Array(this.size);
  }
  /**
   * Hands a buffer back. Only whole buffers of this pool's size are kept; a
   * buffer given back must have no other reader (it may be the same memory
   * under a new view, e.g. after a round trip to a worker thread).
   */
  give(buffer2) {
    if (this.free.length >= this.keep) return;
    if (buffer2.byteOffset !== 0 || buffer2.byteLength !== this.size || buffer2.buffer.byteLength !== this.size) return;
    if (buffer2.buffer instanceof SharedArrayBuffer) return;
    this.free.push(buffer2);
  }
  /** Free buffers held now. */
  get held() {
    return this.free.length;
  }
};

// node_modules/multiformats/dist/src/bases/base64.js
var base64_exports = {};
__export(base64_exports, {
  base64: () => base64,
  base64pad: () => base64pad,
  base64url: () => base64url,
  base64urlpad: () => base64urlpad
});
var base64 = rfc4648({
  prefix: "m",
  name: "base64",
  alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
  bitsPerChar: 6
});
var base64pad = rfc4648({
  prefix: "M",
  name: "base64pad",
  alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=",
  bitsPerChar: 6
});
var base64url = rfc4648({
  prefix: "u",
  name: "base64url",
  alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
  bitsPerChar: 6
});
var base64urlpad = rfc4648({
  prefix: "U",
  name: "base64urlpad",
  alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=",
  bitsPerChar: 6
});

// src/core/blocks/key.ts
function blockKey(cid2) {
  return base64.baseEncode(cid2.multihash.bytes);
}

// src/core/blocks/cache.ts
var BLOCK_CACHE_BYTES = 64 * 1024 * 1024;
function dagPbOnly(cid2) {
  return cid2.code === DAG_PB;
}
var DAG_PB = 112;
var BlockCache = class {
  constructor(source, options = {}) {
    this.source = source;
    this.label = source.label;
    this.maxBytes = options.maxBytes ?? BLOCK_CACHE_BYTES;
    this.keep = options.keep ?? (() => true);
  }
  source;
  label;
  maxBytes;
  keep;
  blocks = /* @__PURE__ */ new Map();
  inflight = /* @__PURE__ */ new Map();
  held = 0;
  /** Blocks asked of the wrapped source. */
  fetches = 0;
  async get(cid2, options) {
    throwIfAborted(options?.signal);
    const key = blockKey(cid2);
    const kept = this.blocks.get(key);
    if (kept != null) {
      this.blocks.delete(key);
      this.blocks.set(key, kept);
      return kept;
    }
    const pending = this.inflight.get(key);
    if (pending != null) return await pending;
    const lent = options?.buffers != null;
    this.fetches++;
    const fetch = this.source.get(cid2, options);
    if (lent) return await fetch;
    this.inflight.set(key, fetch);
    try {
      const bytes = await fetch;
      this.add(key, cid2, bytes);
      return bytes;
    } finally {
      this.inflight.delete(key);
    }
  }
  /** Bytes of blocks held now. */
  get bytes() {
    return this.held;
  }
  add(key, cid2, bytes) {
    if (!this.keep(cid2) || bytes.byteLength > this.maxBytes || this.blocks.has(key)) return;
    this.blocks.set(key, bytes);
    this.held += bytes.byteLength;
    for (const [oldest, old] of this.blocks) {
      if (this.held <= this.maxBytes) break;
      this.blocks.delete(oldest);
      this.held -= old.byteLength;
    }
  }
};

// src/core/blocks/multi.ts
var FirstSource = class {
  label;
  sources;
  constructor(sources) {
    this.sources = [...sources];
    this.label = this.sources.map((source) => source.label).join(", ");
  }
  async get(cid2, options) {
    const failures = [];
    for (const source of this.sources) {
      throwIfAborted(options?.signal);
      try {
        return await source.get(cid2, options);
      } catch (err) {
        throwIfAborted(options?.signal);
        failures.push(err instanceof Error ? err : new Error(String(err)));
      }
    }
    const reasons = failures.map((err) => err.message).join("; ");
    throw new BlockNotFoundError(`Block ${cid2} not found in any source${reasons === "" ? "" : `: ${reasons}`}`, { cause: failures.length === 1 ? failures[0] : new AggregateError(failures) });
  }
};

// src/core/blocks/verify.ts
import { createHash } from "node:crypto";
var IDENTITY = 0;
var SHA2_256 = 18;
function verifyBlock(cid2, bytes) {
  const { code: code5, digest: digest2 } = cid2.multihash;
  let actual;
  if (code5 === SHA2_256) {
    actual = createHash("sha256").update(bytes).digest();
  } else if (code5 === IDENTITY) {
    actual = bytes;
  } else {
    throw new IpcrError("ERR_UNSUPPORTED_HASH", `Cannot verify block ${cid2}: unsupported multihash 0x${code5.toString(16)} (only sha2-256 and identity)`);
  }
  if (!equalBytes(actual, digest2)) {
    throw new DigestMismatchError(`Block bytes do not match CID ${cid2}`);
  }
}
function equalBytes(a, b) {
  return a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

// src/core/blocks/memory.ts
var MemoryBlockStore = class {
  label = "memory";
  blocks = /* @__PURE__ */ new Map();
  async put(cid2, bytes, options) {
    throwIfAborted(options?.signal);
    const key = blockKey(cid2);
    if (this.blocks.has(key)) return;
    verifyBlock(cid2, bytes);
    this.blocks.set(key, { cid: cid2, bytes });
  }
  async get(cid2, options) {
    throwIfAborted(options?.signal);
    const block = this.blocks.get(blockKey(cid2));
    if (block == null) throw new BlockNotFoundError(`Block ${cid2} not found in ${this.label}`);
    return block.bytes;
  }
  async has(cid2) {
    return this.blocks.has(blockKey(cid2));
  }
  get size() {
    return this.blocks.size;
  }
  /** Every stored block, in insertion order. */
  *entries() {
    yield* this.blocks.values();
  }
};

// src/core/car/writer.ts
import { randomBytes } from "node:crypto";
import { open, rename, stat } from "node:fs/promises";

// node_modules/@ipld/dag-pb/src/index.js
var src_exports = {};
__export(src_exports, {
  code: () => code,
  createLink: () => createLink,
  createNode: () => createNode,
  decode: () => decode5,
  encode: () => encode3,
  name: () => name,
  prepare: () => prepare,
  validate: () => validate
});

// node_modules/@ipld/dag-pb/src/pb-decode.js
var textDecoder = new TextDecoder();
function decodeVarint(bytes, offset) {
  let v = 0;
  for (let shift = 0; ; shift += 7) {
    if (shift >= 64) {
      throw new Error("protobuf: varint overflow");
    }
    if (offset >= bytes.length) {
      throw new Error("protobuf: unexpected end of data");
    }
    const b = bytes[offset++];
    v += shift < 28 ? (b & 127) << shift : (b & 127) * 2 ** shift;
    if (b < 128) {
      break;
    }
  }
  return [v, offset];
}
function decodeBytes(bytes, offset) {
  let byteLen;
  [byteLen, offset] = decodeVarint(bytes, offset);
  const postOffset = offset + byteLen;
  if (byteLen < 0 || postOffset < 0) {
    throw new Error("protobuf: invalid length");
  }
  if (postOffset > bytes.length) {
    throw new Error("protobuf: unexpected end of data");
  }
  return [bytes.subarray(offset, postOffset), postOffset];
}
function decodeKey(bytes, index) {
  let wire;
  [wire, index] = decodeVarint(bytes, index);
  return [wire & 7, wire >> 3, index];
}
function decodeLink(bytes) {
  const link = {};
  const l = bytes.length;
  let index = 0;
  while (index < l) {
    let wireType, fieldNum;
    [wireType, fieldNum, index] = decodeKey(bytes, index);
    if (fieldNum === 1) {
      if (link.Hash) {
        throw new Error("protobuf: (PBLink) duplicate Hash section");
      }
      if (wireType !== 2) {
        throw new Error(`protobuf: (PBLink) wrong wireType (${wireType}) for Hash`);
      }
      if (link.Name !== void 0) {
        throw new Error("protobuf: (PBLink) invalid order, found Name before Hash");
      }
      if (link.Tsize !== void 0) {
        throw new Error("protobuf: (PBLink) invalid order, found Tsize before Hash");
      }
      [link.Hash, index] = decodeBytes(bytes, index);
    } else if (fieldNum === 2) {
      if (link.Name !== void 0) {
        throw new Error("protobuf: (PBLink) duplicate Name section");
      }
      if (wireType !== 2) {
        throw new Error(`protobuf: (PBLink) wrong wireType (${wireType}) for Name`);
      }
      if (link.Tsize !== void 0) {
        throw new Error("protobuf: (PBLink) invalid order, found Tsize before Name");
      }
      let byts;
      [byts, index] = decodeBytes(bytes, index);
      link.Name = textDecoder.decode(byts);
    } else if (fieldNum === 3) {
      if (link.Tsize !== void 0) {
        throw new Error("protobuf: (PBLink) duplicate Tsize section");
      }
      if (wireType !== 0) {
        throw new Error(`protobuf: (PBLink) wrong wireType (${wireType}) for Tsize`);
      }
      [link.Tsize, index] = decodeVarint(bytes, index);
    } else {
      throw new Error(`protobuf: (PBLink) invalid fieldNumber, expected 1, 2 or 3, got ${fieldNum}`);
    }
  }
  if (index > l) {
    throw new Error("protobuf: (PBLink) unexpected end of data");
  }
  return link;
}
function decodeNode(bytes) {
  const l = bytes.length;
  let index = 0;
  let links = void 0;
  let linksBeforeData = false;
  let data = void 0;
  while (index < l) {
    let wireType, fieldNum;
    [wireType, fieldNum, index] = decodeKey(bytes, index);
    if (wireType !== 2) {
      throw new Error(`protobuf: (PBNode) invalid wireType, expected 2, got ${wireType}`);
    }
    if (fieldNum === 1) {
      if (data) {
        throw new Error("protobuf: (PBNode) duplicate Data section");
      }
      [data, index] = decodeBytes(bytes, index);
      if (links) {
        linksBeforeData = true;
      }
    } else if (fieldNum === 2) {
      if (linksBeforeData) {
        throw new Error("protobuf: (PBNode) duplicate Links section");
      } else if (!links) {
        links = [];
      }
      let byts;
      [byts, index] = decodeBytes(bytes, index);
      links.push(decodeLink(byts));
    } else {
      throw new Error(`protobuf: (PBNode) invalid fieldNumber, expected 1 or 2, got ${fieldNum}`);
    }
  }
  if (index > l) {
    throw new Error("protobuf: (PBNode) unexpected end of data");
  }
  const node = {};
  if (data) {
    node.Data = data;
  }
  node.Links = links || [];
  return node;
}

// node_modules/@ipld/dag-pb/src/pb-encode.js
var textEncoder = new TextEncoder();
var maxInt32 = 2 ** 32;
var maxUInt32 = 2 ** 31;
function encodeLink(link, bytes) {
  let i = bytes.length;
  if (typeof link.Tsize === "number") {
    if (link.Tsize < 0) {
      throw new Error("Tsize cannot be negative");
    }
    if (!Number.isSafeInteger(link.Tsize)) {
      throw new Error("Tsize too large for encoding");
    }
    i = encodeVarint(bytes, i, link.Tsize) - 1;
    bytes[i] = 24;
  }
  if (typeof link.Name === "string") {
    const nameBytes = textEncoder.encode(link.Name);
    i -= nameBytes.length;
    bytes.set(nameBytes, i);
    i = encodeVarint(bytes, i, nameBytes.length) - 1;
    bytes[i] = 18;
  }
  if (link.Hash) {
    i -= link.Hash.length;
    bytes.set(link.Hash, i);
    i = encodeVarint(bytes, i, link.Hash.length) - 1;
    bytes[i] = 10;
  }
  return bytes.length - i;
}
function encodeData(i, node, bytes) {
  i -= node.Data.length;
  bytes.set(node.Data, i);
  i = encodeVarint(bytes, i, node.Data.length) - 1;
  bytes[i] = 10;
  return i;
}
function encodeNode(node, options) {
  const size = sizeNode(node);
  const bytes = new Uint8Array(size);
  let i = size;
  const fieldOrder = options?.fieldOrder === "data-first" ? options.fieldOrder : "links-first";
  if (node.Data && fieldOrder === "links-first") {
    i = encodeData(i, node, bytes);
  }
  if (node.Links) {
    for (let index = node.Links.length - 1; index >= 0; index--) {
      const size2 = encodeLink(node.Links[index], bytes.subarray(0, i));
      i -= size2;
      i = encodeVarint(bytes, i, size2) - 1;
      bytes[i] = 18;
    }
  }
  if (node.Data && fieldOrder === "data-first") {
    i = encodeData(i, node, bytes);
  }
  return bytes;
}
function sizeLink(link) {
  let n = 0;
  if (link.Hash) {
    const l = link.Hash.length;
    n += 1 + l + sov(l);
  }
  if (typeof link.Name === "string") {
    const l = textEncoder.encode(link.Name).length;
    n += 1 + l + sov(l);
  }
  if (typeof link.Tsize === "number") {
    n += 1 + sov(link.Tsize);
  }
  return n;
}
function sizeNode(node) {
  let n = 0;
  if (node.Data) {
    const l = node.Data.length;
    n += 1 + l + sov(l);
  }
  if (node.Links) {
    for (const link of node.Links) {
      const l = sizeLink(link);
      n += 1 + l + sov(l);
    }
  }
  return n;
}
function encodeVarint(bytes, offset, v) {
  offset -= sov(v);
  const base3 = offset;
  while (v >= maxUInt32) {
    bytes[offset++] = v & 127 | 128;
    v /= 128;
  }
  while (v >= 128) {
    bytes[offset++] = v & 127 | 128;
    v >>>= 7;
  }
  bytes[offset] = v;
  return base3;
}
function sov(x) {
  if (x % 2 === 0) {
    x++;
  }
  return Math.floor((len64(x) + 6) / 7);
}
function len64(x) {
  let n = 0;
  if (x >= maxInt32) {
    x = Math.floor(x / maxInt32);
    n = 32;
  }
  if (x >= 1 << 16) {
    x >>>= 16;
    n += 16;
  }
  if (x >= 1 << 8) {
    x >>>= 8;
    n += 8;
  }
  return n + len8tab[x];
}
var len8tab = [
  0,
  1,
  2,
  2,
  3,
  3,
  3,
  3,
  4,
  4,
  4,
  4,
  4,
  4,
  4,
  4,
  5,
  5,
  5,
  5,
  5,
  5,
  5,
  5,
  5,
  5,
  5,
  5,
  5,
  5,
  5,
  5,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8
];

// node_modules/@ipld/dag-pb/src/util.js
var pbNodeProperties = ["Data", "Links"];
var pbLinkProperties = ["Hash", "Name", "Tsize"];
var textEncoder2 = new TextEncoder();
function linkComparator(a, b) {
  if (a === b) {
    return 0;
  }
  const abuf = a.Name ? textEncoder2.encode(a.Name) : [];
  const bbuf = b.Name ? textEncoder2.encode(b.Name) : [];
  let x = abuf.length;
  let y = bbuf.length;
  for (let i = 0, len = Math.min(x, y); i < len; ++i) {
    if (abuf[i] !== bbuf[i]) {
      x = abuf[i];
      y = bbuf[i];
      break;
    }
  }
  return x < y ? -1 : y < x ? 1 : 0;
}
function hasOnlyProperties(node, properties) {
  return !Object.keys(node).some((p) => !properties.includes(p));
}
function asLink(link) {
  if (typeof link.asCID === "object") {
    const Hash = CID.asCID(link);
    if (!Hash) {
      throw new TypeError("Invalid DAG-PB form");
    }
    return { Hash };
  }
  if (typeof link !== "object" || Array.isArray(link)) {
    throw new TypeError("Invalid DAG-PB form");
  }
  const pbl = {};
  if (link.Hash) {
    let cid2 = CID.asCID(link.Hash);
    try {
      if (!cid2) {
        if (typeof link.Hash === "string") {
          cid2 = CID.parse(link.Hash);
        } else if (link.Hash instanceof Uint8Array) {
          cid2 = CID.decode(link.Hash);
        }
      }
    } catch (e) {
      throw new TypeError(`Invalid DAG-PB form: ${e.message}`);
    }
    if (cid2) {
      pbl.Hash = cid2;
    }
  }
  if (!pbl.Hash) {
    throw new TypeError("Invalid DAG-PB form");
  }
  if (typeof link.Name === "string") {
    pbl.Name = link.Name;
  }
  if (typeof link.Tsize === "number") {
    pbl.Tsize = link.Tsize;
  }
  return pbl;
}
function prepare(node) {
  if (node instanceof Uint8Array || typeof node === "string") {
    node = { Data: node };
  }
  if (typeof node !== "object" || Array.isArray(node)) {
    throw new TypeError("Invalid DAG-PB form");
  }
  const pbn = {};
  if (node.Data !== void 0) {
    if (typeof node.Data === "string") {
      pbn.Data = textEncoder2.encode(node.Data);
    } else if (node.Data instanceof Uint8Array) {
      pbn.Data = node.Data;
    } else {
      throw new TypeError("Invalid DAG-PB form");
    }
  }
  if (node.Links !== void 0) {
    if (Array.isArray(node.Links)) {
      pbn.Links = node.Links.map(asLink);
      pbn.Links.sort(linkComparator);
    } else {
      throw new TypeError("Invalid DAG-PB form");
    }
  } else {
    pbn.Links = [];
  }
  return pbn;
}
function validate(node) {
  if (!node || typeof node !== "object" || Array.isArray(node) || node instanceof Uint8Array || node["/"] && node["/"] === node.bytes) {
    throw new TypeError("Invalid DAG-PB form");
  }
  if (!hasOnlyProperties(node, pbNodeProperties)) {
    throw new TypeError("Invalid DAG-PB form (extraneous properties)");
  }
  if (node.Data !== void 0 && !(node.Data instanceof Uint8Array)) {
    throw new TypeError("Invalid DAG-PB form (Data must be bytes)");
  }
  if (!Array.isArray(node.Links)) {
    throw new TypeError("Invalid DAG-PB form (Links must be a list)");
  }
  for (let i = 0; i < node.Links.length; i++) {
    const link = node.Links[i];
    if (!link || typeof link !== "object" || Array.isArray(link) || link instanceof Uint8Array || link["/"] && link["/"] === link.bytes) {
      throw new TypeError("Invalid DAG-PB form (bad link)");
    }
    if (!hasOnlyProperties(link, pbLinkProperties)) {
      throw new TypeError("Invalid DAG-PB form (extraneous properties on link)");
    }
    if (link.Hash === void 0) {
      throw new TypeError("Invalid DAG-PB form (link must have a Hash)");
    }
    if (link.Hash == null || !link.Hash["/"] || link.Hash["/"] !== link.Hash.bytes) {
      throw new TypeError("Invalid DAG-PB form (link Hash must be a CID)");
    }
    if (link.Name !== void 0 && typeof link.Name !== "string") {
      throw new TypeError("Invalid DAG-PB form (link Name must be a string)");
    }
    if (link.Tsize !== void 0) {
      if (typeof link.Tsize !== "number" || link.Tsize % 1 !== 0) {
        throw new TypeError("Invalid DAG-PB form (link Tsize must be an integer)");
      }
      if (link.Tsize < 0) {
        throw new TypeError("Invalid DAG-PB form (link Tsize cannot be negative)");
      }
    }
    if (i > 0 && linkComparator(link, node.Links[i - 1]) === -1) {
      throw new TypeError("Invalid DAG-PB form (links must be sorted by Name bytes)");
    }
  }
}
function createNode(data, links = []) {
  return prepare({ Data: data, Links: links });
}
function createLink(name4, size, cid2) {
  return asLink({ Hash: cid2, Name: name4, Tsize: size });
}
function toByteView(buf) {
  if (buf instanceof ArrayBuffer) {
    return new Uint8Array(buf, 0, buf.byteLength);
  }
  return buf;
}

// node_modules/@ipld/dag-pb/src/index.js
var name = "dag-pb";
var code = 112;
function encode3(node, options) {
  validate(node);
  const pbn = {};
  if (node.Links) {
    pbn.Links = node.Links.map((l) => {
      const link = {};
      if (l.Hash) {
        link.Hash = l.Hash.bytes;
      }
      if (l.Name !== void 0) {
        link.Name = l.Name;
      }
      if (l.Tsize !== void 0) {
        link.Tsize = l.Tsize;
      }
      return link;
    });
  }
  if (node.Data) {
    pbn.Data = node.Data;
  }
  return encodeNode(pbn, options);
}
function decode5(bytes) {
  const buf = toByteView(bytes);
  const pbn = decodeNode(buf);
  const node = {};
  if (pbn.Data) {
    node.Data = pbn.Data;
  }
  if (pbn.Links) {
    node.Links = pbn.Links.map((l) => {
      const link = {};
      try {
        link.Hash = CID.decode(l.Hash);
      } catch {
      }
      if (!link.Hash) {
        throw new Error("Invalid Hash field found in link, expected CID");
      }
      if (l.Name !== void 0) {
        link.Name = l.Name;
      }
      if (l.Tsize !== void 0) {
        link.Tsize = l.Tsize;
      }
      return link;
    });
  }
  return node;
}

// node_modules/multiformats/dist/src/hashes/hasher.js
var DEFAULT_MIN_DIGEST_LENGTH = 20;
function from2({ name: name4, code: code5, encode: encode8, minDigestLength, maxDigestLength }) {
  return new Hasher(name4, code5, encode8, minDigestLength, maxDigestLength);
}
var Hasher = class {
  name;
  code;
  encode;
  minDigestLength;
  maxDigestLength;
  constructor(name4, code5, encode8, minDigestLength, maxDigestLength) {
    this.name = name4;
    this.code = code5;
    this.encode = encode8;
    this.minDigestLength = minDigestLength ?? DEFAULT_MIN_DIGEST_LENGTH;
    this.maxDigestLength = maxDigestLength;
  }
  digest(input, options) {
    if (options?.truncate != null) {
      if (options.truncate < this.minDigestLength) {
        throw new Error(`Invalid truncate option, must be greater than or equal to ${this.minDigestLength}`);
      }
      if (this.maxDigestLength != null && options.truncate > this.maxDigestLength) {
        throw new Error(`Invalid truncate option, must be less than or equal to ${this.maxDigestLength}`);
      }
    }
    if (input instanceof Uint8Array) {
      const result = this.encode(input);
      if (result instanceof Uint8Array) {
        return createDigest(result, this.code, options?.truncate);
      }
      return result.then((digest2) => createDigest(digest2, this.code, options?.truncate));
    } else {
      throw Error("Unknown type, must be binary type");
    }
  }
};
function createDigest(digest2, code5, truncate) {
  if (truncate != null && truncate !== digest2.byteLength) {
    if (truncate > digest2.byteLength) {
      throw new Error(`Invalid truncate option, must be less than or equal to ${digest2.byteLength}`);
    }
    digest2 = digest2.subarray(0, truncate);
  }
  return create(code5, digest2);
}

// src/core/escape.ts
var CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
var NAMED = { "\n": "\\n", "\r": "\\r" };
function visible(c) {
  const code5 = c.charCodeAt(0);
  return NAMED[c] ?? (code5 <= 255 ? `\\x${code5.toString(16).padStart(2, "0")}` : `\\u${code5.toString(16).padStart(4, "0")}`);
}
function hasControl(text2) {
  CONTROL.lastIndex = 0;
  return CONTROL.test(text2);
}
function escapeControl(text2) {
  return text2.replace(CONTROL, visible);
}
function quote(value, max = 200) {
  const chars = [...value];
  const cut = chars.length > max ? `${chars.slice(0, max).join("")}\u2026` : value;
  return `'${escapeControl(cut)}'`;
}
function foldLine(text2) {
  return text2.replace(CONTROL, " ").replace(/\s+/g, " ").trim();
}
function cutText(text2, max) {
  const chars = [...text2];
  return chars.length > max ? `${chars.slice(0, max - 1).join("")}\u2026` : text2;
}
function plainLine(text2, max = 512) {
  const line = text2?.split(/[\n\r\v\f\u0085\u2028\u2029]/).map(foldLine).find((l) => l !== "");
  return line == null ? void 0 : cutText(line, max);
}

// src/core/car/header.ts
var ROOTS_KEY = [101, ...new TextEncoder().encode("roots")];
var VERSION_KEY = [103, ...new TextEncoder().encode("version")];
function encodeCarHeader(roots) {
  if (roots.length > 23) throw new RangeError("at most 23 CAR roots are supported");
  const body = [162, ...ROOTS_KEY, 128 + roots.length];
  for (const root of roots) {
    const length3 = root.bytes.length + 1;
    body.push(216, 42);
    if (length3 < 24) body.push(64 + length3);
    else if (length3 < 256) body.push(88, length3);
    else body.push(89, length3 >> 8, length3 & 255);
    body.push(0, ...root.bytes);
  }
  body.push(...VERSION_KEY, 1);
  const prefix = varint_exports.encodeTo(body.length, new Uint8Array(varint_exports.encodingLength(body.length)));
  const header = new Uint8Array(prefix.length + body.length);
  header.set(prefix, 0);
  header.set(body, prefix.length);
  return header;
}

// src/core/car/writer.ts
var PLACEHOLDER_ROOT = CID.createV1(code, create(18, new Uint8Array(32)));
var MAX_IOVECS = 1024;
var WRITE_BYTES = 1024 * 1024;
var COPY_CHUNK = 1024 * 1024;
var WRITE_BEHIND_BYTES = 16 * 1024 * 1024;
var CarFileWriter = class _CarFileWriter {
  constructor(path2, partialPath, file, headerLength, input) {
    this.input = input;
    this.path = path2;
    this.partialPath = partialPath;
    this.file = file;
    this.headerLength = headerLength;
    this.bytes = headerLength;
    this.written = headerLength;
  }
  input;
  path;
  partialPath;
  file;
  headerLength;
  seen = /* @__PURE__ */ new Set();
  blocks = 0;
  bytes;
  written;
  pending = null;
  /** Bytes accepted by put() whose write has not finished. */
  unwritten = 0;
  tail = Promise.resolve();
  failure = null;
  state = "open";
  /** `input` names the option that gave `path` in errors (default `car-path`). */
  static async create(path2, input = "car-path") {
    const partialPath = `${path2}.partial`;
    const isFolder = await stat(path2).then((s) => s.isDirectory(), () => false);
    if (isFolder) throw new InputError(input, `${quote(path2)} is a folder; give the path of a file to write, such as ${quote(`${path2.replace(/\/+$/, "")}/registry.car`)}`);
    registerTemporary(partialPath);
    let file;
    try {
      file = await open(partialPath, "w+");
    } catch (err) {
      releaseTemporary(partialPath);
      throw writeError(err, input, path2);
    }
    try {
      const header = encodeCarHeader([PLACEHOLDER_ROOT]);
      await writeFully(file, header, 0);
      return new _CarFileWriter(path2, partialPath, file, header.length, input);
    } catch (err) {
      await file.close().catch(() => {
      });
      await removeTemporary(partialPath);
      throw writeError(err, input, path2);
    }
  }
  /** Appends a block unless one with the same CID was already written. */
  async put(cid2, bytes, options) {
    this.assertOpen();
    throwIfAborted(options?.signal);
    const key = cid2.toString();
    if (this.seen.has(key)) {
      options?.onWritten?.();
      return;
    }
    this.seen.add(key);
    const sectionLength = cid2.bytes.length + bytes.length;
    const prefix = varint_exports.encodeTo(sectionLength, new Uint8Array(varint_exports.encodingLength(sectionLength)));
    this.blocks++;
    this.bytes += prefix.length + sectionLength;
    const size = prefix.length + sectionLength;
    this.unwritten += size;
    const done = this.enqueue(bytes.length === 0 ? [prefix, cid2.bytes] : [prefix, cid2.bytes, bytes]).finally(() => {
      this.unwritten -= size;
    });
    const onWritten = options?.onWritten;
    done.then(onWritten, () => {
    });
    if (this.unwritten > WRITE_BEHIND_BYTES) await done;
  }
  has(cid2) {
    return this.seen.has(cid2.toString());
  }
  get blockCount() {
    return this.blocks;
  }
  /** Bytes of the CAR so far, header included. */
  get byteCount() {
    return this.bytes;
  }
  /** Writes the real header and moves the file to `path`. */
  async close(root) {
    this.assertOpen();
    this.state = "closed";
    try {
      await this.tail;
      if (this.failure != null) throw this.failure;
      const header = encodeCarHeader([root]);
      if (header.length === this.headerLength) {
        await writeFully(this.file, header, 0);
        await this.file.close();
        await rename(this.partialPath, this.path);
        releaseTemporary(this.partialPath);
      } else {
        await this.file.close();
        await this.rewriteWithHeader(header);
      }
      return { path: this.path, blocks: this.blocks, bytes: this.bytes - this.headerLength + header.length };
    } catch (err) {
      await this.file.close().catch(() => {
      });
      await removeTemporary(this.partialPath);
      throw writeError(err, this.input, this.path);
    }
  }
  /** Stops writing and deletes the partial file. Safe to call more than once. */
  async abort() {
    if (this.state !== "open") return;
    this.state = "aborted";
    await this.tail;
    await this.file.close().catch(() => {
    });
    await removeTemporary(this.partialPath);
  }
  assertOpen() {
    if (this.state !== "open") throw new IpcrError("ERR_CAR_CLOSED", `CAR writer for ${this.path} is ${this.state}`);
    if (this.failure != null) throw this.failure;
  }
  /** Adds chunks to the next write; resolves when that write is done. */
  async enqueue(chunks) {
    if (this.pending == null) {
      const batch2 = { chunks: [], done: Promise.resolve() };
      batch2.done = this.tail.then(async () => {
        if (this.pending === batch2) this.pending = null;
        if (this.failure != null) throw this.failure;
        const length3 = batch2.chunks.reduce((sum, chunk) => sum + chunk.length, 0);
        const position = this.written;
        this.written += length3;
        try {
          await writeChunks(this.file, batch2.chunks, position);
        } catch (err) {
          this.failure ??= writeError(err, this.input, this.path);
          throw err;
        }
      });
      this.tail = batch2.done.catch(() => {
      });
      this.pending = batch2;
    }
    for (const chunk of chunks) this.pending.chunks.push(chunk);
    await this.pending.done;
  }
  /** For a root whose CID length differs from the placeholder's: copies the blocks behind a new header. */
  async rewriteWithHeader(header) {
    const temp = `${this.path}.${randomBytes(6).toString("hex")}.partial`;
    registerTemporary(temp);
    const input = await open(this.partialPath, "r");
    let output;
    try {
      output = await open(temp, "w");
      await writeFully(output, header, 0);
      const buffer2 = new Uint8Array(COPY_CHUNK);
      let from3 = this.headerLength;
      let to = header.length;
      for (; ; ) {
        const { bytesRead } = await input.read(buffer2, 0, buffer2.length, from3);
        if (bytesRead === 0) break;
        await writeFully(output, buffer2.subarray(0, bytesRead), to);
        from3 += bytesRead;
        to += bytesRead;
      }
      await output.close();
      await input.close();
      await rename(temp, this.path);
      releaseTemporary(temp);
      await removeTemporary(this.partialPath);
    } catch (err) {
      await output?.close().catch(() => {
      });
      await input.close().catch(() => {
      });
      await removeTemporary(temp);
      throw err;
    }
  }
};
async function writeFully(file, bytes, position) {
  await writeChunks(file, [bytes], position);
}
async function writeChunks(file, chunks, position) {
  let queue = chunks.filter((chunk) => chunk.length > 0);
  while (queue.length > 0) {
    let count = 0;
    let bytes = 0;
    while (count < queue.length && count < MAX_IOVECS && bytes < WRITE_BYTES) bytes += queue[count++].length;
    const { bytesWritten } = await file.writev(queue.slice(0, count), position);
    position += bytesWritten;
    let skip = bytesWritten;
    let used = 0;
    while (used < queue.length && skip >= queue[used].length) {
      skip -= queue[used].length;
      used++;
    }
    queue = queue.slice(used);
    if (skip > 0) queue[0] = queue[0].subarray(skip);
    if (bytesWritten === 0 && queue.length > 0) throw new IpcrError("ERR_WRITE", "short write: no progress");
  }
}
var PATH_PROBLEMS = {
  ENOENT: "its folder does not exist",
  ENOTDIR: "a part of it is not a folder",
  EISDIR: "it is a folder; give the path of a file to write",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "the file system is read-only"
};
function writeError(err, input, path2) {
  const code5 = err?.code;
  if (err instanceof IpcrError || typeof code5 !== "string") return err;
  const problem2 = PATH_PROBLEMS[code5];
  if (problem2 != null) return new InputError(input, `cannot write the CAR to ${quote(path2)}: ${problem2} (${code5})`, { cause: err });
  return new IpcrError("ERR_WRITE", `Cannot write the CAR to ${quote(path2)} (${input}): ${err.message.replace(`${path2}.partial`, path2)}`, { cause: err });
}

// src/core/digest.ts
function checkDigest(hex, size, expected) {
  if (!expected.digest.startsWith("sha256:")) {
    throw new DigestMismatchError(`${expected.label}: unsupported digest algorithm in '${expected.digest}' (expected sha256)`);
  }
  const actual = `sha256:${hex}`;
  if (actual !== expected.digest) {
    throw new DigestMismatchError(`${expected.label}: content hashes to ${actual}, expected ${expected.digest}`);
  }
  if (expected.size != null && size !== expected.size) {
    throw new DigestMismatchError(`${expected.label}: ${size} bytes, expected ${expected.size}`);
  }
}

// src/core/hash-worker.ts
import { Worker } from "node:worker_threads";
var workerSource = `
const { parentPort } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const blobs = new Map()
parentPort.on('message', (m) => {
  let blob = blobs.get(m.id)
  if (blob == null) { blob = createHash('sha256'); blobs.set(m.id, blob) }
  if (m.chunk != null) {
    blob.update(m.chunk)
    const leaf = createHash('sha256').update(m.chunk).digest()
    // A transferred chunk goes back the same way: no copy in either direction.
    parentPort.postMessage({ id: m.id, leaf, chunk: m.transferred ? m.chunk : undefined }, m.transferred ? [m.chunk.buffer] : [])
    return
  }
  blobs.delete(m.id)
  if (m.digest === true) parentPort.postMessage({ id: m.id, hex: blob.digest('hex') })
})`;
var worker;
var nextId = 0;
var open2 = 0;
var sessions = /* @__PURE__ */ new Map();
function getWorker() {
  if (worker == null) {
    const w = new Worker(workerSource, { eval: true });
    w.unref();
    w.on("message", (m) => sessions.get(m.id)?.(m));
    w.on("error", (err) => {
      worker = void 0;
      for (const [id, handler] of sessions) handler({ id, error: err.message });
    });
    worker = w;
  }
  return worker;
}
var BlobHasher = class {
  /**
   * `moveChunks`: the caller keeps no reference to the chunks, so whole-buffer chunks may be moved, not copied.
   * `signal`: aborting it fails the pending hashes at once; the worker is stopped when no other blob uses it.
   */
  constructor(moveChunks = false, signal) {
    this.moveChunks = moveChunks;
    this.signal = signal;
    throwIfAborted(signal);
    if (open2++ === 0) this.worker.ref();
    signal?.addEventListener("abort", this.onAbort, { once: true });
    sessions.set(this.id, (reply) => {
      if (reply.error != null) {
        this.fail(new Error(`hash worker failed: ${reply.error}`));
      } else if (reply.leaf != null) {
        this.leaves.shift()?.resolve(reply);
      } else if (reply.hex != null) {
        this.result?.resolve(reply.hex);
      }
    });
  }
  moveChunks;
  signal;
  id = nextId++;
  worker = getWorker();
  leaves = [];
  result;
  closed = false;
  onAbort = () => {
    this.fail(this.signal?.reason);
  };
  /**
   * The chunk's sha256; also feeds the blob digest, so call it in blob order.
   * With `moveChunks`, a chunk that owns its whole ArrayBuffer is moved to the
   * worker and back instead of copied: use the returned `bytes`, as `chunk`
   * is then detached.
   */
  hashChunk = async (chunk) => {
    throwIfAborted(this.signal);
    const reply = new Promise((resolve2, reject) => {
      this.leaves.push({ resolve: resolve2, reject });
    });
    const movable = this.moveChunks && chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.byteLength > 0 && !(chunk.buffer instanceof SharedArrayBuffer);
    this.worker.postMessage({ id: this.id, chunk, transferred: movable }, movable ? [chunk.buffer] : []);
    const { leaf: leaf2, chunk: back } = await reply;
    return { digest: leaf2, bytes: back ?? chunk };
  };
  /** Hex sha256 of every chunk hashed, in order. */
  async digest() {
    throwIfAborted(this.signal);
    const hex = new Promise((resolve2, reject) => {
      this.result = { resolve: resolve2, reject };
    });
    this.worker.postMessage({ id: this.id, digest: true });
    return await hex;
  }
  /** Frees the session; the process may exit once no session is open. */
  close() {
    if (this.closed) return;
    this.closed = true;
    this.signal?.removeEventListener("abort", this.onAbort);
    sessions.delete(this.id);
    if (--open2 > 0) {
      if (this.result == null) this.worker.postMessage({ id: this.id });
    } else if (this.signal?.aborted === true && worker === this.worker) {
      worker = void 0;
      void this.worker.terminate();
    } else {
      if (this.result == null) this.worker.postMessage({ id: this.id });
      this.worker.unref();
    }
  }
  fail(err) {
    const error = err instanceof Error ? err : new Error(String(err));
    for (const leaf2 of this.leaves.splice(0)) leaf2.reject(error);
    this.result?.reject(error);
  }
};

// src/core/image/archive.ts
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, open as open4, readdir, realpath, stat as stat2 } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

// src/core/json.ts
function checkJsonShape(bytes, limits) {
  let depth = 0;
  let values = 1;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === 92) i++;
      else if (b === 34) inString = false;
      continue;
    }
    if (b === 34) {
      inString = true;
    } else if (b === 123 || b === 91) {
      if (++depth > limits.depth) return `is nested deeper than ${limits.depth} levels`;
      if (++values > limits.values) return `has more than ${limits.values} values`;
    } else if (b === 125 || b === 93) {
      depth--;
    } else if (b === 44) {
      if (++values > limits.values) return `has more than ${limits.values} values`;
    }
  }
  return void 0;
}
function describeValue(value) {
  if (value === void 0) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") return quote(value, 64);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return Array.isArray(value) ? "an array" : "an object";
}

// src/core/progress.ts
function formatBytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
var PROGRESS_INTERVAL_MS = 1e3;
var Progress = class {
  /** `total` undefined: the size is not known in advance (the line shows bytes so far). */
  constructor(logger, label, total, intervalMs = PROGRESS_INTERVAL_MS) {
    this.logger = logger;
    this.label = label;
    this.total = total;
    this.intervalMs = intervalMs;
    this.lastReport = this.started;
  }
  logger;
  label;
  total;
  intervalMs;
  done = 0;
  lastReport = 0;
  started = Date.now();
  add(bytes) {
    this.set(this.done + bytes);
  }
  /** Sets the bytes done so far, e.g. from the size of a file another process writes. */
  set(done) {
    this.done = done;
    const now = Date.now();
    if (now - this.lastReport >= this.intervalMs) {
      this.lastReport = now;
      this.logger.info(this.line(now));
    }
  }
  /** Sets the bytes done so far and prints the line now (for a caller that polls on its own timer). */
  report(done) {
    this.done = done;
    this.lastReport = Date.now();
    this.logger.info(this.line(this.lastReport));
  }
  finish() {
    this.logger.info(this.line(Date.now()));
  }
  line(now) {
    const seconds = Math.max((now - this.started) / 1e3, 1e-3);
    const rate = (this.done / 1e6 / seconds).toFixed(1);
    if (this.total == null || this.done > this.total) return `${this.label}: ${formatBytes(this.done)}, ${rate} MB/s, ${Math.round(seconds)} s`;
    const pct = this.total > 0 ? ` (${Math.floor(this.done / this.total * 100)}%)` : "";
    return `${this.label}: ${formatBytes(this.done)} of ${formatBytes(this.total)}${pct}, ${rate} MB/s`;
  }
};

// src/core/image/compression.ts
import { Transform } from "node:stream";
import * as zlib from "node:zlib";
var MAGIC_BYTES = 6;
function detectCompression(head) {
  const at = (i) => head[i] ?? -1;
  if (at(0) === 31 && at(1) === 139) return "gzip";
  if (at(0) === 40 && at(1) === 181 && at(2) === 47 && at(3) === 253) return "zstd";
  if (at(0) === 253 && at(1) === 55 && at(2) === 122 && at(3) === 88 && at(4) === 90 && at(5) === 0) return "xz";
  if (at(0) === 66 && at(1) === 90 && at(2) === 104) return "bzip2";
  return "none";
}
function createDecompressor(compression) {
  if (compression === "gzip") return zlib.createGunzip();
  const createZstd = zlib.createZstdDecompress;
  return createZstd?.();
}
var DecompressionLimitError = class extends Error {
  constructor(limit) {
    super(`decompresses to more than ${limit} bytes`);
    this.limit = limit;
  }
  limit;
};
var NotTarError = class extends Error {
};
var DecompressionLimit = class extends Transform {
  constructor(limit, firstBlock) {
    super();
    this.limit = limit;
    this.firstBlock = firstBlock;
    if (firstBlock != null) this.head = Buffer.alloc(0);
  }
  limit;
  firstBlock;
  bytes = 0;
  head;
  _transform(chunk, _encoding, callback) {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      callback(new DecompressionLimitError(this.limit));
      return;
    }
    if (this.head == null) {
      callback(null, chunk);
      return;
    }
    this.head = Buffer.concat([this.head, chunk]);
    if (this.head.length < TAR_BLOCK) {
      callback();
      return;
    }
    const head = this.head;
    this.head = void 0;
    if (this.firstBlock?.(head.subarray(0, TAR_BLOCK)) !== true) {
      callback(new NotTarError("the decompressed data does not start with a tar header"));
      return;
    }
    callback(null, head);
  }
  _flush(callback) {
    callback(null, this.head != null && this.head.length > 0 ? this.head : void 0);
  }
};
var TAR_BLOCK = 512;

// src/core/image/image-errors.ts
function formatError(input, message2, options) {
  const [text2, named] = inputMessage(input, message2);
  return new ImageFormatError(text2, { ...options, ...named });
}
function mismatchError(input, message2) {
  const [text2, named] = inputMessage(input, message2);
  return new DigestMismatchError(text2, named);
}

// src/core/image/limits.ts
var DECOMPRESSION_RATIO = 20;
var DECOMPRESSION_FLOOR = 1024 ** 3;
function defaultDecompressedLimit(compressedSize) {
  return Math.max(DECOMPRESSION_FLOOR, DECOMPRESSION_RATIO * compressedSize);
}
var IMAGE_LIMITS = {
  /** Entries of one index (index.json or a nested index) or of manifest.json. */
  entries: 1e4,
  /** Layers of one image. */
  layers: 1e4,
  /** Manifests and indexes visited in all. */
  manifests: 1e4,
  /** RepoTags of one manifest.json entry, and names in all. */
  repoTags: 1e4,
  /** Bytes of manifests, indexes and configs read in all. */
  jsonBytes: 128 * 1024 * 1024,
  /** Nesting of one JSON file: OCI documents need 5 or 6; deeper input could overflow a recursive walk. */
  jsonDepth: 32,
  /** Values of one JSON file ('{', '[' and ',' outside strings). */
  jsonValues: 4e6
};

// src/core/image/tar-index.ts
import { open as open3 } from "node:fs/promises";
import { posix } from "node:path";
var TarError = class extends Error {
  notTar;
  constructor(message2, notTar = false) {
    super(message2);
    this.notTar = notTar;
  }
};
var BLOCK = 512;
var WINDOW = 64 * 1024;
var MAX_WINDOW = 1024 * 1024;
var TAR_LIMITS = {
  /** Metadata headers (pax, GNU long names) in a row before an entry. */
  metaHeaders: 16,
  /** Their bytes in total, per entry. */
  metaBytes: 1024 * 1024,
  /** Files and links kept. An image archive holds a few per blob. */
  entries: 1e5,
  /** Bytes of one path or link target (Linux PATH_MAX). */
  pathBytes: 4096
};
var PAX_KEYS = ["path", "linkpath", "size"];
async function indexTar(path2, options = {}) {
  const handle = await open3(path2, "r");
  try {
    return await indexHandle(new WindowReader(handle, (await handle.stat()).size), options);
  } finally {
    await handle.close();
  }
}
var WindowReader = class {
  constructor(handle, size) {
    this.handle = handle;
    this.size = size;
  }
  handle;
  size;
  buffer = Buffer.allocUnsafe(WINDOW);
  window = Buffer.alloc(0);
  start = 0;
  next = WINDOW;
  /** `length` bytes at `position`, or fewer at the end of the file; valid until the next call. */
  async read(position, length3) {
    const end = this.start + this.window.length;
    if (position >= this.start && position + length3 <= end) {
      return this.window.subarray(position - this.start, position - this.start + length3);
    }
    const close = position >= end && position - end < this.window.length;
    this.next = close ? Math.min(2 * this.next, MAX_WINDOW) : WINDOW;
    const size = Math.max(this.next, length3);
    if (size > this.buffer.length) this.buffer = Buffer.allocUnsafe(size);
    const buffer2 = this.buffer;
    const wanted = Math.min(size, this.size - position);
    let filled = 0;
    while (filled < wanted) {
      const { bytesRead } = await this.handle.read(buffer2, filled, wanted - filled, position + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    this.window = buffer2.subarray(0, filled);
    this.start = position;
    return this.window.subarray(0, Math.min(length3, filled));
  }
};
async function indexHandle(reader, options) {
  const fileSize = reader.size;
  const files = /* @__PURE__ */ new Map();
  const links = /* @__PURE__ */ new Map();
  let position = 0;
  let count = 0;
  let longName;
  let longLink;
  let pax = {};
  let metaHeaders = 0;
  let metaBytes = 0;
  while (true) {
    if (++count % 1e3 === 0) throwIfAborted(options.signal);
    if (position >= fileSize) {
      if (count === 1) throw new TarError("the file is empty", true);
      throw new TarError("truncated tar: no end-of-archive marker");
    }
    const header = await reader.read(position, BLOCK);
    if (header.length < BLOCK) {
      throw new TarError(count === 1 ? "too short for a tar header" : `truncated tar: partial header at byte ${position}`, count === 1);
    }
    if (isZero(header)) break;
    if (!checksumOk(header)) {
      throw new TarError(count === 1 ? "no valid tar header" : `bad tar header checksum at byte ${position}`, count === 1);
    }
    const type = String.fromCharCode(header[156] ?? 0);
    const size = readNumber(header, 124, 12);
    const headerAt = position;
    const dataStart = position + BLOCK;
    const dataSize = isMeta(type) || pax.size == null ? size : Number(pax.size);
    if (!Number.isSafeInteger(dataSize) || dataSize < 0) throw new TarError(`bad entry size at byte ${position}`);
    if (dataStart + dataSize > fileSize) {
      throw new TarError(`truncated tar: entry at byte ${position} needs ${dataSize} bytes, file ends after ${fileSize - dataStart}`);
    }
    position = dataStart + Math.ceil(dataSize / BLOCK) * BLOCK;
    if (isMeta(type)) {
      metaHeaders++;
      metaBytes += dataSize;
      if (metaHeaders > TAR_LIMITS.metaHeaders) {
        throw new TarError(`more than ${TAR_LIMITS.metaHeaders} metadata headers (pax or GNU long names) in a row at byte ${headerAt}`);
      }
      if (metaBytes > TAR_LIMITS.metaBytes) {
        throw new TarError(`metadata headers (pax or GNU long names) of more than ${TAR_LIMITS.metaBytes} bytes in a row at byte ${headerAt}`);
      }
      if (type === "g") continue;
      const data = await reader.read(dataStart, dataSize);
      if (type === "L") longName = cString(data);
      else if (type === "K") longLink = cString(data);
      else parsePax(data, pax);
      continue;
    }
    const rawName = longName ?? pax.path ?? headerName(header);
    const rawLink = longLink ?? pax.linkpath ?? cString(header.subarray(157, 257));
    longName = void 0;
    longLink = void 0;
    pax = {};
    metaHeaders = 0;
    metaBytes = 0;
    checkPathLength(rawName, "name", headerAt);
    const name4 = normalizeEntryPath(rawName);
    if (name4 === "") continue;
    if (type === "0" || type === "\0" || type === "7") {
      files.set(name4, { offset: dataStart, size: dataSize });
      links.delete(name4);
    } else if (type === "2") {
      checkPathLength(rawLink, "link target", headerAt);
      if (rawLink.startsWith("/")) throw new TarError(`symlink '${name4}' points to absolute path '${rawLink}'`);
      const target = linkTarget(name4, rawLink);
      if (escapes(target)) throw new TarError(`symlink '${name4}' -> '${rawLink}' escapes the archive`);
      links.set(name4, { kind: "symlink", target });
      files.delete(name4);
    } else if (type === "1") {
      checkPathLength(rawLink, "link target", headerAt);
      const target = normalizeEntryPath(rawLink, "hardlink target");
      links.set(name4, { kind: "hardlink", target });
      files.delete(name4);
    } else {
      files.delete(name4);
      links.delete(name4);
    }
    if (files.size + links.size > TAR_LIMITS.entries) {
      throw new TarError(`more than ${TAR_LIMITS.entries} files and links; an image archive holds a few per blob`);
    }
  }
  return { files, links };
}
function checkPathLength(raw, what, at) {
  if (raw.length > TAR_LIMITS.pathBytes || Buffer.byteLength(raw) > TAR_LIMITS.pathBytes) {
    throw new TarError(`entry ${what} at byte ${at} is longer than ${TAR_LIMITS.pathBytes} bytes`);
  }
}
function isTarHeader(block) {
  return block.length === BLOCK && !isZero(block) && checksumOk(block);
}
function isMeta(type) {
  return type === "L" || type === "K" || type === "x" || type === "g";
}
var UNCLEAN = /^\/|\/\/|(?:^|\/)\.\.?(?:\/|$)|\/$/;
function normalizeEntryPath(raw, what = "path") {
  if (!UNCLEAN.test(raw)) return raw;
  if (raw.startsWith("/")) throw new TarError(`absolute ${what} '${raw}'`);
  const parts = raw.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.includes("..")) throw new TarError(`${what} '${raw}' contains '..'`);
  return parts.join("/");
}
function linkTarget(name4, rawLink) {
  const slash = name4.lastIndexOf("/");
  if (!UNCLEAN.test(rawLink) && rawLink !== "") return slash === -1 ? rawLink : `${name4.slice(0, slash)}/${rawLink}`;
  const joined = posix.normalize(posix.join(posix.dirname(name4), rawLink));
  return joined === "." ? "" : joined;
}
function escapes(normalized) {
  return normalized === ".." || normalized.startsWith("../") || normalized.startsWith("/");
}
function isZero(block) {
  for (const byte of block) if (byte !== 0) return false;
  return true;
}
function checksumOk(header) {
  const stored = readNumber(header, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 32 : header[i] ?? 0;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed;
}
function readNumber(buf, offset, length3) {
  const field = buf.subarray(offset, offset + length3);
  if (((field[0] ?? 0) & 128) !== 0) {
    let value = (field[0] ?? 0) & 127;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] ?? 0);
    return value;
  }
  const text2 = field.toString("latin1").replace(/\0.*$/s, "").trim();
  if (text2 === "") return 0;
  if (!/^[0-7]+$/.test(text2)) return NaN;
  return parseInt(text2, 8);
}
function cString(buf) {
  const end = buf.indexOf(0);
  return buf.subarray(0, end === -1 ? buf.length : end).toString("utf8");
}
function headerName(header) {
  const name4 = cString(header.subarray(0, 100));
  if (header.subarray(257, 263).toString("latin1") === "ustar\0") {
    const prefix = cString(header.subarray(345, 500));
    if (prefix !== "") return `${prefix}/${name4}`;
  }
  return name4;
}
var PAX_KEY_BYTES = PAX_KEYS.map((key) => [key, Buffer.from(`${key}=`, "latin1")]);
function parsePax(data, into) {
  const n = data.length;
  let i = 0;
  while (i < n) {
    let length3 = 0;
    let j = i;
    while (j < n && j - i < 16 && data[j] >= 48 && data[j] <= 57) length3 = length3 * 10 + data[j++] - 48;
    if (j === i || data[j] !== 32 || length3 <= j - i + 1) {
      if (data.indexOf(32, i) === -1) break;
      throw new TarError("bad pax header record");
    }
    const end = Math.min(i + length3 - 1, n);
    for (const [key, bytes] of PAX_KEY_BYTES) {
      if (startsWithBytes(data, j + 1, bytes)) {
        into[key] = data.toString("utf8", j + 1 + bytes.length, end);
        break;
      }
    }
    i += length3;
  }
}
function startsWithBytes(data, at, bytes) {
  if (at + bytes.length > data.length) return false;
  for (let k = 0; k < bytes.length; k++) if (data[at + k] !== bytes[k]) return false;
  return true;
}

// src/core/image/tar-links.ts
var MAX_LINK_HOPS = 40;
function firstComponent(path2, pos) {
  const slash = path2.indexOf("/", pos);
  return path2.slice(pos, slash === -1 ? void 0 : slash);
}
function startsWithComponents(path2, label, pos) {
  const end = pos + label.length;
  return (end === path2.length || path2.charCodeAt(end) === 47) && path2.slice(pos, end) === label;
}
function* walk(root, start) {
  let path2 = start;
  let node = root;
  let pos = 0;
  let hops = 0;
  while (pos < path2.length) {
    const child = node.children?.get(firstComponent(path2, pos));
    if (child == null || !startsWithComponents(path2, child.label, pos)) return { node, rest: path2.slice(pos), hops };
    const next = pos + child.label.length + 1;
    if (child.target == null) {
      node = child;
      pos = next;
      continue;
    }
    const place = yield child;
    if (place == null) return null;
    hops += place.hops;
    if (hops > MAX_LINK_HOPS) return null;
    node = place.node;
    if (place.rest === "") {
      pos = next;
    } else if (next >= path2.length) {
      return { node, rest: place.rest, hops };
    } else {
      path2 = `${place.rest}/${path2.slice(next)}`;
      pos = 0;
    }
  }
  return { node, rest: "", hops };
}
var LinkResolver = class {
  constructor(index) {
    this.index = index;
    for (const [name4, link] of index.links) {
      const node = this.insert(name4);
      node.target = link.target;
      this.links.push({ name: name4, node });
    }
  }
  index;
  root = { label: "" };
  links = [];
  /** The names of links that resolve to a regular file. */
  resolvedLinks() {
    const names = [];
    for (const { name: name4, node } of this.links) {
      const place = this.resolveLink(node);
      if (place != null && this.index.files.has(pathOf(place))) names.push(name4);
    }
    return names;
  }
  /** The regular file a path names, links followed; undefined when there is none. */
  resolve(path2) {
    if (this.index.files.has(path2)) return path2;
    const place = this.run(walk(this.root, path2));
    if (place == null) return void 0;
    const resolved = pathOf(place);
    return this.index.files.has(resolved) ? resolved : void 0;
  }
  /** The node for `name`, made (splitting an edge if needed) when missing. */
  insert(name4) {
    let node = this.root;
    let pos = 0;
    while (pos < name4.length) {
      const key = firstComponent(name4, pos);
      node.children ??= /* @__PURE__ */ new Map();
      const child = node.children.get(key);
      if (child == null) {
        const leaf2 = { label: name4.slice(pos), parent: node };
        node.children.set(key, leaf2);
        return leaf2;
      }
      if (startsWithComponents(name4, child.label, pos)) {
        node = child;
        pos += child.label.length + 1;
        continue;
      }
      let i = 0;
      while (i < child.label.length && child.label.charCodeAt(i) === name4.charCodeAt(pos + i)) i++;
      const atBoundary = (i === child.label.length || child.label.charCodeAt(i) === 47) && (pos + i === name4.length || name4.charCodeAt(pos + i) === 47);
      const cut = atBoundary ? i : child.label.lastIndexOf("/", i - 1);
      const middle = { label: child.label.slice(0, cut), parent: node, children: /* @__PURE__ */ new Map() };
      child.label = child.label.slice(cut + 1);
      child.parent = middle;
      middle.children?.set(firstComponent(child.label, 0), child);
      node.children.set(key, middle);
      node = middle;
      pos += cut + 1;
    }
    return node;
  }
  resolveLink(node) {
    if (node.resolved === void 0) this.run(this.linkWalk(node), node);
    return node.resolved === "busy" ? null : node.resolved ?? null;
  }
  linkWalk(node) {
    node.resolved = "busy";
    return walk(this.root, node.target ?? "");
  }
  /**
   * Runs a walk to its end, resolving the links it meets on an explicit stack
   * (no recursion: chains may be long), each link once.
   */
  run(first, firstLink) {
    const stack = [{ walk: first, link: firstLink }];
    let input = null;
    let result = null;
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const step = top.walk.next(input);
      if (step.done === true) {
        stack.pop();
        let place = step.value;
        if (top.link != null) {
          place = place == null || place.hops + 1 > MAX_LINK_HOPS ? null : { ...place, hops: place.hops + 1 };
          top.link.resolved = place;
        }
        input = place;
        result = place;
        continue;
      }
      const link = step.value;
      if (link.resolved === void 0) {
        stack.push({ walk: this.linkWalk(link), link });
        input = null;
      } else {
        input = link.resolved === "busy" ? null : link.resolved;
      }
    }
    return result;
  }
};
function pathOf(place) {
  const labels = [];
  for (let node = place.node; node?.parent != null; node = node.parent) labels.push(node.label);
  labels.reverse();
  if (place.rest !== "") labels.push(place.rest);
  return labels.join("/");
}

// src/core/image/archive.ts
var READ_CHUNK = 1024 * 1024;
var DEFAULT_JSON_LIMIT = 16 * 1024 * 1024;
async function openImageArchive(path2, options) {
  const { input } = options;
  throwIfAborted(options.signal);
  let stats;
  try {
    stats = await stat2(path2);
  } catch (err) {
    throw new InputError(input, `cannot read '${path2}': ${err.code ?? err.message}`, { cause: err });
  }
  if (stats.isDirectory()) return await openDirectory(path2, input, options);
  if (!stats.isFile()) throw new InputError(input, `'${path2}' is neither a file nor a directory`);
  const compression = detectCompression(await readHead(path2));
  if (compression === "none") return await openTar(path2, path2, input, void 0, options);
  if (compression === "xz" || compression === "bzip2") {
    throw new InputError(input, `'${path2}' is ${compression}-compressed; only uncompressed, gzip or zstd tarballs are supported`);
  }
  const decompressor = createDecompressor(compression);
  if (decompressor == null) {
    throw new InputError(input, `'${path2}' is zstd-compressed, which Node.js ${process.versions.node} cannot decompress; decompress it first (zstd -d)`);
  }
  const limit = options.maxDecompressedSize ?? defaultDecompressedLimit(stats.size);
  const dir = await mkdtemp(join(options.tempDir, "ipcr-archive-"));
  registerTemporary(dir);
  const tarPath = join(dir, "image.tar");
  try {
    await pipeline(createReadStream(path2), decompressor, new DecompressionLimit(limit, isTarHeader), createWriteStream(tarPath), { signal: options.signal });
  } catch (err) {
    await removeTemporary(dir);
    throwIfAborted(options.signal);
    if (err instanceof DecompressionLimitError) {
      const how = options.maxDecompressedSize != null ? "the limit set" : `the default limit, ${DECOMPRESSION_RATIO} times its compressed size and at least ${formatBytes(DECOMPRESSION_FLOOR)}`;
      throw new InputError(input, text`'${path2}' ${compression}-decompresses to more than ${formatBytes(limit)} (${how}); if the image is genuine, raise ${option("max-decompressed-size")}`);
    }
    if (err instanceof NotTarError) {
      throw new InputError(input, `'${path2}' is ${compression}-compressed but ${err.message}; expected a tar archive of an image`);
    }
    throw new InputError(input, `cannot ${compression}-decompress '${path2}': ${err.message}`, { cause: err });
  }
  return await openTar(path2, tarPath, input, dir, options);
}
async function readBytes(archive, path2, maxBytes, input) {
  const size = archive.size(path2);
  if (size > maxBytes) {
    throw formatError(input, `'${path2}' in ${archive.label} is ${size} bytes, more than the ${maxBytes} allowed for metadata`);
  }
  const chunks = [];
  for await (const chunk of archive.open(path2)) chunks.push(Buffer.from(chunk));
  return new Uint8Array(Buffer.concat(chunks));
}
function parseJson(bytes, path2, label, input) {
  const wrong = checkJsonShape(bytes, { depth: IMAGE_LIMITS.jsonDepth, values: IMAGE_LIMITS.jsonValues });
  if (wrong != null) throw formatError(input, `'${path2}' in ${label} ${wrong}`);
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
  } catch (err) {
    throw formatError(input, `'${path2}' in ${label} is not valid JSON: ${err.message}`, { cause: err });
  }
}
async function readHead(path2) {
  const handle = await open4(path2, "r");
  try {
    const head = Buffer.alloc(MAGIC_BYTES);
    const { bytesRead } = await handle.read(head, 0, MAGIC_BYTES, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
async function* readChunks(located, options) {
  const { pool: pool2, signal } = options;
  if (located.size === 0) return;
  const handle = await open4(located.file, "r");
  try {
    let position = located.offset;
    let left = located.size;
    while (left > 0) {
      throwIfAborted(signal);
      const buffer2 = left >= pool2.size ? pool2.take() : new Uint8Array(left);
      const length3 = buffer2.byteLength;
      let filled = 0;
      while (filled < length3) {
        const { bytesRead } = await handle.read(buffer2, filled, length3 - filled, position + filled);
        if (bytesRead === 0) {
          if (filled > 0) yield buffer2.subarray(0, filled);
          return;
        }
        filled += bytesRead;
      }
      position += length3;
      left -= length3;
      yield buffer2;
    }
  } finally {
    await handle.close();
  }
}
var BaseArchive = class {
  constructor(label, input) {
    this.label = label;
    this.input = input;
  }
  label;
  input;
  has(path2) {
    return this.lookup(path2) !== void 0;
  }
  size(path2) {
    return this.get(path2).size;
  }
  open(path2) {
    const { size, file, offset } = this.get(path2);
    if (size === 0) return Readable.from([]);
    return createReadStream(file, { start: offset, end: offset + size - 1, highWaterMark: READ_CHUNK });
  }
  chunks(path2, options) {
    return readChunks(this.get(path2), options);
  }
  async readJson(path2, maxBytes = DEFAULT_JSON_LIMIT) {
    return parseJson(await readBytes(this, path2, maxBytes, this.input), path2, this.label, this.input);
  }
  async close() {
  }
  lookup(path2) {
    let normalized;
    try {
      normalized = normalizeEntryPath(path2);
    } catch {
      return void 0;
    }
    return this.locate(normalized);
  }
  get(path2) {
    const found = this.lookup(path2);
    if (found == null) throw formatError(this.input, `'${path2}' is missing from ${this.label}`);
    return found;
  }
};
var TarArchive = class extends BaseArchive {
  constructor(label, input, tarPath, index, tempDir) {
    super(label, input);
    this.tarPath = tarPath;
    this.index = index;
    this.tempDir = tempDir;
    this.resolver = new LinkResolver(index);
    this.names = [...index.files.keys(), ...this.resolver.resolvedLinks()].sort();
  }
  tarPath;
  index;
  tempDir;
  names;
  resolver;
  list() {
    return [...this.names];
  }
  locate(path2) {
    const resolved = this.resolver.resolve(path2);
    const entry = resolved === void 0 ? void 0 : this.index.files.get(resolved);
    if (entry == null) return void 0;
    return { size: entry.size, file: this.tarPath, offset: entry.offset };
  }
  async close() {
    if (this.tempDir != null) await removeTemporary(this.tempDir);
  }
};
async function openTar(label, tarPath, input, tempDir, options) {
  try {
    const index = await indexTar(tarPath, options);
    return new TarArchive(label, input, tarPath, index, tempDir);
  } catch (err) {
    if (tempDir != null) await removeTemporary(tempDir);
    if (err instanceof TarError) {
      if (err.notTar) throw new InputError(input, `'${label}' is not a tar archive, a gzip or zstd tarball, or a directory: ${err.message}`);
      throw formatError(input, `${label}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}
var DirectoryArchive = class extends BaseArchive {
  constructor(label, input, files) {
    super(label, input);
    this.files = files;
  }
  files;
  list() {
    return [...this.files.keys()].sort();
  }
  locate(path2) {
    const file = this.files.get(path2);
    if (file == null) return void 0;
    return { size: file.size, file: file.fullPath, offset: 0 };
  }
};
async function openDirectory(path2, input, options) {
  const root = await realpath(path2);
  const files = /* @__PURE__ */ new Map();
  const walk2 = async (dir, prefix) => {
    throwIfAborted(options.signal);
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const name4 = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
      const fullPath = join(dir, entry.name);
      if (entry.isDirectory()) {
        await walk2(fullPath, name4);
      } else if (entry.isFile()) {
        files.set(name4, { fullPath, size: (await stat2(fullPath)).size });
      } else if (entry.isSymbolicLink()) {
        let target;
        try {
          target = await realpath(fullPath);
        } catch {
          continue;
        }
        const rel = relative(root, target);
        if (rel === ".." || rel.startsWith(`..${sep}`) || rel.startsWith(sep)) {
          throw formatError(input, `${path2}: symlink '${name4}' escapes the directory`);
        }
        const targetStats = await stat2(target);
        if (targetStats.isFile()) files.set(name4, { fullPath: target, size: targetStats.size });
      }
    }
  };
  await walk2(root, "");
  return new DirectoryArchive(path2, input, files);
}

// src/core/image/docker.ts
import { spawn } from "node:child_process";
import { createHash as createHash2 } from "node:crypto";
import { join as join2 } from "node:path";
import { stat as stat3 } from "node:fs/promises";
var STDERR_LIMIT = 64 * 1024;
function spawnCommandRunner(hooks = {}) {
  return async (command, args, options) => {
    throwIfAborted(options.signal);
    hooks.onStart?.(command, args);
    return await new Promise((resolve2, reject) => {
      const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"], signal: options.signal, killSignal: "SIGKILL" });
      let stderr = "";
      let failure;
      child.stderr.setEncoding("utf8");
      child.stderr.on("data", (chunk) => {
        hooks.onStderr?.(chunk);
        stderr = (stderr + chunk).slice(-STDERR_LIMIT);
      });
      child.on("error", (err) => {
        failure ??= err;
      });
      child.on("close", (code5, signal) => {
        if (options.signal?.aborted === true) {
          try {
            throwIfAborted(options.signal);
          } catch (err) {
            reject(err);
          }
        } else if (failure?.code === "ENOENT") {
          resolve2({ exitCode: 127, stderr: `${command}: command not found` });
        } else if (failure != null) {
          reject(failure);
        } else {
          resolve2({ exitCode: code5 ?? (signal != null ? 128 : 1), stderr });
        }
      });
    });
  };
}
var nodeCommandRunner = spawnCommandRunner();
var MISSING_IMAGE = /no such image|image not known|reference does not exist|not found/i;
async function saveDockerImage(ref, options) {
  if (ref === "" || ref.startsWith("-") || /\s/.test(ref)) throw new InputError(options.input, `'${ref}' is not a Docker image reference`);
  const safe = ref.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 80);
  const hash = createHash2("sha256").update(ref).digest("hex").slice(0, 8);
  const output = join2(options.tempDir, `${safe}-${hash}.tar`);
  const command = options.command ?? "docker";
  const { exitCode, stderr } = await withSizeProgress(output, options, async () => await options.run(command, ["save", "--output", output, ref], { signal: options.signal }));
  throwIfAborted(options.signal);
  if (exitCode === 0) return output;
  const detail = stderr.trim();
  if (exitCode === 127) throw new IpcrError("ERR_DOCKER", `Cannot run the ${command} CLI to export '${ref}': ${detail}`);
  if (MISSING_IMAGE.test(detail)) {
    throw new InputError(options.input, `${command === "docker" ? "Docker" : command} has no image '${ref}' (build or pull it first): ${detail}`);
  }
  throw new IpcrError("ERR_DOCKER", `${command} save '${ref}' failed with exit code ${exitCode}: ${detail}`);
}
async function withSizeProgress(file, options, work) {
  const { logger } = options;
  if (logger == null) return await work();
  const interval = options.progressIntervalMs ?? PROGRESS_INTERVAL_MS;
  const progress = new Progress(logger, "exported", void 0, interval);
  let polling = false;
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    stat3(file).then((s) => {
      progress.report(s.size);
    }, () => {
    }).finally(() => {
      polling = false;
    });
  }, interval);
  try {
    const result = await work();
    const size = await stat3(file).then((s) => s.size, () => void 0);
    if (size != null) progress.report(size);
    return result;
  } finally {
    clearInterval(timer);
  }
}

// src/core/image/blob.ts
import { createHash as createHash3 } from "node:crypto";
import { Readable as Readable2, Transform as Transform2, Writable } from "node:stream";
import { pipeline as pipeline2 } from "node:stream/promises";

// src/core/registry/layout.ts
var TOP_LEVEL_FILES = {
  catalog: "catalog.json",
  /** The registry's web page. */
  webPage: "index.html"
};
var REPOSITORY_ENTRIES = {
  tags: "tags",
  readme: "README-short.txt"
};
var registryPaths = {
  catalog: () => [TOP_LEVEL_FILES.catalog],
  image: (name4) => name4.split("/"),
  readme: (name4) => [...name4.split("/"), REPOSITORY_ENTRIES.readme],
  tags: (name4) => [...name4.split("/"), REPOSITORY_ENTRIES.tags],
  tag: (name4, tag) => [...name4.split("/"), REPOSITORY_ENTRIES.tags, tag]
};
function reservedNameProblem(name4) {
  const parts = name4.split("/");
  const first = (parts[0] ?? "").toLowerCase();
  const top = Object.values(TOP_LEVEL_FILES).find((f) => f.toLowerCase() === first);
  if (top != null) {
    return `starts with '${top}', a file the registry tree keeps at its top (reserved first components: ${Object.values(TOP_LEVEL_FILES).join(", ")})`;
  }
  for (const part of parts) {
    const entry = Object.values(REPOSITORY_ENTRIES).find((e) => e.toLowerCase() === part.toLowerCase());
    if (entry != null) {
      return `has the component '${part}', which every repository folder uses for '${entry}' (reserved components: ${Object.values(REPOSITORY_ENTRIES).join(", ")})`;
    }
  }
  return void 0;
}
function ipfsPath(root, path2) {
  return `/ipfs/${[root, ...path2].join("/")}`;
}

// src/core/registry/reference.ts
var COMPONENT = "[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*";
var NAME_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
var TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
var DIGEST_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
var PLATFORM_TOKEN_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;
function isName(value) {
  return value.length > 0 && value.length <= 255 && NAME_RE.test(value) && reservedNameProblem(value) == null;
}
function isTag(value) {
  return TAG_RE.test(value);
}
function isDigest(value) {
  return value.length <= 256 && DIGEST_RE.test(value);
}
function nameProblem(name4) {
  if (name4.length === 0) return "is empty";
  if (name4.length > 255) return `is ${name4.length} characters long, longer than 255 characters`;
  if (name4 !== name4.toLowerCase() && NAME_RE.test(name4.toLowerCase())) {
    return `has uppercase letters; repository names are lowercase: use '${name4.toLowerCase()}'`;
  }
  if (!NAME_RE.test(name4)) return "is not a valid image name: expected lowercase path components of [a-z0-9] joined by '.', '_', '__' or '-', separated by '/' (OCI reference grammar)";
  return void 0;
}
function showChar(c) {
  return /^[\x21-\x7e]$/.test(c) ? `'${c}'` : `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
}
function tagProblem(tag) {
  if (tag.length === 0) return "is empty";
  if (tag.length > 128) return `is ${tag.length} characters long, longer than 128 characters (the most a tag may have)`;
  const bad = [...tag].find((c) => !/^[A-Za-z0-9_.-]$/.test(c));
  if (bad != null) {
    const semver = bad === "+" ? "; semver build metadata ('+build') cannot be part of a tag: write it with '-' or '_' instead" : "";
    return `has ${showChar(bad)}, which is not allowed in a tag (only letters, digits, '_', '.' and '-')${semver}`;
  }
  if (tag.startsWith(".") || tag.startsWith("-")) return `starts with '${tag[0]}' (a tag starts with a letter, a digit or '_')`;
  return void 0;
}
function validateName(name4, input = "name") {
  const problem2 = nameProblem(name4);
  if (problem2 != null) throw new InputError(input, `${quote(name4)} ${problem2}`);
  const reserved = reservedNameProblem(name4);
  if (reserved != null) throw new InputError(input, `repository name '${name4}' ${reserved}`);
  return name4;
}
function validateTag(tag, input = "tags") {
  const problem2 = tagProblem(tag);
  if (problem2 != null) throw new InputError(input, `tag ${quote(tag)} ${problem2}`);
  return tag;
}
function parseReference(ref, input) {
  let rest = ref.trim();
  let digest2;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest2 = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest2)) throw new InputError(input, `${quote(ref)} has an invalid digest (expected algorithm:hex)`);
  }
  let tag;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = validateTag(rest.slice(colon + 1), input);
    rest = rest.slice(0, colon);
  }
  let domain;
  const slash = rest.indexOf("/");
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes(".") || first.includes(":") || first === "localhost") {
      domain = first;
      rest = rest.slice(slash + 1);
    }
  }
  if (rest.length === 0 || !NAME_RE.test(rest)) {
    throw new InputError(input, `${quote(ref)} is not a valid image reference: expected [domain/]path[:tag][@digest] with a lowercase path`);
  }
  return { domain, path: rest, tag, digest: digest2 };
}
var METADATA_CONFIG_RE = /^type=|\{\{.*\}\}|(^|,)\s*(pattern|enable|value|prefix|suffix|priority)=/;
function parseTagList(value, input = "tags") {
  const config = value.split("\n").map((s) => s.trim()).find((line) => METADATA_CONFIG_RE.test(line));
  if (config != null) {
    throw new InputError(input, `${quote(config)} looks like docker/metadata-action's configuration (its own 'tags' input), not a list of tags; pass the action's output instead: tags: \${{ steps.meta.outputs.tags }}`);
  }
  const items = value.split(/[\n,]/).map((s) => s.trim()).filter((s) => s.length > 0);
  const tags = [];
  let path2;
  for (const item of items) {
    if (TAG_RE.test(item)) {
      tags.push(item);
      continue;
    }
    if (!/[/:@]/.test(item)) validateTag(item, input);
    const ref = parseReference(item, input);
    if (ref.tag == null) throw new InputError(input, `${quote(item)} has no tag (expected a tag or a reference ending in :tag)`);
    if (path2 != null && ref.path !== path2) {
      throw new InputError(input, text`references name different repositories ('${path2}' and '${ref.path}'); publish one repository per step or set ${option("name")}`);
    }
    path2 = ref.path;
    tags.push(ref.tag);
  }
  return { tags: [...new Set(tags)], path: path2 };
}

// src/core/image/blob.ts
var SHA256 = /^sha256:[0-9a-f]{64}$/;
function sha256Digest(bytes) {
  return `sha256:${createHash3("sha256").update(bytes).digest("hex")}`;
}
async function hashCompressed(stream, compression, limit) {
  const decompressor = createDecompressor(compression);
  if (decompressor == null) throw new Error(`Node.js ${process.versions.node} cannot decompress ${compression}`);
  const raw = createHash3("sha256");
  let size = 0;
  const content = createHash3("sha256");
  await pipeline2(
    stream,
    new Transform2({
      transform(chunk, _encoding, callback) {
        raw.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      }
    }),
    decompressor,
    new DecompressionLimit(limit),
    new Writable({
      write(chunk, _encoding, callback) {
        content.update(chunk);
        callback();
      }
    })
  );
  return { digest: `sha256:${raw.digest("hex")}`, size, contentDigest: `sha256:${content.digest("hex")}` };
}
async function readHeadBytes(stream, n) {
  const chunks = [];
  let length3 = 0;
  try {
    for await (const chunk of stream) {
      chunks.push(Buffer.from(chunk));
      length3 += chunk.length;
      if (length3 >= n) break;
    }
  } finally {
    stream.destroy();
  }
  return new Uint8Array(Buffer.concat(chunks).subarray(0, n));
}
function isSha256Digest(value) {
  return typeof value === "string" && SHA256.test(value);
}
function blobPath(digest2) {
  return `blobs/sha256/${digest2.slice("sha256:".length)}`;
}
function memoryBlob(bytes, mediaType, digest2 = sha256Digest(bytes)) {
  return { digest: digest2, size: bytes.length, mediaType, bytes, open: () => Readable2.from([Buffer.from(bytes)]) };
}
function jsonBytes(value) {
  return new Uint8Array(Buffer.from(JSON.stringify(value), "utf8"));
}
function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
function parseDescriptor(value, where, ctx) {
  if (!isObject(value)) throw formatError(ctx.input, `${where} in ${ctx.archive.label}: descriptor is not an object`);
  const { mediaType, digest: digest2, size, platform: platform2, annotations } = value;
  if (typeof digest2 !== "string") throw formatError(ctx.input, `${where} in ${ctx.archive.label}: descriptor has no digest`);
  if (!SHA256.test(digest2)) {
    throw formatError(ctx.input, `${where} in ${ctx.archive.label}: unsupported digest '${digest2}' (only sha256:<64 hex> is supported)`);
  }
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    throw formatError(ctx.input, `${where} in ${ctx.archive.label}: descriptor ${digest2} has an invalid size`);
  }
  if (mediaType !== void 0 && typeof mediaType !== "string") {
    throw formatError(ctx.input, `${where} in ${ctx.archive.label}: descriptor ${digest2} has an invalid mediaType`);
  }
  const descriptor = { digest: digest2, size };
  if (mediaType !== void 0) descriptor.mediaType = mediaType;
  const parsedPlatform = parsePlatform(platform2, ctx, `${where} platform`);
  if (parsedPlatform != null) descriptor.platform = parsedPlatform;
  if (isObject(annotations)) descriptor.annotations = stringRecord(annotations);
  return descriptor;
}
function parsePlatform(value, ctx, where) {
  if (!isObject(value)) return void 0;
  const field = (key) => {
    const item = value[key];
    if (item === void 0 || item === null || item === "") return void 0;
    if (typeof item !== "string" || !PLATFORM_TOKEN_RE.test(item)) {
      const shown = typeof item === "string" ? quote(item, 80) : typeof item;
      throw formatError(ctx.input, `${where} in ${ctx.archive.label}: platform ${key} ${shown} is not a platform name (expected 1 to 64 of A-Z a-z 0-9 . _ + -, such as linux, arm64 or v8)`);
    }
    return item;
  };
  const os = field("os");
  const architecture = field("architecture");
  const variant = field("variant");
  if (os == null || architecture == null) return void 0;
  const platform2 = { os, architecture };
  if (variant != null) platform2.variant = variant;
  return platform2;
}
function stringRecord(value) {
  const out = {};
  if (!isObject(value)) return out;
  for (const [key, item] of Object.entries(value)) if (typeof item === "string") out[key] = item;
  return out;
}
function requireBlob(ctx, descriptor, where, hint = "") {
  const path2 = blobPath(descriptor.digest);
  if (!ctx.archive.has(path2)) {
    throw formatError(ctx.input, `${ctx.archive.label} is missing blob ${descriptor.digest} (${path2}), referenced by ${where}${hint}`);
  }
  const size = ctx.archive.size(path2);
  if (size !== descriptor.size) {
    throw mismatchError(ctx.input, `${path2} in ${ctx.archive.label} is ${size} bytes, but ${where} says ${descriptor.size}`);
  }
  return path2;
}
function archiveBlob(ctx, path2, digest2, size, mediaType) {
  const { archive } = ctx;
  return { digest: digest2, size, mediaType, open: () => archive.open(path2), chunks: (options) => archive.chunks(path2, options) };
}
async function readVerifiedJson(ctx, path2, digest2) {
  const size = ctx.archive.has(path2) ? ctx.archive.size(path2) : 0;
  ctx.jsonBytes = (ctx.jsonBytes ?? 0) + Math.min(size, DEFAULT_JSON_LIMIT);
  if (ctx.jsonBytes > IMAGE_LIMITS.jsonBytes) {
    throw formatError(ctx.input, `${ctx.archive.label}: its manifests, indexes and configs take more than ${IMAGE_LIMITS.jsonBytes} bytes of JSON (at '${path2}')`);
  }
  const bytes = await readBytes(ctx.archive, path2, DEFAULT_JSON_LIMIT, ctx.input);
  if (digest2 !== void 0) {
    const actual = sha256Digest(bytes);
    if (actual !== digest2) {
      throw mismatchError(ctx.input, `${path2} in ${ctx.archive.label} hashes to ${actual}, expected ${digest2}`);
    }
  }
  return { bytes, json: parseJson(bytes, path2, ctx.archive.label, ctx.input) };
}

// src/core/image/load-docker.ts
import { posix as posix2 } from "node:path";

// src/core/image/select.ts
var DEFAULT_DOMAINS = /* @__PURE__ */ new Set(["docker.io", "index.docker.io", "localhost"]);
function canonical(value) {
  let ref;
  try {
    ref = parseReference(value, "image");
  } catch {
    return void 0;
  }
  const domain = ref.domain == null || DEFAULT_DOMAINS.has(ref.domain) ? "docker.io" : ref.domain;
  const path2 = domain === "docker.io" && !ref.path.includes("/") ? `library/${ref.path}` : ref.path;
  return `${domain}/${path2}:${ref.tag ?? (ref.digest != null ? "" : "latest")}@${ref.digest ?? ""}`;
}
function isBareName(name4) {
  return !/[/:@]/.test(name4);
}
function refMatches(ref, name4) {
  if (ref === name4) return true;
  if (isBareName(name4)) {
    try {
      return parseReference(ref, "image").tag === name4;
    } catch {
      return false;
    }
  }
  const a = canonical(ref);
  return a != null && a === canonical(name4);
}
function matches(ref, candidate) {
  if (/^sha256:[0-9a-f]{64}$/.test(ref)) return candidate.digests.includes(ref);
  return candidate.names.some((name4) => refMatches(ref, name4));
}
var LISTED = 20;
function describeCandidates(candidates) {
  const shown = candidates.slice(0, LISTED).map((c) => c.names.length > 0 ? c.names.map((n) => quote(n, 120)).join(" = ") : `${c.digests[0] ?? "?"} (unnamed)`);
  if (candidates.length > LISTED) shown.push(`and ${candidates.length - LISTED} more`);
  return shown.join(", ");
}
function selectCandidates(candidates, ref, ctx) {
  if (ref == null) return candidates;
  const chosen = candidates.filter((c) => matches(ref, c));
  if (chosen.length > 0) return chosen;
  if (candidates.length === 1 && candidates[0]?.names.length === 0) return candidates;
  throw new InputError(ctx.refInput, `${ctx.label} holds no image named ${quote(ref)}; it holds ${describeCandidates(candidates)}`);
}
function severalImagesError(candidates, ctx) {
  const example = candidates.flatMap((c) => c.names)[0];
  return new InputError(ctx.input, `${ctx.label} holds ${candidates.length} images: ${describeCandidates(candidates)}; choose one by reference with '${ctx.refInput}'${example != null ? ` (e.g. ${quote(example, 120)})` : ""}`);
}

// src/core/image/model.ts
var MEDIA_TYPES = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json"
};
var INDEX_MEDIA_TYPES = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList];
var MANIFEST_MEDIA_TYPES = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest];
var CONFIG_MEDIA_TYPES = [MEDIA_TYPES.ociConfig, MEDIA_TYPES.dockerConfig];
function platformString(platform2) {
  return `${platform2.os}/${platform2.architecture}${platform2.variant != null ? `/${platform2.variant}` : ""}`;
}

// src/core/image/load-oci.ts
var MAX_DEPTH = 8;
async function loadOciLayout(ctx) {
  const { archive, input } = ctx;
  const layout = (await readVerifiedJson(ctx, "oci-layout")).json;
  if (!isObject(layout) || typeof layout.imageLayoutVersion !== "string" || !layout.imageLayoutVersion.startsWith("1.")) {
    throw formatError(input, `oci-layout in ${archive.label}: unsupported image layout version ${describeValue(isObject(layout) ? layout.imageLayoutVersion : layout)}`);
  }
  const index = (await readVerifiedJson(ctx, "index.json")).json;
  const entries = indexEntries(ctx, index, "index.json");
  const byDigest = /* @__PURE__ */ new Map();
  for (const entry of entries) {
    const candidate = byDigest.get(entry.digest) ?? { entry, names: [], digests: [entry.digest] };
    byDigest.set(entry.digest, candidate);
    for (const name4 of entryNames(entry)) if (!candidate.names.includes(name4)) candidate.names.push(name4);
  }
  if (byDigest.size === 0) throw formatError(input, `index.json in ${archive.label} lists no manifests`);
  const selectContext = { input, refInput: ctx.refInput ?? "image", label: archive.label };
  const chosen = selectCandidates([...byDigest.values()], ctx.ref, selectContext);
  const unique = chosen.map((c) => c.entry);
  const walker = new Walker(ctx);
  let rootEntries = [unique[0]];
  let root;
  if (unique.length > 1) {
    if (!await walker.distinctPlatforms(unique)) throw severalImagesError(chosen, selectContext);
    rootEntries = unique;
    root = memoryBlob(jsonBytes({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: await platformEntries(walker, unique)
    }), MEDIA_TYPES.ociIndex);
    walker.add(root);
    for (const entry of unique) await walker.visit(entry, `index.json entry ${entry.digest}`, 1, false);
  } else {
    root = await walker.visit(rootEntries[0], "index.json", 0, false);
  }
  return {
    root,
    images: walker.images,
    blobs: [...walker.blobs.values()],
    repoTags: await repoTagsFor(ctx, walker.images, chosen.flatMap((c) => c.names))
  };
}
function entryNames(entry) {
  const annotations = stringRecord(entry.annotations);
  return [annotations["io.containerd.image.name"], annotations["org.opencontainers.image.ref.name"]].filter((n) => n != null && n !== "");
}
async function platformEntries(walker, entries) {
  const out = [];
  for (const entry of entries) {
    out.push({ mediaType: entry.mediaType ?? MEDIA_TYPES.ociManifest, digest: entry.digest, size: entry.size, platform: await walker.platformOf(entry) });
  }
  return out;
}
function indexEntries(ctx, index, where) {
  if (!isObject(index)) throw formatError(ctx.input, `${where} in ${ctx.archive.label} is not a JSON object`);
  if (index.schemaVersion !== 2) {
    throw formatError(ctx.input, `${where} in ${ctx.archive.label} has schemaVersion ${describeValue(index.schemaVersion)}, expected 2`);
  }
  if (!Array.isArray(index.manifests)) throw formatError(ctx.input, `${where} in ${ctx.archive.label} has no manifests list`);
  if (index.manifests.length > IMAGE_LIMITS.entries) {
    throw formatError(ctx.input, `${where} in ${ctx.archive.label} lists ${index.manifests.length} manifests, more than the ${IMAGE_LIMITS.entries} allowed`);
  }
  return index.manifests.map((item, i) => parseDescriptor(item, `${where} manifests[${i}]`, ctx));
}
function isAttestation(descriptor) {
  return descriptor.annotations?.["vnd.docker.reference.type"] === "attestation-manifest" || descriptor.platform?.os === "unknown" && descriptor.platform.architecture === "unknown";
}
var UNSUPPORTED_HINTS = {
  "application/vnd.docker.distribution.manifest.v1+json": " (Docker schema 1 manifests are not supported)",
  "application/vnd.docker.distribution.manifest.v1+prettyjws": " (Docker schema 1 manifests are not supported)"
};
var Walker = class {
  constructor(ctx) {
    this.ctx = ctx;
  }
  ctx;
  blobs = /* @__PURE__ */ new Map();
  images = [];
  imageManifests = /* @__PURE__ */ new Set();
  visited = /* @__PURE__ */ new Map();
  cache = /* @__PURE__ */ new Map();
  add(blob) {
    if (!this.blobs.has(blob.digest)) this.blobs.set(blob.digest, blob);
  }
  /** True when every entry is an image manifest and their platforms differ. */
  async distinctPlatforms(entries) {
    const seen = /* @__PURE__ */ new Set();
    for (const entry of entries) {
      if (entry.mediaType != null && !MANIFEST_MEDIA_TYPES.includes(entry.mediaType)) return false;
      const platform2 = await this.platformOf(entry);
      if (platform2 == null) return false;
      const key = platformString(platform2);
      if (seen.has(key)) return false;
      seen.add(key);
    }
    return true;
  }
  /** The descriptor's platform, else the one its config names. */
  async platformOf(entry) {
    if (entry.platform != null) return entry.platform;
    const manifest = await this.readJsonBlob(entry, "index.json");
    if (!isObject(manifest.json) || !isObject(manifest.json.config)) return void 0;
    const config = parseDescriptor(manifest.json.config, `manifest ${entry.digest} config`, this.ctx);
    if (config.mediaType == null || !CONFIG_MEDIA_TYPES.includes(config.mediaType)) return void 0;
    return parsePlatform((await this.readJsonBlob(config, `manifest ${entry.digest}`)).json, this.ctx, `config ${config.digest}`);
  }
  /** Visits a manifest or index and what it references; returns its blob. */
  async visit(descriptor, where, depth, attestation) {
    const { ctx } = this;
    throwIfAborted(ctx.signal);
    const key = `${descriptor.digest} ${String(attestation)}`;
    if (this.visited.has(key)) return this.visited.get(key);
    if (this.visited.size >= IMAGE_LIMITS.manifests) {
      throw formatError(ctx.input, `${ctx.archive.label}: more than ${IMAGE_LIMITS.manifests} manifests and indexes, at ${where}`);
    }
    const blob = await this.walk(descriptor, where, depth, attestation);
    this.visited.set(key, blob);
    return blob;
  }
  async walk(descriptor, where, depth, attestation) {
    const { ctx } = this;
    if (depth > MAX_DEPTH) throw formatError(ctx.input, `${ctx.archive.label}: indexes nested deeper than ${MAX_DEPTH} at ${where}`);
    const known = [...INDEX_MEDIA_TYPES, ...MANIFEST_MEDIA_TYPES];
    if (descriptor.mediaType != null && !known.includes(descriptor.mediaType)) {
      if (attestation) return void 0;
      throw formatError(ctx.input, `${where} in ${ctx.archive.label}: unsupported media type '${descriptor.mediaType}'${UNSUPPORTED_HINTS[descriptor.mediaType] ?? ""}`);
    }
    if (attestation && !ctx.archive.has(blobPath(descriptor.digest))) return void 0;
    const hint = depth > 0 && !attestation ? " (the archive may hold only some platforms of a multi-platform image)" : "";
    const { bytes, json } = await this.readJsonBlob(descriptor, where, hint);
    if (!isObject(json)) throw formatError(ctx.input, `${where} in ${ctx.archive.label}: ${descriptor.digest} is not a JSON object`);
    const mediaType = descriptor.mediaType ?? (typeof json.mediaType === "string" ? json.mediaType : void 0) ?? (Array.isArray(json.manifests) ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest);
    if (!known.includes(mediaType)) {
      throw formatError(ctx.input, `${where} in ${ctx.archive.label}: ${descriptor.digest} has unsupported media type '${mediaType}'${UNSUPPORTED_HINTS[mediaType] ?? ""}`);
    }
    const blob = memoryBlob(bytes, mediaType, descriptor.digest);
    this.add(blob);
    const isIndex = INDEX_MEDIA_TYPES.includes(mediaType);
    const name4 = `${isIndex ? "index" : "manifest"} ${descriptor.digest}`;
    if (isIndex) {
      for (const child of indexEntries(ctx, json, name4)) {
        await this.visit(child, name4, depth + 1, attestation || isAttestation(child));
      }
    } else {
      await this.visitManifest(descriptor, blob, json, name4, attestation);
    }
    return blob;
  }
  async visitManifest(descriptor, manifest, json, where, attestation) {
    const { ctx } = this;
    if (json.schemaVersion !== 2) {
      throw formatError(ctx.input, `${where} in ${ctx.archive.label} has schemaVersion ${describeValue(json.schemaVersion)}, expected 2`);
    }
    if (!Array.isArray(json.layers)) throw formatError(ctx.input, `${where} in ${ctx.archive.label} has no layers list`);
    if (json.layers.length > IMAGE_LIMITS.layers) {
      throw formatError(ctx.input, `${where} in ${ctx.archive.label} lists ${json.layers.length} layers, more than the ${IMAGE_LIMITS.layers} allowed`);
    }
    const config = parseDescriptor(json.config, `${where} config`, ctx);
    const layers = json.layers.map((item, i) => parseDescriptor(item, `${where} layers[${i}]`, ctx));
    const isImage = config.mediaType != null && CONFIG_MEDIA_TYPES.includes(config.mediaType);
    if (attestation || !isImage) {
      for (const item of [config, ...layers]) {
        const path2 = blobPath(item.digest);
        if (ctx.archive.has(path2) && ctx.archive.size(path2) === item.size) {
          this.add(archiveBlob(ctx, path2, item.digest, item.size, item.mediaType ?? "application/octet-stream"));
        }
      }
      return;
    }
    const configRead = await this.readJsonBlob(config, where);
    const configRef = memoryBlob(configRead.bytes, config.mediaType, config.digest);
    const layerRefs = layers.map((layer, i) => {
      const path2 = requireBlob(ctx, layer, `${where} layers[${i}]`);
      return archiveBlob(ctx, path2, layer.digest, layer.size, layer.mediaType ?? MEDIA_TYPES.ociLayer);
    });
    this.add(configRef);
    for (const layer of layerRefs) this.add(layer);
    if (this.imageManifests.has(manifest.digest)) return;
    this.imageManifests.add(manifest.digest);
    const platform2 = parsePlatform(configRead.json, ctx, `${where} config ${config.digest}`) ?? descriptor.platform ?? { os: "unknown", architecture: "unknown" };
    this.images.push({ platform: platform2, manifest, config: configRef, layers: layerRefs, configJson: configRead.json });
  }
  async readJsonBlob(descriptor, where, hint = "") {
    const cached = this.cache.get(descriptor.digest);
    if (cached != null) return cached;
    const path2 = requireBlob(this.ctx, descriptor, where, hint);
    const result = await readVerifiedJson(this.ctx, path2, descriptor.digest);
    this.cache.set(descriptor.digest, result);
    return result;
  }
};
async function repoTagsFor(ctx, images, entryNames2) {
  const tags = /* @__PURE__ */ new Set();
  if (ctx.archive.has("manifest.json")) {
    const configPaths = new Set(images.map((image) => blobPath(image.config.digest)));
    const manifest = (await readVerifiedJson(ctx, "manifest.json")).json;
    if (Array.isArray(manifest)) {
      if (manifest.length > IMAGE_LIMITS.entries) {
        throw formatError(ctx.input, `manifest.json in ${ctx.archive.label} lists ${manifest.length} images, more than the ${IMAGE_LIMITS.entries} allowed`);
      }
      for (const item of manifest) {
        if (isObject(item) && typeof item.Config === "string" && configPaths.has(item.Config)) addRepoTags(ctx, tags, item.RepoTags);
      }
    }
  }
  if (tags.size === 0) {
    const full = entryNames2.filter((n) => !isBareName(n));
    for (const name4 of full.length > 0 ? full : entryNames2) tags.add(name4);
  }
  return [...tags];
}
function addRepoTags(ctx, tags, list2) {
  if (!Array.isArray(list2)) return;
  for (const tag of list2) {
    if (typeof tag !== "string") continue;
    tags.add(tag);
    if (tags.size > IMAGE_LIMITS.repoTags) {
      throw formatError(ctx.input, `${ctx.archive.label} names more than ${IMAGE_LIMITS.repoTags} RepoTags in manifest.json`);
    }
  }
}

// src/core/image/load-docker.ts
var LAYER_TYPES = {
  none: MEDIA_TYPES.ociLayer,
  gzip: MEDIA_TYPES.ociLayerGzip,
  zstd: MEDIA_TYPES.ociLayerZstd
};
async function loadDockerArchive(ctx) {
  const { archive, input } = ctx;
  const label = archive.label;
  const list2 = (await readVerifiedJson(ctx, "manifest.json")).json;
  if (!Array.isArray(list2) || list2.length === 0) throw formatError(input, `manifest.json in ${label} is not a non-empty list`);
  if (list2.length > IMAGE_LIMITS.entries) {
    throw formatError(input, `manifest.json in ${label} lists ${list2.length} images, more than the ${IMAGE_LIMITS.entries} allowed`);
  }
  const candidates = list2.map((entry2, i) => {
    if (!isObject(entry2) || typeof entry2.Config !== "string" || !Array.isArray(entry2.Layers) || !entry2.Layers.every((layer) => typeof layer === "string")) {
      throw formatError(input, `manifest.json in ${label}: entry ${i} needs a Config path and a Layers list`);
    }
    const names = /* @__PURE__ */ new Set();
    addRepoTags(ctx, names, entry2.RepoTags);
    const hex = /^(?:sha256:)?([0-9a-f]{64})(?:\.json)?$/.exec(posix2.basename(entry2.Config));
    return { entry: entry2, names: [...names], digests: hex != null ? [`sha256:${hex[1]}`] : [] };
  });
  const selectContext = { input, refInput: ctx.refInput ?? "image", label };
  const chosen = selectCandidates(candidates, ctx.ref, selectContext);
  if (new Set(chosen.map((c) => c.entry.Config)).size > 1) throw severalImagesError(chosen, selectContext);
  const entry = chosen[0].entry;
  if (entry.Layers.length > IMAGE_LIMITS.layers) {
    throw formatError(input, `manifest.json in ${label} lists ${entry.Layers.length} layers, more than the ${IMAGE_LIMITS.layers} allowed`);
  }
  const configPath = entry.Config;
  const layerPaths = entry.Layers;
  for (const path2 of [configPath, ...layerPaths]) {
    if (!archive.has(path2)) throw formatError(input, `${label} is missing '${path2}', named in manifest.json`);
  }
  const hexMatch = /^(?:sha256:)?([0-9a-f]{64})(?:\.json)?$/.exec(posix2.basename(configPath));
  const { bytes: configBytes, json: configJson } = await readVerifiedJson(ctx, configPath, hexMatch != null ? `sha256:${hexMatch[1]}` : void 0);
  if (!isObject(configJson)) throw formatError(input, `${configPath} in ${label} is not a JSON object`);
  const diffIds = configJson.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || !diffIds.every(isSha256Digest)) {
    throw formatError(input, `${configPath} in ${label} has no valid rootfs.diff_ids (sha256 digests)`);
  }
  if (diffIds.length !== layerPaths.length) {
    throw formatError(input, `${configPath} in ${label} lists ${diffIds.length} diff_ids but manifest.json lists ${layerPaths.length} layers`);
  }
  const config = memoryBlob(configBytes, MEDIA_TYPES.ociConfig);
  const layers = [];
  for (const [i, path2] of layerPaths.entries()) {
    throwIfAborted(ctx.signal);
    const size = archive.size(path2);
    const compression = detectCompression(await readHeadBytes(archive.open(path2), MAGIC_BYTES));
    if (compression === "xz" || compression === "bzip2") {
      throw formatError(input, `layer '${path2}' in ${label} is ${compression}-compressed, which is not supported`);
    }
    const diffId = diffIds[i];
    const digest2 = compression === "none" ? diffId : await compressedLayerDigest(ctx, path2, compression, size, diffId);
    layers.push(archiveBlob(ctx, path2, digest2, size, LAYER_TYPES[compression]));
  }
  const manifest = memoryBlob(jsonBytes({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: layers.map((layer) => ({ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }))
  }), MEDIA_TYPES.ociManifest);
  const platform2 = parsePlatform(configJson, ctx, `config ${configPath}`) ?? { os: "unknown", architecture: "unknown" };
  const blobs = /* @__PURE__ */ new Map();
  for (const blob of [manifest, config, ...layers]) if (!blobs.has(blob.digest)) blobs.set(blob.digest, blob);
  const repoTags = new Set(chosen.flatMap((c) => c.names));
  return {
    root: manifest,
    images: [{ platform: platform2, manifest, config, layers, configJson }],
    blobs: [...blobs.values()],
    repoTags: [...repoTags]
  };
}
async function compressedLayerDigest(ctx, path2, compression, size, diffId) {
  const { archive, input } = ctx;
  const where = `layer '${path2}' in ${archive.label}`;
  const limit = ctx.maxDecompressedSize ?? defaultDecompressedLimit(size);
  let hashed;
  try {
    hashed = await hashCompressed(archive.open(path2), compression, limit);
  } catch (err) {
    if (err instanceof DecompressionLimitError) {
      throw formatError(input, `${where} ${compression}-decompresses to more than ${formatBytes(limit)}; if the image is genuine, raise max-decompressed-size`);
    }
    throw formatError(input, `${where}: cannot ${compression}-decompress it: ${err.message}`, { cause: err });
  }
  if (hashed.size !== size) throw mismatchError(input, `${where} changed while being read`);
  if (hashed.contentDigest !== diffId) {
    throw mismatchError(input, `${where} decompresses to content with digest ${hashed.contentDigest}, but the config's rootfs.diff_ids says ${diffId}`);
  }
  return hashed.digest;
}

// src/core/image/load.ts
async function loadImage(archive, options) {
  throwIfAborted(options.signal);
  const ctx = {
    archive,
    input: options.input,
    signal: options.signal,
    maxDecompressedSize: options.maxDecompressedSize,
    ref: options.ref,
    refInput: options.refInput
  };
  let sourceFormat;
  let graph;
  if (archive.has("oci-layout") && archive.has("index.json")) {
    sourceFormat = archive.has("manifest.json") ? "docker-oci-archive" : "oci-layout";
    graph = await loadOciLayout(ctx);
  } else if (archive.has("manifest.json")) {
    sourceFormat = "docker-archive";
    graph = await loadDockerArchive(ctx);
  } else {
    throw formatError(options.input, `${archive.label} is neither an OCI image layout (oci-layout, index.json) nor a docker save archive (manifest.json)`);
  }
  const primary = graph.images.find((image) => image.platform.os === "linux" && image.platform.architecture === "amd64") ?? graph.images[0];
  if (primary == null) throw formatError(options.input, `${archive.label} holds no container image (only attestations or other artifacts)`);
  const config = isObject(primary.configJson) ? primary.configJson.config : void 0;
  return {
    sourceFormat,
    root: graph.root,
    images: graph.images,
    primary,
    blobs: graph.blobs,
    labels: stringRecord(isObject(config) ? config.Labels : void 0),
    repoTags: graph.repoTags
  };
}

// src/core/image/tag-folder.ts
function tagFolderFiles(image, ref) {
  const { root, primary } = image;
  const index = jsonBytes({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: [{
      mediaType: root.mediaType,
      digest: root.digest,
      size: root.size,
      annotations: {
        "io.containerd.image.name": `${ref.name}:${ref.tag}`,
        "org.opencontainers.image.ref.name": ref.tag
      }
    }]
  });
  const manifest = jsonBytes([{
    Config: blobPath(primary.config.digest),
    RepoTags: [`${ref.name}:${ref.tag}`],
    Layers: primary.layers.map((layer) => blobPath(layer.digest))
  }]);
  const layout = jsonBytes({ imageLayoutVersion: "1.0.0" });
  const files = [
    { path: "oci-layout", size: layout.length, bytes: layout },
    { path: "index.json", size: index.length, bytes: index },
    { path: "manifest.json", size: manifest.length, bytes: manifest }
  ];
  for (const blob of image.blobs) {
    const file = { path: blobPath(blob.digest), size: blob.size, digest: blob.digest, open: () => blob.open() };
    if (blob.chunks != null) file.chunks = blob.chunks.bind(blob);
    if (blob.bytes != null) file.bytes = blob.bytes;
    files.push(file);
  }
  return files.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

// src/core/registry/catalog.ts
var CATALOG_FILE = "catalog.json";
var CATALOG_LIMITS = {
  bytes: 32 * 1024 * 1024,
  /** Nesting of arrays and objects: the schema needs 4 (catalog, images, image, tags, tag, platforms). */
  depth: 8,
  /** JSON values ('{', '[' and ',' outside strings). */
  values: 4e6,
  images: 1e4,
  /** Tags of all images together. */
  tags: 1e5,
  platforms: 64,
  description: 1024,
  revision: 256,
  cid: 256
};
function emptyCatalog() {
  return { schemaVersion: 1, updated: (/* @__PURE__ */ new Date(0)).toISOString(), images: [] };
}
var CatalogProblem = class extends Error {
};
function problem(path2, what) {
  throw new CatalogProblem(`${path2} ${what}`);
}
function checkShape(bytes) {
  const wrong = checkJsonShape(bytes, { depth: CATALOG_LIMITS.depth, values: CATALOG_LIMITS.values });
  if (wrong != null) problem("the JSON", wrong);
}
var TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
function object(value, path2, required, optional = []) {
  if (typeof value !== "object" || value === null || Array.isArray(value)) problem(path2, "is not an object");
  const record = value;
  for (const key of Object.keys(record)) {
    if (!required.includes(key) && !optional.includes(key)) problem(path2, `has an unknown key ${quote(key, 64)}`);
  }
  for (const key of required) if (!(key in record)) problem(path2, `has no '${key}'`);
  return record;
}
function array(value, path2, max) {
  if (!Array.isArray(value)) problem(path2, "is not an array");
  if (value.length > max) problem(path2, `has ${value.length} entries, more than the limit of ${max}`);
  return value;
}
function string(value, path2, max, check) {
  if (typeof value !== "string") problem(path2, "is not a string");
  if (value.length > max) problem(path2, `is ${value.length} characters long, more than the limit of ${max}`);
  if (hasControl(value)) problem(path2, `${quote(value, 64)} contains control characters`);
  if (check != null && !check.test(value)) problem(path2, `${quote(value, 64)} is not ${check.expected}`);
  return value;
}
var timestamp = { test: (s) => TIMESTAMP.test(s) && Number.isFinite(Date.parse(s)), expected: "a UTC timestamp such as 2026-01-31T12:00:00.000Z" };
var platform = {
  test: (s) => {
    const p = s.split("/");
    return p.length >= 2 && p.length <= 3 && p.every((t) => PLATFORM_TOKEN_RE.test(t));
  },
  expected: "a platform such as linux/arm64/v8"
};
var cid = {
  test: (s) => {
    try {
      CID.parse(s);
      return true;
    } catch {
      return false;
    }
  },
  expected: "a CID"
};
function parseTag(value, path2) {
  const t = object(value, path2, ["tag", "digest", "platforms", "size", "cid", "published"], ["revision"]);
  const size = t.size;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) problem(`${path2}.size`, "is not a byte count");
  const tag = {
    tag: string(t.tag, `${path2}.tag`, 128, { test: isTag, expected: "a tag" }),
    digest: string(t.digest, `${path2}.digest`, 256, { test: isDigest, expected: "a digest" }),
    platforms: array(t.platforms, `${path2}.platforms`, CATALOG_LIMITS.platforms).map((p, i) => string(p, `${path2}.platforms[${i}]`, 200, platform)),
    size,
    cid: string(t.cid, `${path2}.cid`, CATALOG_LIMITS.cid, cid),
    published: string(t.published, `${path2}.published`, 64, timestamp)
  };
  if (t.revision !== void 0) tag.revision = string(t.revision, `${path2}.revision`, CATALOG_LIMITS.revision);
  return tag;
}
function parseImage(value, path2) {
  const i = object(value, path2, ["name", "tags"], ["description"]);
  const name4 = string(i.name, `${path2}.name`, 255, { test: isName, expected: "a repository name the registry tree allows" });
  const image = { name: name4, tags: [] };
  if (i.description !== void 0) image.description = string(i.description, `${path2}.description`, CATALOG_LIMITS.description);
  const seen = /* @__PURE__ */ new Set();
  image.tags = array(i.tags, `${path2}.tags`, CATALOG_LIMITS.tags).map((t, n) => {
    const tag = parseTag(t, `${path2}.tags[${n}]`);
    if (seen.has(tag.tag)) problem(`${path2}.tags[${n}].tag`, `'${tag.tag}' is listed twice`);
    seen.add(tag.tag);
    return tag;
  });
  return image;
}
function checkCatalog(value) {
  const c = object(value, "the catalog", ["schemaVersion", "updated", "images"]);
  if (c.schemaVersion !== 1) problem("schemaVersion", "is not 1 (this ipcr writes schema version 1)");
  const updated = string(c.updated, "updated", 64, timestamp);
  const names = /* @__PURE__ */ new Set();
  let tags = 0;
  const images = array(c.images, "images", CATALOG_LIMITS.images).map((item, n) => {
    const image = parseImage(item, `images[${n}]`);
    if (names.has(image.name)) problem(`images[${n}].name`, `'${image.name}' is listed twice`);
    names.add(image.name);
    tags += image.tags.length;
    if (tags > CATALOG_LIMITS.tags) problem("images", `hold more than ${CATALOG_LIMITS.tags} tags together, the limit`);
    return image;
  });
  return { schemaVersion: 1, updated, images };
}
function parseCatalog(bytes, where = "the previous root") {
  const label = `${CATALOG_FILE} of ${where}`;
  try {
    if (bytes.length > CATALOG_LIMITS.bytes) problem("the file", `is ${bytes.length} bytes, more than the limit of ${CATALOG_LIMITS.bytes}`);
    checkShape(bytes);
    let value;
    try {
      value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch (err) {
      problem("the file", `is not valid UTF-8 JSON: ${escapeControl(err.message)}`);
    }
    return checkCatalog(value);
  } catch (err) {
    if (err instanceof CatalogProblem) throw new TreeError(`${label}: ${err.message}`);
    throw err;
  }
}
function updateCatalog(catalog, update) {
  const images = catalog.images.filter((i) => i.name !== update.name);
  const previous = catalog.images.find((i) => i.name === update.name);
  const replaced = new Set(update.tags.map((t) => t.tag));
  const tags = [...(previous?.tags ?? []).filter((t) => !replaced.has(t.tag)), ...update.tags].sort((a, b) => a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0);
  const description = update.description ?? previous?.description;
  images.push({ name: update.name, ...description != null ? { description } : {}, tags });
  images.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  try {
    return checkCatalog({ schemaVersion: 1, updated: update.updated, images });
  } catch (err) {
    if (err instanceof CatalogProblem) throw new TreeError(`${CATALOG_FILE} of the new root: ${err.message}`);
    throw err;
  }
}
function encodeCatalog(catalog) {
  return new TextEncoder().encode(JSON.stringify(catalog, null, 2) + "\n");
}

// node_modules/uint8arrays/dist/src/with-array-buffer.js
function isArrayBufferBacked(arr) {
  return arr.buffer instanceof ArrayBuffer;
}
function withArrayBuffer(arr) {
  if (isArrayBufferBacked(arr)) {
    return arr;
  }
  return arr.slice();
}

// node_modules/ipfs-unixfs/dist/src/errors.js
var InvalidTypeError = class _InvalidTypeError extends Error {
  static name = "InvalidTypeError";
  static code = "ERR_INVALID_TYPE";
  name = _InvalidTypeError.name;
  code = _InvalidTypeError.code;
  constructor(message2 = "Invalid type") {
    super(message2);
  }
};

// node_modules/uint8arrays/dist/src/alloc.node.js
import { Buffer as Buffer2 } from "node:buffer";

// node_modules/uint8arrays/dist/src/util/as-uint8array.node.js
function asUint8Array(buf) {
  if (buf.buffer instanceof ArrayBuffer) {
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  const b = buf.slice();
  return new Uint8Array(b.buffer, 0, b.byteLength);
}

// node_modules/uint8arrays/dist/src/alloc.node.js
function alloc(size = 0) {
  return asUint8Array(Buffer2.alloc(size));
}
function allocUnsafe(size = 0) {
  return asUint8Array(Buffer2.allocUnsafe(size));
}

// node_modules/uint8-varint/dist/src/index.js
var N12 = Math.pow(2, 7);
var N22 = Math.pow(2, 14);
var N32 = Math.pow(2, 21);
var N42 = Math.pow(2, 28);
var N52 = Math.pow(2, 35);
var N62 = Math.pow(2, 42);
var N72 = Math.pow(2, 49);
var MSB2 = 128;
var REST2 = 127;
function encodingLength2(value) {
  if (value < N12) {
    return 1;
  }
  if (value < N22) {
    return 2;
  }
  if (value < N32) {
    return 3;
  }
  if (value < N42) {
    return 4;
  }
  if (value < N52) {
    return 5;
  }
  if (value < N62) {
    return 6;
  }
  if (value < N72) {
    return 7;
  }
  if (Number.MAX_SAFE_INTEGER != null && value > Number.MAX_SAFE_INTEGER) {
    throw new RangeError("Could not encode varint");
  }
  return 8;
}
function encodeUint8Array(value, buf, offset = 0) {
  switch (encodingLength2(value)) {
    case 8: {
      buf[offset++] = value & 255 | MSB2;
      value /= 128;
    }
    case 7: {
      buf[offset++] = value & 255 | MSB2;
      value /= 128;
    }
    case 6: {
      buf[offset++] = value & 255 | MSB2;
      value /= 128;
    }
    case 5: {
      buf[offset++] = value & 255 | MSB2;
      value /= 128;
    }
    case 4: {
      buf[offset++] = value & 255 | MSB2;
      value >>>= 7;
    }
    case 3: {
      buf[offset++] = value & 255 | MSB2;
      value >>>= 7;
    }
    case 2: {
      buf[offset++] = value & 255 | MSB2;
      value >>>= 7;
    }
    case 1: {
      buf[offset++] = value & 255;
      value >>>= 7;
      break;
    }
    default:
      throw new Error("unreachable");
  }
  return buf;
}
function decodeUint8Array(buf, offset) {
  let b = buf[offset];
  let res = 0;
  res += b & REST2;
  if (b < MSB2) {
    return res;
  }
  b = buf[offset + 1];
  res += (b & REST2) << 7;
  if (b < MSB2) {
    return res;
  }
  b = buf[offset + 2];
  res += (b & REST2) << 14;
  if (b < MSB2) {
    return res;
  }
  b = buf[offset + 3];
  res += (b & REST2) << 21;
  if (b < MSB2) {
    return res;
  }
  b = buf[offset + 4];
  res += (b & REST2) * N42;
  if (b < MSB2) {
    return res;
  }
  b = buf[offset + 5];
  res += (b & REST2) * N52;
  if (b < MSB2) {
    return res;
  }
  b = buf[offset + 6];
  res += (b & REST2) * N62;
  if (b < MSB2) {
    return res;
  }
  b = buf[offset + 7];
  res += (b & REST2) * N72;
  if (b < MSB2) {
    return res;
  }
  throw new RangeError("Could not decode varint");
}

// node_modules/protons-runtime/dist/src/utils/float.js
var f32 = new Float32Array([-0]);
var f8b = new Uint8Array(f32.buffer);
function writeFloatLE(val, buf, pos) {
  f32[0] = val;
  buf[pos] = f8b[0];
  buf[pos + 1] = f8b[1];
  buf[pos + 2] = f8b[2];
  buf[pos + 3] = f8b[3];
}
function readFloatLE(buf, pos) {
  f8b[0] = buf[pos];
  f8b[1] = buf[pos + 1];
  f8b[2] = buf[pos + 2];
  f8b[3] = buf[pos + 3];
  return f32[0];
}
var f64 = new Float64Array([-0]);
var d8b = new Uint8Array(f64.buffer);
function writeDoubleLE(val, buf, pos) {
  f64[0] = val;
  buf[pos] = d8b[0];
  buf[pos + 1] = d8b[1];
  buf[pos + 2] = d8b[2];
  buf[pos + 3] = d8b[3];
  buf[pos + 4] = d8b[4];
  buf[pos + 5] = d8b[5];
  buf[pos + 6] = d8b[6];
  buf[pos + 7] = d8b[7];
}
function readDoubleLE(buf, pos) {
  d8b[0] = buf[pos];
  d8b[1] = buf[pos + 1];
  d8b[2] = buf[pos + 2];
  d8b[3] = buf[pos + 3];
  d8b[4] = buf[pos + 4];
  d8b[5] = buf[pos + 5];
  d8b[6] = buf[pos + 6];
  d8b[7] = buf[pos + 7];
  return f64[0];
}

// node_modules/protons-runtime/dist/src/utils/longbits.js
var MAX_SAFE_NUMBER_INTEGER = BigInt(Number.MAX_SAFE_INTEGER);
var MIN_SAFE_NUMBER_INTEGER = BigInt(Number.MIN_SAFE_INTEGER);
var LongBits = class _LongBits {
  lo;
  hi;
  constructor(lo, hi) {
    this.lo = lo | 0;
    this.hi = hi | 0;
  }
  /**
   * Converts this long bits to a possibly unsafe JavaScript number
   */
  toNumber(unsigned = false) {
    if (!unsigned && this.hi >>> 31 > 0) {
      const lo = ~this.lo + 1 >>> 0;
      let hi = ~this.hi >>> 0;
      if (lo === 0) {
        hi = hi + 1 >>> 0;
      }
      return -(lo + hi * 4294967296);
    }
    return this.lo + this.hi * 4294967296;
  }
  /**
   * Converts this long bits to a bigint
   */
  toBigInt(unsigned = false) {
    if (unsigned) {
      return BigInt(this.lo >>> 0) + (BigInt(this.hi >>> 0) << 32n);
    }
    if (this.hi >>> 31 !== 0) {
      const lo = ~this.lo + 1 >>> 0;
      let hi = ~this.hi >>> 0;
      if (lo === 0) {
        hi = hi + 1 >>> 0;
      }
      return -(BigInt(lo) + (BigInt(hi) << 32n));
    }
    return BigInt(this.lo >>> 0) + (BigInt(this.hi >>> 0) << 32n);
  }
  /**
   * Converts this long bits to a string
   */
  toString(unsigned = false) {
    return this.toBigInt(unsigned).toString();
  }
  /**
   * Zig-zag encodes this long bits
   */
  zzEncode() {
    const mask = this.hi >> 31;
    this.hi = ((this.hi << 1 | this.lo >>> 31) ^ mask) >>> 0;
    this.lo = (this.lo << 1 ^ mask) >>> 0;
    return this;
  }
  /**
   * Zig-zag decodes this long bits
   */
  zzDecode() {
    const mask = -(this.lo & 1);
    this.lo = ((this.lo >>> 1 | this.hi << 31) ^ mask) >>> 0;
    this.hi = (this.hi >>> 1 ^ mask) >>> 0;
    return this;
  }
  /**
   * Calculates the length of this longbits when encoded as a varint.
   */
  length() {
    const part0 = this.lo;
    const part1 = (this.lo >>> 28 | this.hi << 4) >>> 0;
    const part2 = this.hi >>> 24;
    return part2 === 0 ? part1 === 0 ? part0 < 16384 ? part0 < 128 ? 1 : 2 : part0 < 2097152 ? 3 : 4 : part1 < 16384 ? part1 < 128 ? 5 : 6 : part1 < 2097152 ? 7 : 8 : part2 < 128 ? 9 : 10;
  }
  /**
   * Constructs new long bits from the specified number
   */
  static fromBigInt(value) {
    if (value === 0n) {
      return zero;
    }
    if (value < MAX_SAFE_NUMBER_INTEGER && value > MIN_SAFE_NUMBER_INTEGER) {
      return this.fromNumber(Number(value));
    }
    const negative = value < 0n;
    if (negative) {
      value = -value;
    }
    let hi = value >> 32n;
    let lo = value - (hi << 32n);
    if (negative) {
      hi = ~hi | 0n;
      lo = ~lo | 0n;
      if (++lo > TWO_32) {
        lo = 0n;
        if (++hi > TWO_32) {
          hi = 0n;
        }
      }
    }
    return new _LongBits(Number(lo), Number(hi));
  }
  /**
   * Constructs new long bits from the specified number
   */
  static fromNumber(value) {
    if (value === 0) {
      return zero;
    }
    const sign = value < 0;
    if (sign) {
      value = -value;
    }
    let lo = value >>> 0;
    let hi = (value - lo) / 4294967296 >>> 0;
    if (sign) {
      hi = ~hi >>> 0;
      lo = ~lo >>> 0;
      if (++lo > 4294967295) {
        lo = 0;
        if (++hi > 4294967295) {
          hi = 0;
        }
      }
    }
    return new _LongBits(lo, hi);
  }
  /**
   * Constructs new long bits from a number, long or string
   */
  static from(value) {
    if (typeof value === "number") {
      return _LongBits.fromNumber(value);
    }
    if (typeof value === "bigint") {
      return _LongBits.fromBigInt(value);
    }
    if (typeof value === "string") {
      return _LongBits.fromBigInt(BigInt(value));
    }
    return value.low != null || value.high != null ? new _LongBits(value.low >>> 0, value.high >>> 0) : zero;
  }
};
var zero = new LongBits(0, 0);
zero.toBigInt = function() {
  return 0n;
};
zero.zzEncode = zero.zzDecode = function() {
  return this;
};
zero.length = function() {
  return 1;
};
var TWO_32 = 4294967296n;

// node_modules/protons-runtime/dist/src/utils/utf8.js
function length2(string3) {
  let len = 0;
  let c = 0;
  for (let i = 0; i < string3.length; ++i) {
    c = string3.charCodeAt(i);
    if (c < 128) {
      len += 1;
    } else if (c < 2048) {
      len += 2;
    } else if ((c & 64512) === 55296 && (string3.charCodeAt(i + 1) & 64512) === 56320) {
      ++i;
      len += 4;
    } else {
      len += 3;
    }
  }
  return len;
}
function read2(buffer2, start, end) {
  const len = end - start;
  if (len < 1) {
    return "";
  }
  let parts;
  const chunk = [];
  let i = 0;
  let t;
  while (start < end) {
    t = buffer2[start++];
    if (t < 128) {
      chunk[i++] = t;
    } else if (t > 191 && t < 224) {
      chunk[i++] = (t & 31) << 6 | buffer2[start++] & 63;
    } else if (t > 239 && t < 365) {
      t = ((t & 7) << 18 | (buffer2[start++] & 63) << 12 | (buffer2[start++] & 63) << 6 | buffer2[start++] & 63) - 65536;
      chunk[i++] = 55296 + (t >> 10);
      chunk[i++] = 56320 + (t & 1023);
    } else {
      chunk[i++] = (t & 15) << 12 | (buffer2[start++] & 63) << 6 | buffer2[start++] & 63;
    }
    if (i > 8191) {
      (parts ?? (parts = [])).push(String.fromCharCode.apply(String, chunk));
      i = 0;
    }
  }
  if (parts != null) {
    if (i > 0) {
      parts.push(String.fromCharCode.apply(String, chunk.slice(0, i)));
    }
    return parts.join("");
  }
  return String.fromCharCode.apply(String, chunk.slice(0, i));
}
function write(string3, buffer2, offset) {
  const start = offset;
  let c1;
  let c2;
  for (let i = 0; i < string3.length; ++i) {
    c1 = string3.charCodeAt(i);
    if (c1 < 128) {
      buffer2[offset++] = c1;
    } else if (c1 < 2048) {
      buffer2[offset++] = c1 >> 6 | 192;
      buffer2[offset++] = c1 & 63 | 128;
    } else if ((c1 & 64512) === 55296 && ((c2 = string3.charCodeAt(i + 1)) & 64512) === 56320) {
      c1 = 65536 + ((c1 & 1023) << 10) + (c2 & 1023);
      ++i;
      buffer2[offset++] = c1 >> 18 | 240;
      buffer2[offset++] = c1 >> 12 & 63 | 128;
      buffer2[offset++] = c1 >> 6 & 63 | 128;
      buffer2[offset++] = c1 & 63 | 128;
    } else {
      buffer2[offset++] = c1 >> 12 | 224;
      buffer2[offset++] = c1 >> 6 & 63 | 128;
      buffer2[offset++] = c1 & 63 | 128;
    }
  }
  return offset - start;
}

// node_modules/protons-runtime/dist/src/utils/reader.js
function indexOutOfRange(reader, writeLength) {
  return RangeError(`index out of range: ${reader.pos} + ${writeLength ?? 1} > ${reader.len}`);
}
function readFixed32End(buf, end) {
  return (buf[end - 4] | buf[end - 3] << 8 | buf[end - 2] << 16 | buf[end - 1] << 24) >>> 0;
}
var Uint8ArrayReader = class {
  buf;
  pos;
  len;
  _slice = Uint8Array.prototype.subarray;
  constructor(buffer2) {
    this.buf = withArrayBuffer(buffer2);
    this.pos = 0;
    this.len = buffer2.length;
  }
  /**
   * Reads a varint as an unsigned 32 bit value
   */
  uint32() {
    let value = 4294967295;
    value = (this.buf[this.pos] & 127) >>> 0;
    if (this.buf[this.pos++] < 128) {
      return value;
    }
    value = (value | (this.buf[this.pos] & 127) << 7) >>> 0;
    if (this.buf[this.pos++] < 128) {
      return value;
    }
    value = (value | (this.buf[this.pos] & 127) << 14) >>> 0;
    if (this.buf[this.pos++] < 128) {
      return value;
    }
    value = (value | (this.buf[this.pos] & 127) << 21) >>> 0;
    if (this.buf[this.pos++] < 128) {
      return value;
    }
    value = (value | (this.buf[this.pos] & 15) << 28) >>> 0;
    if (this.buf[this.pos++] < 128) {
      return value;
    }
    if ((this.pos += 5) > this.len) {
      this.pos = this.len;
      throw indexOutOfRange(this, 10);
    }
    return value;
  }
  /**
   * Reads a varint as a signed 32 bit value
   */
  int32() {
    return this.uint32() | 0;
  }
  /**
   * Reads a zig-zag encoded varint as a signed 32 bit value
   */
  sint32() {
    const value = this.uint32();
    return value >>> 1 ^ -(value & 1) | 0;
  }
  /**
   * Reads a varint as a boolean
   */
  bool() {
    return this.uint32() !== 0;
  }
  /**
   * Reads fixed 32 bits as an unsigned 32 bit integer
   */
  fixed32() {
    if (this.pos + 4 > this.len) {
      throw indexOutOfRange(this, 4);
    }
    const res = readFixed32End(this.buf, this.pos += 4);
    return res;
  }
  /**
   * Reads fixed 32 bits as a signed 32 bit integer
   */
  sfixed32() {
    if (this.pos + 4 > this.len) {
      throw indexOutOfRange(this, 4);
    }
    const res = readFixed32End(this.buf, this.pos += 4) | 0;
    return res;
  }
  /**
   * Reads a float (32 bit) as a number
   */
  float() {
    if (this.pos + 4 > this.len) {
      throw indexOutOfRange(this, 4);
    }
    const value = readFloatLE(this.buf, this.pos);
    this.pos += 4;
    return value;
  }
  /**
   * Reads a double (64 bit float) as a number
   */
  double() {
    if (this.pos + 8 > this.len) {
      throw indexOutOfRange(this, 4);
    }
    const value = readDoubleLE(this.buf, this.pos);
    this.pos += 8;
    return value;
  }
  /**
   * Reads a sequence of bytes preceded by its length as a varint
   */
  bytes() {
    const length3 = this.uint32();
    const start = this.pos;
    const end = this.pos + length3;
    if (end > this.len) {
      throw indexOutOfRange(this, length3);
    }
    this.pos += length3;
    return start === end ? new Uint8Array(0) : this.buf.subarray(start, end);
  }
  /**
   * Reads a string preceded by its byte length as a varint
   */
  string() {
    const bytes = this.bytes();
    return read2(bytes, 0, bytes.length);
  }
  /**
   * Skips the specified number of bytes if specified, otherwise skips a varint
   */
  skip(length3) {
    if (typeof length3 === "number") {
      if (this.pos + length3 > this.len) {
        throw indexOutOfRange(this, length3);
      }
      this.pos += length3;
    } else {
      do {
        if (this.pos >= this.len) {
          throw indexOutOfRange(this);
        }
      } while ((this.buf[this.pos++] & 128) !== 0);
    }
    return this;
  }
  /**
   * Skips the next element of the specified wire type
   */
  skipType(wireType) {
    switch (wireType) {
      case 0:
        this.skip();
        break;
      case 1:
        this.skip(8);
        break;
      case 2:
        this.skip(this.uint32());
        break;
      case 3:
        while ((wireType = this.uint32() & 7) !== 4) {
          this.skipType(wireType);
        }
        break;
      case 5:
        this.skip(4);
        break;
      /* istanbul ignore next */
      default:
        throw Error(`invalid wire type ${wireType} at offset ${this.pos}`);
    }
    return this;
  }
  readLongVarint() {
    const bits = new LongBits(0, 0);
    let i = 0;
    if (this.len - this.pos > 4) {
      for (; i < 4; ++i) {
        bits.lo = (bits.lo | (this.buf[this.pos] & 127) << i * 7) >>> 0;
        if (this.buf[this.pos++] < 128) {
          return bits;
        }
      }
      bits.lo = (bits.lo | (this.buf[this.pos] & 127) << 28) >>> 0;
      bits.hi = (bits.hi | (this.buf[this.pos] & 127) >> 4) >>> 0;
      if (this.buf[this.pos++] < 128) {
        return bits;
      }
      i = 0;
    } else {
      for (; i < 3; ++i) {
        if (this.pos >= this.len) {
          throw indexOutOfRange(this);
        }
        bits.lo = (bits.lo | (this.buf[this.pos] & 127) << i * 7) >>> 0;
        if (this.buf[this.pos++] < 128) {
          return bits;
        }
      }
      bits.lo = (bits.lo | (this.buf[this.pos++] & 127) << i * 7) >>> 0;
      return bits;
    }
    if (this.len - this.pos > 4) {
      for (; i < 5; ++i) {
        bits.hi = (bits.hi | (this.buf[this.pos] & 127) << i * 7 + 3) >>> 0;
        if (this.buf[this.pos++] < 128) {
          return bits;
        }
      }
    } else {
      for (; i < 5; ++i) {
        if (this.pos >= this.len) {
          throw indexOutOfRange(this);
        }
        bits.hi = (bits.hi | (this.buf[this.pos] & 127) << i * 7 + 3) >>> 0;
        if (this.buf[this.pos++] < 128) {
          return bits;
        }
      }
    }
    throw Error("invalid varint encoding");
  }
  readFixed64() {
    if (this.pos + 8 > this.len) {
      throw indexOutOfRange(this, 8);
    }
    const lo = readFixed32End(this.buf, this.pos += 4);
    const hi = readFixed32End(this.buf, this.pos += 4);
    return new LongBits(lo, hi);
  }
  /**
   * Reads a varint as a signed 64 bit value
   */
  int64() {
    return this.readLongVarint().toBigInt();
  }
  /**
   * Reads a varint as a signed 64 bit value returned as a possibly unsafe
   * JavaScript number
   */
  int64Number() {
    return this.readLongVarint().toNumber();
  }
  /**
   * Reads a varint as a signed 64 bit value returned as a string
   */
  int64String() {
    return this.readLongVarint().toString();
  }
  /**
   * Reads a varint as an unsigned 64 bit value
   */
  uint64() {
    return this.readLongVarint().toBigInt(true);
  }
  /**
   * Reads a varint as an unsigned 64 bit value returned as a possibly unsafe
   * JavaScript number
   */
  uint64Number() {
    const value = decodeUint8Array(this.buf, this.pos);
    this.pos += encodingLength2(value);
    return value;
  }
  /**
   * Reads a varint as an unsigned 64 bit value returned as a string
   */
  uint64String() {
    return this.readLongVarint().toString(true);
  }
  /**
   * Reads a zig-zag encoded varint as a signed 64 bit value
   */
  sint64() {
    return this.readLongVarint().zzDecode().toBigInt();
  }
  /**
   * Reads a zig-zag encoded varint as a signed 64 bit value returned as a
   * possibly unsafe JavaScript number
   */
  sint64Number() {
    return this.readLongVarint().zzDecode().toNumber();
  }
  /**
   * Reads a zig-zag encoded varint as a signed 64 bit value returned as a
   * string
   */
  sint64String() {
    return this.readLongVarint().zzDecode().toString();
  }
  /**
   * Reads fixed 64 bits
   */
  fixed64() {
    return this.readFixed64().toBigInt();
  }
  /**
   * Reads fixed 64 bits returned as a possibly unsafe JavaScript number
   */
  fixed64Number() {
    return this.readFixed64().toNumber();
  }
  /**
   * Reads fixed 64 bits returned as a string
   */
  fixed64String() {
    return this.readFixed64().toString();
  }
  /**
   * Reads zig-zag encoded fixed 64 bits
   */
  sfixed64() {
    return this.readFixed64().toBigInt();
  }
  /**
   * Reads zig-zag encoded fixed 64 bits returned as a possibly unsafe
   * JavaScript number
   */
  sfixed64Number() {
    return this.readFixed64().toNumber();
  }
  /**
   * Reads zig-zag encoded fixed 64 bits returned as a string
   */
  sfixed64String() {
    return this.readFixed64().toString();
  }
};
function createReader(buf) {
  return new Uint8ArrayReader(buf instanceof Uint8Array ? buf : buf.subarray());
}

// node_modules/protons-runtime/dist/src/decode.js
function decodeMessage(buf, codec, opts) {
  const reader = createReader(buf);
  return codec.decode(reader, void 0, opts);
}

// node_modules/uint8arrays/dist/src/from-string.node.js
import { Buffer as Buffer3 } from "node:buffer";

// node_modules/multiformats/dist/src/bases/base10.js
var base10_exports = {};
__export(base10_exports, {
  base10: () => base10
});
var base10 = baseX({
  prefix: "9",
  name: "base10",
  alphabet: "0123456789"
});

// node_modules/multiformats/dist/src/bases/base16.js
var base16_exports = {};
__export(base16_exports, {
  base16: () => base16,
  base16upper: () => base16upper
});
var base16 = rfc4648({
  prefix: "f",
  name: "base16",
  alphabet: "0123456789abcdef",
  bitsPerChar: 4,
  caseInsensitive: true
});
var base16upper = rfc4648({
  prefix: "F",
  name: "base16upper",
  alphabet: "0123456789ABCDEF",
  bitsPerChar: 4,
  caseInsensitive: true
});

// node_modules/multiformats/dist/src/bases/base2.js
var base2_exports = {};
__export(base2_exports, {
  base2: () => base2
});
var base2 = rfc4648({
  prefix: "0",
  name: "base2",
  alphabet: "01",
  bitsPerChar: 1
});

// node_modules/multiformats/dist/src/bases/base256emoji.js
var base256emoji_exports = {};
__export(base256emoji_exports, {
  base256emoji: () => base256emoji
});
var alphabet = Array.from("\u{1F680}\u{1FA90}\u2604\u{1F6F0}\u{1F30C}\u{1F311}\u{1F312}\u{1F313}\u{1F314}\u{1F315}\u{1F316}\u{1F317}\u{1F318}\u{1F30D}\u{1F30F}\u{1F30E}\u{1F409}\u2600\u{1F4BB}\u{1F5A5}\u{1F4BE}\u{1F4BF}\u{1F602}\u2764\u{1F60D}\u{1F923}\u{1F60A}\u{1F64F}\u{1F495}\u{1F62D}\u{1F618}\u{1F44D}\u{1F605}\u{1F44F}\u{1F601}\u{1F525}\u{1F970}\u{1F494}\u{1F496}\u{1F499}\u{1F622}\u{1F914}\u{1F606}\u{1F644}\u{1F4AA}\u{1F609}\u263A\u{1F44C}\u{1F917}\u{1F49C}\u{1F614}\u{1F60E}\u{1F607}\u{1F339}\u{1F926}\u{1F389}\u{1F49E}\u270C\u2728\u{1F937}\u{1F631}\u{1F60C}\u{1F338}\u{1F64C}\u{1F60B}\u{1F497}\u{1F49A}\u{1F60F}\u{1F49B}\u{1F642}\u{1F493}\u{1F929}\u{1F604}\u{1F600}\u{1F5A4}\u{1F603}\u{1F4AF}\u{1F648}\u{1F447}\u{1F3B6}\u{1F612}\u{1F92D}\u2763\u{1F61C}\u{1F48B}\u{1F440}\u{1F62A}\u{1F611}\u{1F4A5}\u{1F64B}\u{1F61E}\u{1F629}\u{1F621}\u{1F92A}\u{1F44A}\u{1F973}\u{1F625}\u{1F924}\u{1F449}\u{1F483}\u{1F633}\u270B\u{1F61A}\u{1F61D}\u{1F634}\u{1F31F}\u{1F62C}\u{1F643}\u{1F340}\u{1F337}\u{1F63B}\u{1F613}\u2B50\u2705\u{1F97A}\u{1F308}\u{1F608}\u{1F918}\u{1F4A6}\u2714\u{1F623}\u{1F3C3}\u{1F490}\u2639\u{1F38A}\u{1F498}\u{1F620}\u261D\u{1F615}\u{1F33A}\u{1F382}\u{1F33B}\u{1F610}\u{1F595}\u{1F49D}\u{1F64A}\u{1F639}\u{1F5E3}\u{1F4AB}\u{1F480}\u{1F451}\u{1F3B5}\u{1F91E}\u{1F61B}\u{1F534}\u{1F624}\u{1F33C}\u{1F62B}\u26BD\u{1F919}\u2615\u{1F3C6}\u{1F92B}\u{1F448}\u{1F62E}\u{1F646}\u{1F37B}\u{1F343}\u{1F436}\u{1F481}\u{1F632}\u{1F33F}\u{1F9E1}\u{1F381}\u26A1\u{1F31E}\u{1F388}\u274C\u270A\u{1F44B}\u{1F630}\u{1F928}\u{1F636}\u{1F91D}\u{1F6B6}\u{1F4B0}\u{1F353}\u{1F4A2}\u{1F91F}\u{1F641}\u{1F6A8}\u{1F4A8}\u{1F92C}\u2708\u{1F380}\u{1F37A}\u{1F913}\u{1F619}\u{1F49F}\u{1F331}\u{1F616}\u{1F476}\u{1F974}\u25B6\u27A1\u2753\u{1F48E}\u{1F4B8}\u2B07\u{1F628}\u{1F31A}\u{1F98B}\u{1F637}\u{1F57A}\u26A0\u{1F645}\u{1F61F}\u{1F635}\u{1F44E}\u{1F932}\u{1F920}\u{1F927}\u{1F4CC}\u{1F535}\u{1F485}\u{1F9D0}\u{1F43E}\u{1F352}\u{1F617}\u{1F911}\u{1F30A}\u{1F92F}\u{1F437}\u260E\u{1F4A7}\u{1F62F}\u{1F486}\u{1F446}\u{1F3A4}\u{1F647}\u{1F351}\u2744\u{1F334}\u{1F4A3}\u{1F438}\u{1F48C}\u{1F4CD}\u{1F940}\u{1F922}\u{1F445}\u{1F4A1}\u{1F4A9}\u{1F450}\u{1F4F8}\u{1F47B}\u{1F910}\u{1F92E}\u{1F3BC}\u{1F975}\u{1F6A9}\u{1F34E}\u{1F34A}\u{1F47C}\u{1F48D}\u{1F4E3}\u{1F942}");
var alphabetBytesToChars = alphabet.reduce((p, c, i) => {
  p[i] = c;
  return p;
}, []);
var alphabetCharsToBytes = alphabet.reduce((p, c, i) => {
  const codePoint = c.codePointAt(0);
  if (codePoint == null) {
    throw new Error(`Invalid character: ${c}`);
  }
  p[codePoint] = i;
  return p;
}, []);
function encode4(data) {
  return data.reduce((p, c) => {
    p += alphabetBytesToChars[c];
    return p;
  }, "");
}
function decode6(str2) {
  const byts = [];
  for (const char of str2) {
    const codePoint = char.codePointAt(0);
    if (codePoint == null) {
      throw new Error(`Invalid character: ${char}`);
    }
    const byt = alphabetCharsToBytes[codePoint];
    if (byt == null) {
      throw new Error(`Non-base256emoji character: ${char}`);
    }
    byts.push(byt);
  }
  return new Uint8Array(byts);
}
var base256emoji = from({
  prefix: "\u{1F680}",
  name: "base256emoji",
  encode: encode4,
  decode: decode6
});

// node_modules/multiformats/dist/src/bases/base8.js
var base8_exports = {};
__export(base8_exports, {
  base8: () => base8
});
var base8 = rfc4648({
  prefix: "7",
  name: "base8",
  alphabet: "01234567",
  bitsPerChar: 3
});

// node_modules/multiformats/dist/src/bases/identity.js
var identity_exports = {};
__export(identity_exports, {
  identity: () => identity
});
var identity = from({
  prefix: "\0",
  name: "identity",
  encode: (buf) => toString(coerce(buf)),
  decode: (str2) => coerce(fromString(str2))
});

// node_modules/multiformats/dist/src/codecs/json.js
var textEncoder3 = new TextEncoder();
var textDecoder2 = new TextDecoder();

// node_modules/multiformats/dist/src/codecs/raw.js
var raw_exports = {};
__export(raw_exports, {
  code: () => code2,
  decode: () => decode7,
  encode: () => encode5,
  name: () => name2
});
var name2 = "raw";
var code2 = 85;
function encode5(node) {
  return coerce(node);
}
function decode7(data) {
  return coerce(data);
}

// node_modules/multiformats/dist/src/hashes/identity.js
var identity_exports2 = {};
__export(identity_exports2, {
  identity: () => identity2
});
var code3 = 0;
var name3 = "identity";
var encode6 = coerce;
function digest(input, options) {
  if (options?.truncate != null && options.truncate !== input.byteLength) {
    if (options.truncate < 0 || options.truncate > input.byteLength) {
      throw new Error(`Invalid truncate option, must be less than or equal to ${input.byteLength}`);
    }
    input = input.subarray(0, options.truncate);
  }
  return create(code3, encode6(input));
}
var identity2 = { code: code3, name: name3, encode: encode6, digest };

// node_modules/multiformats/dist/src/hashes/sha2.js
var sha2_exports = {};
__export(sha2_exports, {
  sha256: () => sha256,
  sha512: () => sha512
});
import crypto2 from "node:crypto";
var sha256 = from2({
  name: "sha2-256",
  code: 18,
  encode: (input) => coerce(crypto2.createHash("sha256").update(input).digest())
});
var sha512 = from2({
  name: "sha2-512",
  code: 19,
  encode: (input) => coerce(crypto2.createHash("sha512").update(input).digest())
});

// node_modules/multiformats/dist/src/basics.js
var bases = { ...identity_exports, ...base2_exports, ...base8_exports, ...base10_exports, ...base16_exports, ...base32_exports, ...base36_exports, ...base58_exports, ...base64_exports, ...base256emoji_exports };
var hashes = { ...sha2_exports, ...identity_exports2 };

// node_modules/uint8arrays/dist/src/util/bases.js
function createCodec(name4, prefix, encode8, decode10) {
  return {
    name: name4,
    prefix,
    encoder: {
      name: name4,
      prefix,
      encode: encode8
    },
    decoder: {
      decode: decode10
    }
  };
}
var string2 = createCodec("utf8", "u", (buf) => {
  const decoder = new TextDecoder("utf8");
  return "u" + decoder.decode(buf);
}, (str2) => {
  const encoder5 = new TextEncoder();
  return encoder5.encode(str2.substring(1));
});
var ascii = createCodec("ascii", "a", (buf) => {
  let string3 = "a";
  for (let i = 0; i < buf.length; i++) {
    string3 += String.fromCharCode(buf[i]);
  }
  return string3;
}, (str2) => {
  str2 = str2.substring(1);
  const buf = allocUnsafe(str2.length);
  for (let i = 0; i < str2.length; i++) {
    buf[i] = str2.charCodeAt(i);
  }
  return buf;
});
var BASES = {
  utf8: string2,
  "utf-8": string2,
  hex: bases.base16,
  latin1: ascii,
  ascii,
  binary: ascii,
  ...bases
};
var bases_default = BASES;

// node_modules/uint8arrays/dist/src/from-string.node.js
function fromString2(string3, encoding = "utf8") {
  const base3 = bases_default[encoding];
  if (base3 == null) {
    throw new Error(`Unsupported encoding "${encoding}"`);
  }
  if (encoding === "utf8" || encoding === "utf-8") {
    return asUint8Array(Buffer3.from(string3, "utf-8"));
  }
  return base3.decoder.decode(`${base3.prefix}${string3}`);
}

// node_modules/protons-runtime/dist/src/utils/pool.js
function pool(size) {
  const SIZE = size ?? 8192;
  const MAX = SIZE >>> 1;
  let slab;
  let offset = SIZE;
  return function poolAlloc(size2) {
    if (size2 < 1 || size2 > MAX) {
      return allocUnsafe(size2);
    }
    if (offset + size2 > SIZE) {
      slab = allocUnsafe(SIZE);
      offset = 0;
    }
    const buf = slab.subarray(offset, offset += size2);
    if ((offset & 7) !== 0) {
      offset = (offset | 7) + 1;
    }
    return buf;
  };
}

// node_modules/protons-runtime/dist/src/utils/writer.js
var Op = class {
  /**
   * Function to call
   */
  fn;
  /**
   * Value byte length
   */
  len;
  /**
   * Next operation
   */
  next;
  /**
   * Value to write
   */
  val;
  constructor(fn, len, val) {
    this.fn = fn;
    this.len = len;
    this.next = void 0;
    this.val = val;
  }
};
function noop() {
}
var State = class {
  /**
   * Current head
   */
  head;
  /**
   * Current tail
   */
  tail;
  /**
   * Current buffer length
   */
  len;
  /**
   * Next state
   */
  next;
  constructor(writer) {
    this.head = writer.head;
    this.tail = writer.tail;
    this.len = writer.len;
    this.next = writer.states;
  }
};
var bufferPool = pool();
function alloc2(size) {
  if (globalThis.Buffer != null) {
    return allocUnsafe(size);
  }
  return bufferPool(size);
}
var Uint8ArrayWriter = class {
  /**
   * Current length
   */
  len;
  /**
   * Operations head
   */
  head;
  /**
   * Operations tail
   */
  tail;
  /**
   * Linked forked states
   */
  states;
  constructor() {
    this.len = 0;
    this.head = new Op(noop, 0, 0);
    this.tail = this.head;
    this.states = null;
  }
  /**
   * Pushes a new operation to the queue
   */
  _push(fn, len, val) {
    this.tail = this.tail.next = new Op(fn, len, val);
    this.len += len;
    return this;
  }
  /**
   * Writes an unsigned 32 bit value as a varint
   */
  uint32(value) {
    this.len += (this.tail = this.tail.next = new VarintOp((value = value >>> 0) < 128 ? 1 : value < 16384 ? 2 : value < 2097152 ? 3 : value < 268435456 ? 4 : 5, value)).len;
    return this;
  }
  /**
   * Writes a signed 32 bit value as a varint`
   */
  int32(value) {
    return value < 0 ? this._push(writeVarint64, 10, LongBits.fromNumber(value)) : this.uint32(value);
  }
  /**
   * Writes a 32 bit value as a varint, zig-zag encoded
   */
  sint32(value) {
    return this.uint32((value << 1 ^ value >> 31) >>> 0);
  }
  /**
   * Writes an unsigned 64 bit value as a varint
   */
  uint64(value) {
    const bits = LongBits.fromBigInt(value);
    return this._push(writeVarint64, bits.length(), bits);
  }
  /**
   * Writes an unsigned 64 bit value as a varint
   */
  uint64Number(value) {
    return this._push(encodeUint8Array, encodingLength2(value), value);
  }
  /**
   * Writes an unsigned 64 bit value as a varint
   */
  uint64String(value) {
    return this.uint64(BigInt(value));
  }
  /**
   * Writes a signed 64 bit value as a varint
   */
  int64(value) {
    return this.uint64(value);
  }
  /**
   * Writes a signed 64 bit value as a varint
   */
  int64Number(value) {
    return this.uint64Number(value);
  }
  /**
   * Writes a signed 64 bit value as a varint
   */
  int64String(value) {
    return this.uint64String(value);
  }
  /**
   * Writes a signed 64 bit value as a varint, zig-zag encoded
   */
  sint64(value) {
    const bits = LongBits.fromBigInt(value).zzEncode();
    return this._push(writeVarint64, bits.length(), bits);
  }
  /**
   * Writes a signed 64 bit value as a varint, zig-zag encoded
   */
  sint64Number(value) {
    const bits = LongBits.fromNumber(value).zzEncode();
    return this._push(writeVarint64, bits.length(), bits);
  }
  /**
   * Writes a signed 64 bit value as a varint, zig-zag encoded
   */
  sint64String(value) {
    return this.sint64(BigInt(value));
  }
  /**
   * Writes a boolish value as a varint
   */
  bool(value) {
    return this._push(writeByte, 1, value ? 1 : 0);
  }
  /**
   * Writes an unsigned 32 bit value as fixed 32 bits
   */
  fixed32(value) {
    return this._push(writeFixed32, 4, value >>> 0);
  }
  /**
   * Writes a signed 32 bit value as fixed 32 bits
   */
  sfixed32(value) {
    return this.fixed32(value);
  }
  /**
   * Writes an unsigned 64 bit value as fixed 64 bits
   */
  fixed64(value) {
    const bits = LongBits.fromBigInt(value);
    return this._push(writeFixed32, 4, bits.lo)._push(writeFixed32, 4, bits.hi);
  }
  /**
   * Writes an unsigned 64 bit value as fixed 64 bits
   */
  fixed64Number(value) {
    const bits = LongBits.fromNumber(value);
    return this._push(writeFixed32, 4, bits.lo)._push(writeFixed32, 4, bits.hi);
  }
  /**
   * Writes an unsigned 64 bit value as fixed 64 bits
   */
  fixed64String(value) {
    return this.fixed64(BigInt(value));
  }
  /**
   * Writes a signed 64 bit value as fixed 64 bits
   */
  sfixed64(value) {
    return this.fixed64(value);
  }
  /**
   * Writes a signed 64 bit value as fixed 64 bits
   */
  sfixed64Number(value) {
    return this.fixed64Number(value);
  }
  /**
   * Writes a signed 64 bit value as fixed 64 bits
   */
  sfixed64String(value) {
    return this.fixed64String(value);
  }
  /**
   * Writes a float (32 bit)
   */
  float(value) {
    return this._push(writeFloatLE, 4, value);
  }
  /**
   * Writes a double (64 bit float).
   *
   * @function
   * @param {number} value - Value to write
   * @returns {Writer} `this`
   */
  double(value) {
    return this._push(writeDoubleLE, 8, value);
  }
  /**
   * Writes a sequence of bytes
   */
  bytes(value) {
    const len = value.length >>> 0;
    if (len === 0) {
      return this._push(writeByte, 1, 0);
    }
    return this.uint32(len)._push(writeBytes, len, value);
  }
  /**
   * Writes a string
   */
  string(value) {
    const len = length2(value);
    return len !== 0 ? this.uint32(len)._push(write, len, value) : this._push(writeByte, 1, 0);
  }
  /**
   * Forks this writer's state by pushing it to a stack.
   * Calling {@link Writer#reset|reset} or {@link Writer#ldelim|ldelim} resets the writer to the previous state.
   */
  fork() {
    this.states = new State(this);
    this.head = this.tail = new Op(noop, 0, 0);
    this.len = 0;
    return this;
  }
  /**
   * Resets this instance to the last state
   */
  reset() {
    if (this.states != null) {
      this.head = this.states.head;
      this.tail = this.states.tail;
      this.len = this.states.len;
      this.states = this.states.next;
    } else {
      this.head = this.tail = new Op(noop, 0, 0);
      this.len = 0;
    }
    return this;
  }
  /**
   * Resets to the last state and appends the fork state's current write length as a varint followed by its operations.
   */
  ldelim() {
    const head = this.head;
    const tail = this.tail;
    const len = this.len;
    this.reset().uint32(len);
    if (len !== 0) {
      this.tail.next = head.next;
      this.tail = tail;
      this.len += len;
    }
    return this;
  }
  /**
   * Finishes the write operation
   */
  finish() {
    let head = this.head.next;
    const buf = alloc2(this.len);
    let pos = 0;
    while (head != null) {
      head.fn(head.val, buf, pos);
      pos += head.len;
      head = head.next;
    }
    return buf;
  }
};
function writeByte(val, buf, pos) {
  buf[pos] = val & 255;
}
function writeVarint32(val, buf, pos) {
  while (val > 127) {
    buf[pos++] = val & 127 | 128;
    val >>>= 7;
  }
  buf[pos] = val;
}
var VarintOp = class extends Op {
  next;
  constructor(len, val) {
    super(writeVarint32, len, val);
    this.next = void 0;
  }
};
function writeVarint64(val, buf, pos) {
  while (val.hi !== 0) {
    buf[pos++] = val.lo & 127 | 128;
    val.lo = (val.lo >>> 7 | val.hi << 25) >>> 0;
    val.hi >>>= 7;
  }
  while (val.lo > 127) {
    buf[pos++] = val.lo & 127 | 128;
    val.lo = val.lo >>> 7;
  }
  buf[pos++] = val.lo;
}
function writeFixed32(val, buf, pos) {
  buf[pos] = val & 255;
  buf[pos + 1] = val >>> 8 & 255;
  buf[pos + 2] = val >>> 16 & 255;
  buf[pos + 3] = val >>> 24;
}
function writeBytes(val, buf, pos) {
  buf.set(val, pos);
}
if (globalThis.Buffer != null) {
  Uint8ArrayWriter.prototype.bytes = function(value) {
    const len = value.length >>> 0;
    this.uint32(len);
    if (len > 0) {
      this._push(writeBytesBuffer, len, value);
    }
    return this;
  };
  Uint8ArrayWriter.prototype.string = function(value) {
    const len = globalThis.Buffer.byteLength(value);
    this.uint32(len);
    if (len > 0) {
      this._push(writeStringBuffer, len, value);
    }
    return this;
  };
}
function writeBytesBuffer(val, buf, pos) {
  buf.set(val, pos);
}
function writeStringBuffer(val, buf, pos) {
  if (val.length < 40) {
    write(val, buf, pos);
  } else if (buf.utf8Write != null) {
    buf.utf8Write(val, pos);
  } else {
    buf.set(fromString2(val), pos);
  }
}
function createWriter() {
  return new Uint8ArrayWriter();
}

// node_modules/protons-runtime/dist/src/encode.js
function encodeMessage(message2, codec) {
  const w = createWriter();
  codec.encode(message2, w, {
    lengthDelimited: false
  });
  return w.finish();
}

// node_modules/protons-runtime/dist/src/stream.js
function* streamMessage(buf, codec, opts) {
  const reader = createReader(buf);
  yield* codec.stream(reader, void 0, ".", opts);
}

// node_modules/protons-runtime/dist/src/codec.js
var CODEC_TYPES = {
  VARINT: 0,
  BIT64: 1,
  LENGTH_DELIMITED: 2,
  START_GROUP: 3,
  END_GROUP: 4,
  BIT32: 5
};
function createCodec2(name4, type, encode8, decode10, stream) {
  return {
    name: name4,
    type,
    encode: encode8,
    decode: decode10,
    stream
  };
}

// node_modules/protons-runtime/dist/src/codecs/enum.js
function enumeration(v) {
  function findValue(val) {
    if (v[val.toString()] == null) {
      throw new Error("Invalid enum value");
    }
    return v[val];
  }
  const encode8 = function enumEncode(val, writer) {
    const enumValue = findValue(val);
    writer.int32(enumValue);
  };
  const decode10 = function enumDecode(reader) {
    const val = reader.int32();
    return findValue(val);
  };
  const stream = function* enumStream(reader, prefix) {
  };
  return createCodec2("enum", CODEC_TYPES.VARINT, encode8, decode10, stream);
}

// node_modules/protons-runtime/dist/src/codecs/message.js
function message(encode8, decode10, stream) {
  return createCodec2("message", CODEC_TYPES.LENGTH_DELIMITED, encode8, decode10, stream);
}

// node_modules/protons-runtime/dist/src/index.js
var MaxLengthError = class extends Error {
  /**
   * This will be removed in a future release
   *
   * @deprecated use the `.name` property instead
   */
  code = "ERR_MAX_LENGTH";
  name = "MaxLengthError";
};

// node_modules/ipfs-unixfs/dist/src/unixfs.js
var UnixFS;
(function(UnixFS3) {
  let Type2;
  (function(Type3) {
    Type3["RAW"] = "RAW";
    Type3["DIRECTORY"] = "DIRECTORY";
    Type3["FILE"] = "FILE";
    Type3["METADATA"] = "METADATA";
    Type3["SYMLINK"] = "SYMLINK";
    Type3["HAMT_SHARD"] = "HAMT_SHARD";
  })(Type2 = UnixFS3.Type || (UnixFS3.Type = {}));
  let __TypeValues;
  (function(__TypeValues2) {
    __TypeValues2[__TypeValues2["RAW"] = 0] = "RAW";
    __TypeValues2[__TypeValues2["DIRECTORY"] = 1] = "DIRECTORY";
    __TypeValues2[__TypeValues2["FILE"] = 2] = "FILE";
    __TypeValues2[__TypeValues2["METADATA"] = 3] = "METADATA";
    __TypeValues2[__TypeValues2["SYMLINK"] = 4] = "SYMLINK";
    __TypeValues2[__TypeValues2["HAMT_SHARD"] = 5] = "HAMT_SHARD";
  })(__TypeValues || (__TypeValues = {}));
  (function(Type3) {
    Type3.codec = () => {
      return enumeration(__TypeValues);
    };
  })(Type2 = UnixFS3.Type || (UnixFS3.Type = {}));
  let _codec;
  UnixFS3.codec = () => {
    if (_codec == null) {
      _codec = message((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork();
        }
        if (obj.type != null) {
          w.uint32(8);
          UnixFS3.Type.codec().encode(obj.type, w);
        }
        if (obj.data != null) {
          w.uint32(18);
          w.bytes(obj.data);
        }
        if (obj.fileSize != null) {
          w.uint32(24);
          w.uint64(obj.fileSize);
        }
        if (obj.blockSizes != null && obj.blockSizes.length > 0) {
          for (const value of obj.blockSizes) {
            w.uint32(32);
            w.uint64(value);
          }
        }
        if (obj.hashType != null) {
          w.uint32(40);
          w.uint64(obj.hashType);
        }
        if (obj.fanOut != null) {
          w.uint32(48);
          w.uint64(obj.fanOut);
        }
        if (obj.mode != null) {
          w.uint32(56);
          w.uint32(obj.mode);
        }
        if (obj.mtime != null) {
          w.uint32(66);
          UnixTime.codec().encode(obj.mtime, w);
        }
        if (opts.lengthDelimited !== false) {
          w.ldelim();
        }
      }, (reader, length3, opts = {}) => {
        const obj = {
          blockSizes: []
        };
        const end = length3 == null ? reader.len : reader.pos + length3;
        while (reader.pos < end) {
          const tag = reader.uint32();
          switch (tag >>> 3) {
            case 1: {
              obj.type = UnixFS3.Type.codec().decode(reader);
              break;
            }
            case 2: {
              obj.data = reader.bytes();
              break;
            }
            case 3: {
              obj.fileSize = reader.uint64();
              break;
            }
            case 4: {
              if (opts.limits?.blockSizes != null && obj.blockSizes.length === opts.limits.blockSizes) {
                throw new MaxLengthError('Decode error - repeated field "blockSizes" had too many elements');
              }
              obj.blockSizes.push(reader.uint64());
              break;
            }
            case 5: {
              obj.hashType = reader.uint64();
              break;
            }
            case 6: {
              obj.fanOut = reader.uint64();
              break;
            }
            case 7: {
              obj.mode = reader.uint32();
              break;
            }
            case 8: {
              obj.mtime = UnixTime.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.mtime
              });
              break;
            }
            default: {
              reader.skipType(tag & 7);
              break;
            }
          }
        }
        return obj;
      }, function* (reader, length3, prefix, opts = {}) {
        const obj = {
          blockSizes: 0
        };
        const end = length3 == null ? reader.len : reader.pos + length3;
        if (prefix !== ".") {
          yield {
            field: prefix.endsWith(".") ? prefix.substring(0, prefix.length - 1) : prefix,
            type: "start",
            message: "UnixFS"
          };
        }
        while (reader.pos < end) {
          const tag = reader.uint32();
          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}type`,
                value: UnixFS3.Type.codec().decode(reader)
              };
              break;
            }
            case 2: {
              yield {
                field: `${prefix}data`,
                value: reader.bytes()
              };
              break;
            }
            case 3: {
              yield {
                field: `${prefix}fileSize`,
                value: reader.uint64()
              };
              break;
            }
            case 4: {
              if (opts.limits?.blockSizes != null && obj.blockSizes === opts.limits.blockSizes) {
                throw new MaxLengthError('Streaming decode error - repeated field "blockSizes" had too many elements');
              }
              yield {
                field: `${prefix}blockSizes[]`,
                index: obj.blockSizes,
                value: reader.uint64()
              };
              obj.blockSizes++;
              break;
            }
            case 5: {
              yield {
                field: `${prefix}hashType`,
                value: reader.uint64()
              };
              break;
            }
            case 6: {
              yield {
                field: `${prefix}fanOut`,
                value: reader.uint64()
              };
              break;
            }
            case 7: {
              yield {
                field: `${prefix}mode`,
                value: reader.uint32()
              };
              break;
            }
            case 8: {
              yield* UnixTime.codec().stream(reader, reader.uint32(), `${prefix}mtime.`, {
                limits: opts.limits?.mtime
              });
              break;
            }
            default: {
              reader.skipType(tag & 7);
              break;
            }
          }
        }
        if (prefix !== ".") {
          yield {
            field: prefix.endsWith(".") ? prefix.substring(0, prefix.length - 1) : prefix,
            type: "end",
            message: "UnixFS"
          };
        }
      });
    }
    return _codec;
  };
  function encode8(obj) {
    return encodeMessage(obj, UnixFS3.codec());
  }
  UnixFS3.encode = encode8;
  function decode10(buf, opts) {
    return decodeMessage(buf, UnixFS3.codec(), opts);
  }
  UnixFS3.decode = decode10;
  function stream(buf, opts) {
    return streamMessage(buf, UnixFS3.codec(), opts);
  }
  UnixFS3.stream = stream;
})(UnixFS || (UnixFS = {}));
var UnixTime;
(function(UnixTime2) {
  let _codec;
  UnixTime2.codec = () => {
    if (_codec == null) {
      _codec = message((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork();
        }
        if (obj.seconds != null) {
          w.uint32(8);
          w.int64(obj.seconds);
        }
        if (obj.fractionalNanoseconds != null) {
          w.uint32(21);
          w.fixed32(obj.fractionalNanoseconds);
        }
        if (opts.lengthDelimited !== false) {
          w.ldelim();
        }
      }, (reader, length3, opts = {}) => {
        const obj = {};
        const end = length3 == null ? reader.len : reader.pos + length3;
        while (reader.pos < end) {
          const tag = reader.uint32();
          switch (tag >>> 3) {
            case 1: {
              obj.seconds = reader.int64();
              break;
            }
            case 2: {
              obj.fractionalNanoseconds = reader.fixed32();
              break;
            }
            default: {
              reader.skipType(tag & 7);
              break;
            }
          }
        }
        return obj;
      }, function* (reader, length3, prefix, opts = {}) {
        const end = length3 == null ? reader.len : reader.pos + length3;
        if (prefix !== ".") {
          yield {
            field: prefix.endsWith(".") ? prefix.substring(0, prefix.length - 1) : prefix,
            type: "start",
            message: "UnixTime"
          };
        }
        while (reader.pos < end) {
          const tag = reader.uint32();
          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}seconds`,
                value: reader.int64()
              };
              break;
            }
            case 2: {
              yield {
                field: `${prefix}fractionalNanoseconds`,
                value: reader.fixed32()
              };
              break;
            }
            default: {
              reader.skipType(tag & 7);
              break;
            }
          }
        }
        if (prefix !== ".") {
          yield {
            field: prefix.endsWith(".") ? prefix.substring(0, prefix.length - 1) : prefix,
            type: "end",
            message: "UnixTime"
          };
        }
      });
    }
    return _codec;
  };
  function encode8(obj) {
    return encodeMessage(obj, UnixTime2.codec());
  }
  UnixTime2.encode = encode8;
  function decode10(buf, opts) {
    return decodeMessage(buf, UnixTime2.codec(), opts);
  }
  UnixTime2.decode = decode10;
  function stream(buf, opts) {
    return streamMessage(buf, UnixTime2.codec(), opts);
  }
  UnixTime2.stream = stream;
})(UnixTime || (UnixTime = {}));
var Metadata;
(function(Metadata2) {
  let _codec;
  Metadata2.codec = () => {
    if (_codec == null) {
      _codec = message((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork();
        }
        if (obj.mimeType != null) {
          w.uint32(10);
          w.string(obj.mimeType);
        }
        if (opts.lengthDelimited !== false) {
          w.ldelim();
        }
      }, (reader, length3, opts = {}) => {
        const obj = {};
        const end = length3 == null ? reader.len : reader.pos + length3;
        while (reader.pos < end) {
          const tag = reader.uint32();
          switch (tag >>> 3) {
            case 1: {
              obj.mimeType = reader.string();
              break;
            }
            default: {
              reader.skipType(tag & 7);
              break;
            }
          }
        }
        return obj;
      }, function* (reader, length3, prefix, opts = {}) {
        const end = length3 == null ? reader.len : reader.pos + length3;
        if (prefix !== ".") {
          yield {
            field: prefix.endsWith(".") ? prefix.substring(0, prefix.length - 1) : prefix,
            type: "start",
            message: "Metadata"
          };
        }
        while (reader.pos < end) {
          const tag = reader.uint32();
          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}mimeType`,
                value: reader.string()
              };
              break;
            }
            default: {
              reader.skipType(tag & 7);
              break;
            }
          }
        }
        if (prefix !== ".") {
          yield {
            field: prefix.endsWith(".") ? prefix.substring(0, prefix.length - 1) : prefix,
            type: "end",
            message: "Metadata"
          };
        }
      });
    }
    return _codec;
  };
  function encode8(obj) {
    return encodeMessage(obj, Metadata2.codec());
  }
  Metadata2.encode = encode8;
  function decode10(buf, opts) {
    return decodeMessage(buf, Metadata2.codec(), opts);
  }
  Metadata2.decode = decode10;
  function stream(buf, opts) {
    return streamMessage(buf, Metadata2.codec(), opts);
  }
  Metadata2.stream = stream;
})(Metadata || (Metadata = {}));
var Link;
(function(Link2) {
  let _codec;
  Link2.codec = () => {
    if (_codec == null) {
      _codec = message((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork();
        }
        if (obj.hash != null) {
          w.uint32(10);
          w.bytes(obj.hash);
        }
        if (obj.name != null) {
          w.uint32(18);
          w.string(obj.name);
        }
        if (obj.tSize != null) {
          w.uint32(24);
          w.uint64(obj.tSize);
        }
        if (opts.lengthDelimited !== false) {
          w.ldelim();
        }
      }, (reader, length3, opts = {}) => {
        const obj = {};
        const end = length3 == null ? reader.len : reader.pos + length3;
        while (reader.pos < end) {
          const tag = reader.uint32();
          switch (tag >>> 3) {
            case 1: {
              obj.hash = reader.bytes();
              break;
            }
            case 2: {
              obj.name = reader.string();
              break;
            }
            case 3: {
              obj.tSize = reader.uint64();
              break;
            }
            default: {
              reader.skipType(tag & 7);
              break;
            }
          }
        }
        return obj;
      }, function* (reader, length3, prefix, opts = {}) {
        const end = length3 == null ? reader.len : reader.pos + length3;
        if (prefix !== ".") {
          yield {
            field: prefix.endsWith(".") ? prefix.substring(0, prefix.length - 1) : prefix,
            type: "start",
            message: "Link"
          };
        }
        while (reader.pos < end) {
          const tag = reader.uint32();
          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}hash`,
                value: reader.bytes()
              };
              break;
            }
            case 2: {
              yield {
                field: `${prefix}name`,
                value: reader.string()
              };
              break;
            }
            case 3: {
              yield {
                field: `${prefix}tSize`,
                value: reader.uint64()
              };
              break;
            }
            default: {
              reader.skipType(tag & 7);
              break;
            }
          }
        }
        if (prefix !== ".") {
          yield {
            field: prefix.endsWith(".") ? prefix.substring(0, prefix.length - 1) : prefix,
            type: "end",
            message: "Link"
          };
        }
      });
    }
    return _codec;
  };
  function encode8(obj) {
    return encodeMessage(obj, Link2.codec());
  }
  Link2.encode = encode8;
  function decode10(buf, opts) {
    return decodeMessage(buf, Link2.codec(), opts);
  }
  Link2.decode = decode10;
  function stream(buf, opts) {
    return streamMessage(buf, Link2.codec(), opts);
  }
  Link2.stream = stream;
})(Link || (Link = {}));
var Node;
(function(Node2) {
  let _codec;
  Node2.codec = () => {
    if (_codec == null) {
      _codec = message((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork();
        }
        if (obj.data != null) {
          w.uint32(10);
          UnixFS.codec().encode(obj.data, w);
        }
        if (obj.links != null && obj.links.length > 0) {
          for (const value of obj.links) {
            w.uint32(18);
            Link.codec().encode(value, w);
          }
        }
        if (opts.lengthDelimited !== false) {
          w.ldelim();
        }
      }, (reader, length3, opts = {}) => {
        const obj = {
          links: []
        };
        const end = length3 == null ? reader.len : reader.pos + length3;
        while (reader.pos < end) {
          const tag = reader.uint32();
          switch (tag >>> 3) {
            case 1: {
              obj.data = UnixFS.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.data
              });
              break;
            }
            case 2: {
              if (opts.limits?.links != null && obj.links.length === opts.limits.links) {
                throw new MaxLengthError('Decode error - repeated field "links" had too many elements');
              }
              obj.links.push(Link.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.links$
              }));
              break;
            }
            default: {
              reader.skipType(tag & 7);
              break;
            }
          }
        }
        return obj;
      }, function* (reader, length3, prefix, opts = {}) {
        const obj = {
          links: 0
        };
        const end = length3 == null ? reader.len : reader.pos + length3;
        if (prefix !== ".") {
          yield {
            field: prefix.endsWith(".") ? prefix.substring(0, prefix.length - 1) : prefix,
            type: "start",
            message: "Node"
          };
        }
        while (reader.pos < end) {
          const tag = reader.uint32();
          switch (tag >>> 3) {
            case 1: {
              yield* UnixFS.codec().stream(reader, reader.uint32(), `${prefix}data.`, {
                limits: opts.limits?.data
              });
              break;
            }
            case 2: {
              if (opts.limits?.links != null && obj.links === opts.limits.links) {
                throw new MaxLengthError('Streaming decode error - repeated field "links" had too many elements');
              }
              for (const evt of Link.codec().stream(reader, reader.uint32(), `${prefix}links[].`, {
                limits: opts.limits?.links$
              })) {
                yield {
                  ...evt,
                  index: obj.links
                };
              }
              obj.links++;
              break;
            }
            default: {
              reader.skipType(tag & 7);
              break;
            }
          }
        }
        if (prefix !== ".") {
          yield {
            field: prefix.endsWith(".") ? prefix.substring(0, prefix.length - 1) : prefix,
            type: "end",
            message: "Node"
          };
        }
      });
    }
    return _codec;
  };
  function encode8(obj) {
    return encodeMessage(obj, Node2.codec());
  }
  Node2.encode = encode8;
  function decode10(buf, opts) {
    return decodeMessage(buf, Node2.codec(), opts);
  }
  Node2.decode = decode10;
  function stream(buf, opts) {
    return streamMessage(buf, Node2.codec(), opts);
  }
  Node2.stream = stream;
})(Node || (Node = {}));
var LegacyNode;
(function(LegacyNode2) {
  let _codec;
  LegacyNode2.codec = () => {
    if (_codec == null) {
      _codec = message((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork();
        }
        if (obj.links != null && obj.links.length > 0) {
          for (const value of obj.links) {
            w.uint32(18);
            Link.codec().encode(value, w);
          }
        }
        if (obj.data != null) {
          w.uint32(10);
          UnixFS.codec().encode(obj.data, w);
        }
        if (opts.lengthDelimited !== false) {
          w.ldelim();
        }
      }, (reader, length3, opts = {}) => {
        const obj = {
          links: []
        };
        const end = length3 == null ? reader.len : reader.pos + length3;
        while (reader.pos < end) {
          const tag = reader.uint32();
          switch (tag >>> 3) {
            case 2: {
              if (opts.limits?.links != null && obj.links.length === opts.limits.links) {
                throw new MaxLengthError('Decode error - repeated field "links" had too many elements');
              }
              obj.links.push(Link.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.links$
              }));
              break;
            }
            case 1: {
              obj.data = UnixFS.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.data
              });
              break;
            }
            default: {
              reader.skipType(tag & 7);
              break;
            }
          }
        }
        return obj;
      }, function* (reader, length3, prefix, opts = {}) {
        const obj = {
          links: 0
        };
        const end = length3 == null ? reader.len : reader.pos + length3;
        if (prefix !== ".") {
          yield {
            field: prefix.endsWith(".") ? prefix.substring(0, prefix.length - 1) : prefix,
            type: "start",
            message: "LegacyNode"
          };
        }
        while (reader.pos < end) {
          const tag = reader.uint32();
          switch (tag >>> 3) {
            case 2: {
              if (opts.limits?.links != null && obj.links === opts.limits.links) {
                throw new MaxLengthError('Streaming decode error - repeated field "links" had too many elements');
              }
              for (const evt of Link.codec().stream(reader, reader.uint32(), `${prefix}links[].`, {
                limits: opts.limits?.links$
              })) {
                yield {
                  ...evt,
                  index: obj.links
                };
              }
              obj.links++;
              break;
            }
            case 1: {
              yield* UnixFS.codec().stream(reader, reader.uint32(), `${prefix}data.`, {
                limits: opts.limits?.data
              });
              break;
            }
            default: {
              reader.skipType(tag & 7);
              break;
            }
          }
        }
        if (prefix !== ".") {
          yield {
            field: prefix.endsWith(".") ? prefix.substring(0, prefix.length - 1) : prefix,
            type: "end",
            message: "LegacyNode"
          };
        }
      });
    }
    return _codec;
  };
  function encode8(obj) {
    return encodeMessage(obj, LegacyNode2.codec());
  }
  LegacyNode2.encode = encode8;
  function decode10(buf, opts) {
    return decodeMessage(buf, LegacyNode2.codec(), opts);
  }
  LegacyNode2.decode = decode10;
  function stream(buf, opts) {
    return streamMessage(buf, LegacyNode2.codec(), opts);
  }
  LegacyNode2.stream = stream;
})(LegacyNode || (LegacyNode = {}));

// node_modules/ipfs-unixfs/dist/src/index.js
var types = {
  RAW: "raw",
  DIRECTORY: "directory",
  FILE: "file",
  METADATA: "metadata",
  SYMLINK: "symlink",
  HAMT_SHARD: "hamt-sharded-directory"
};
var dirTypes = [
  "directory",
  "hamt-sharded-directory"
];
var DEFAULT_FILE_MODE = parseInt("0644", 8);
var DEFAULT_DIRECTORY_MODE = parseInt("0755", 8);
var UnixFS2 = class _UnixFS {
  /**
   * Decode from protobuf https://github.com/ipfs/specs/blob/master/UNIXFS.md
   */
  static unmarshal(marshaled) {
    const message2 = UnixFS.decode(marshaled);
    const data = new _UnixFS({
      type: types[message2.type != null ? message2.type.toString() : "FILE"],
      data: message2.data,
      blockSizes: message2.blockSizes,
      mode: message2.mode,
      mtime: message2.mtime != null ? {
        secs: message2.mtime.seconds ?? 0n,
        nsecs: message2.mtime.fractionalNanoseconds
      } : void 0,
      fanout: message2.fanOut
    });
    data._originalMode = message2.mode ?? 0;
    return data;
  }
  type;
  data;
  blockSizes;
  hashType;
  fanout;
  mtime;
  _mode;
  _originalMode;
  constructor(options = {
    type: "file"
  }) {
    const { type, data, blockSizes, hashType, fanout, mtime, mode } = options;
    if (type != null && !Object.values(types).includes(type)) {
      throw new InvalidTypeError("Type: " + type + " is not valid");
    }
    this.type = type ?? "file";
    this.hashType = hashType;
    this.fanout = fanout;
    this.blockSizes = blockSizes ?? [];
    this._originalMode = 0;
    this.mode = mode;
    this.mtime = mtime;
    if (data != null) {
      this.data = withArrayBuffer(data);
    }
  }
  set mode(mode) {
    if (mode == null) {
      this._mode = this.isDirectory() ? DEFAULT_DIRECTORY_MODE : DEFAULT_FILE_MODE;
    } else {
      this._mode = mode & 4095;
    }
  }
  get mode() {
    return this._mode;
  }
  isDirectory() {
    return dirTypes.includes(this.type);
  }
  addBlockSize(size) {
    this.blockSizes.push(size);
  }
  removeBlockSize(index) {
    this.blockSizes.splice(index, 1);
  }
  /**
   * Returns `0n` for directories or `data.length + sum(blockSizes)` for everything else
   */
  fileSize() {
    if (this.isDirectory()) {
      return 0n;
    }
    let sum = 0n;
    this.blockSizes.forEach((size) => {
      sum += size;
    });
    if (this.data != null) {
      sum += BigInt(this.data.length);
    }
    return sum;
  }
  /**
   * encode to protobuf Uint8Array
   */
  marshal() {
    let type;
    switch (this.type) {
      case "raw":
        type = UnixFS.Type.RAW;
        break;
      case "directory":
        type = UnixFS.Type.DIRECTORY;
        break;
      case "file":
        type = UnixFS.Type.FILE;
        break;
      case "metadata":
        type = UnixFS.Type.METADATA;
        break;
      case "symlink":
        type = UnixFS.Type.SYMLINK;
        break;
      case "hamt-sharded-directory":
        type = UnixFS.Type.HAMT_SHARD;
        break;
      default:
        throw new InvalidTypeError(`Type: ${type} is not valid`);
    }
    let data = this.data;
    if (this.data == null || this.data.length === 0) {
      data = void 0;
    }
    let mode;
    if (this.mode != null) {
      mode = this._originalMode & 4294963200 | (this.mode ?? 0);
      if (mode === DEFAULT_FILE_MODE && !this.isDirectory()) {
        mode = void 0;
      }
      if (mode === DEFAULT_DIRECTORY_MODE && this.isDirectory()) {
        mode = void 0;
      }
    }
    let mtime;
    if (this.mtime != null) {
      mtime = {
        seconds: this.mtime.secs,
        fractionalNanoseconds: this.mtime.nsecs
      };
    }
    return UnixFS.encode({
      type,
      data,
      fileSize: this.type === "file" || this.type === "raw" ? this.fileSize() : void 0,
      blockSizes: this.blockSizes,
      hashType: this.hashType,
      fanOut: this.fanout,
      mode,
      mtime
    });
  }
};

// node_modules/@multiformats/murmur3/src/vendor/murmur.js
function add64(a, b) {
  const lo = a.lo + b.lo >>> 0;
  const hi = a.hi + b.hi + (lo < a.lo ? 1 : 0) >>> 0;
  return { lo, hi };
}
function add32(a, b) {
  return a + b >>> 0;
}
function mul64(a, b) {
  const al = a.lo & 65535;
  const ah = a.lo >>> 16;
  const bl = b.lo & 65535;
  const bh = b.lo >>> 16;
  const p0 = al * bl;
  const p1 = al * bh;
  const p2 = ah * bl;
  const p3 = ah * bh;
  const lo1 = (p0 >>> 16) + (p1 & 65535) + (p2 & 65535) >>> 0;
  const lo = (lo1 << 16 | p0 & 65535) >>> 0;
  const hi0 = p3 + (p1 >>> 16) + (p2 >>> 16) + (lo1 >>> 16);
  const hi1 = Math.imul(a.lo, b.hi);
  const hi2 = Math.imul(a.hi, b.lo);
  const hi = hi0 + hi1 + hi2 >>> 0;
  return { lo, hi };
}
function mul32(a, b) {
  return Math.imul(a, b) >>> 0;
}
function rotl64(x, n) {
  if (n === 0) {
    return x;
  }
  if (n === 32) {
    return { lo: x.hi, hi: x.lo };
  }
  if (n < 32) {
    const lo2 = (x.lo << n | x.hi >>> 32 - n) >>> 0;
    const hi2 = (x.hi << n | x.lo >>> 32 - n) >>> 0;
    return { lo: lo2, hi: hi2 };
  }
  n -= 32;
  const lo = (x.hi << n | x.lo >>> 32 - n) >>> 0;
  const hi = (x.lo << n | x.hi >>> 32 - n) >>> 0;
  return { lo, hi };
}
function xor64(a, b) {
  return { lo: (a.lo ^ b.lo) >>> 0, hi: (a.hi ^ b.hi) >>> 0 };
}
function shr64(x, n) {
  if (n === 0) {
    return x;
  }
  if (n < 32) {
    const lo = (x.lo >>> n | x.hi << 32 - n) >>> 0;
    const hi = x.hi >>> n;
    return { lo, hi };
  }
  return { lo: x.hi >>> n - 32, hi: 0 };
}
function u64(lo, hi) {
  return { lo: lo >>> 0, hi: hi >>> 0 };
}
function rotl32(x, r) {
  return (x << r | x >>> 32 - r) >>> 0;
}
function getBlock64(key, i) {
  const offset = i * 8;
  const lo = key[offset] | key[offset + 1] << 8 | key[offset + 2] << 16 | key[offset + 3] << 24;
  const hi = key[offset + 4] | key[offset + 5] << 8 | key[offset + 6] << 16 | key[offset + 7] << 24;
  return { lo: lo >>> 0, hi: hi >>> 0 };
}
function getBlock32(key, i) {
  const offset = i * 4;
  return (key[offset] | key[offset + 1] << 8 | key[offset + 2] << 16 | key[offset + 3] << 24) >>> 0;
}
function fmix64(k) {
  k = xor64(k, shr64(k, 33));
  k = mul64(k, u64(3981806797, 4283543511));
  k = xor64(k, shr64(k, 33));
  k = mul64(k, u64(444984403, 3301882366));
  k = xor64(k, shr64(k, 33));
  return k;
}
function fmix32(k) {
  k ^= k >>> 16;
  k = mul32(k, 2246822507);
  k ^= k >>> 13;
  k = mul32(k, 3266489909);
  k ^= k >>> 16;
  return k;
}
function murmurHash3_x64_128(key, seed = 0) {
  let h1 = u64(seed, 0);
  let h2 = u64(seed, 0);
  const length3 = key.length;
  const blocks = Math.floor(length3 / 16);
  const c1 = u64(289559509, 2277735313);
  const c2 = u64(658871167, 1291169091);
  for (let i = 0; i < blocks; i++) {
    let k12 = getBlock64(key, i * 2);
    let k22 = getBlock64(key, i * 2 + 1);
    k12 = mul64(k12, c1);
    k12 = rotl64(k12, 31);
    k12 = mul64(k12, c2);
    h1 = xor64(h1, k12);
    h1 = rotl64(h1, 27);
    h1 = add64(h1, h2);
    h1 = add64(mul64(h1, u64(5, 0)), u64(1390208809, 0));
    k22 = mul64(k22, c2);
    k22 = rotl64(k22, 33);
    k22 = mul64(k22, c1);
    h2 = xor64(h2, k22);
    h2 = rotl64(h2, 31);
    h2 = add64(h2, h1);
    h2 = add64(mul64(h2, u64(5, 0)), u64(944331445, 0));
  }
  let k1 = u64(0, 0);
  let k2 = u64(0, 0);
  const tail = key.slice(blocks * 16);
  switch (tail.length) {
    case 15:
      k2 = xor64(k2, u64(0, tail[14] << 16));
    // fallthrough
    case 14:
      k2 = xor64(k2, u64(0, tail[13] << 8));
    // fallthrough
    case 13:
      k2 = xor64(k2, u64(0, tail[12]));
    // fallthrough
    case 12:
      k2 = xor64(k2, u64(tail[11] << 24, 0));
    // fallthrough
    case 11:
      k2 = xor64(k2, u64(tail[10] << 16, 0));
    // fallthrough
    case 10:
      k2 = xor64(k2, u64(tail[9] << 8, 0));
    // fallthrough
    case 9:
      k2 = xor64(k2, u64(tail[8], 0));
      k2 = mul64(k2, c2);
      k2 = rotl64(k2, 33);
      k2 = mul64(k2, c1);
      h2 = xor64(h2, k2);
    // fallthrough
    case 8:
      k1 = xor64(k1, u64(0, tail[7] << 24));
    // fallthrough
    case 7:
      k1 = xor64(k1, u64(0, tail[6] << 16));
    // fallthrough
    case 6:
      k1 = xor64(k1, u64(0, tail[5] << 8));
    // fallthrough
    case 5:
      k1 = xor64(k1, u64(0, tail[4]));
    // fallthrough
    case 4:
      k1 = xor64(k1, u64(tail[3] << 24, 0));
    // fallthrough
    case 3:
      k1 = xor64(k1, u64(tail[2] << 16, 0));
    // fallthrough
    case 2:
      k1 = xor64(k1, u64(tail[1] << 8, 0));
    // fallthrough
    case 1:
      k1 = xor64(k1, u64(tail[0], 0));
      k1 = mul64(k1, c1);
      k1 = rotl64(k1, 31);
      k1 = mul64(k1, c2);
      h1 = xor64(h1, k1);
  }
  const len643 = u64(length3, 0);
  h1 = xor64(h1, len643);
  h2 = xor64(h2, len643);
  h1 = add64(h1, h2);
  h2 = add64(h2, h1);
  h1 = fmix64(h1);
  h2 = fmix64(h2);
  h1 = add64(h1, h2);
  h2 = add64(h2, h1);
  return new Uint8Array([
    h1.hi >>> 24 & 255,
    h1.hi >>> 16 & 255,
    h1.hi >>> 8 & 255,
    h1.hi & 255,
    h1.lo >>> 24 & 255,
    h1.lo >>> 16 & 255,
    h1.lo >>> 8 & 255,
    h1.lo & 255,
    h2.hi >>> 24 & 255,
    h2.hi >>> 16 & 255,
    h2.hi >>> 8 & 255,
    h2.hi & 255,
    h2.lo >>> 24 & 255,
    h2.lo >>> 16 & 255,
    h2.lo >>> 8 & 255,
    h2.lo & 255
  ]);
}
function murmurHash3_x86_32(key, seed = 0) {
  let h1 = seed >>> 0;
  const length3 = key.length;
  const blocks = Math.floor(length3 / 4);
  const c1 = 3432918353;
  const c2 = 461845907;
  for (let i = 0; i < blocks; i++) {
    let k12 = getBlock32(key, i);
    k12 = mul32(k12, c1);
    k12 = rotl32(k12, 15);
    k12 = mul32(k12, c2);
    h1 ^= k12;
    h1 = rotl32(h1, 13);
    h1 = add32(mul32(h1, 5), 3864292196);
  }
  const tail = key.slice(blocks * 4);
  let k1 = 0;
  switch (tail.length) {
    case 3:
      k1 ^= tail[2] << 16;
    // fallthrough
    case 2:
      k1 ^= tail[1] << 8;
    // fallthrough
    case 1:
      k1 ^= tail[0];
      k1 = mul32(k1, c1);
      k1 = rotl32(k1, 15);
      k1 = mul32(k1, c2);
      h1 ^= k1;
  }
  h1 ^= length3;
  h1 = fmix32(h1);
  return h1;
}

// node_modules/@multiformats/murmur3/src/index.js
function fromNumberTo32BitBuf(number) {
  const bytes = new Array(4);
  for (let i = 0; i < 4; i++) {
    bytes[i] = number & 255;
    number = number >> 8;
  }
  return new Uint8Array(bytes);
}
var murmur332 = from2({
  name: "murmur3-32",
  code: 35,
  encode: (input) => fromNumberTo32BitBuf(murmurHash3_x86_32(input))
});
var murmur3128 = from2({
  name: "murmur3-128",
  code: 34,
  encode: (input) => murmurHash3_x64_128(input)
});
var murmur364 = from2({
  name: "murmur3-x64-64",
  code: 34,
  encode: (input) => murmurHash3_x64_128(input).subarray(0, 8)
});

// src/core/size.ts
var UNITS = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40
};
function parseSize(value, input) {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = UNITS[(match?.[2] ?? "").toLowerCase()];
  const size = match != null && unit != null ? Math.floor(Number(match[1]) * unit) : NaN;
  if (!Number.isSafeInteger(size) || size <= 0) {
    throw new InputError(input, `'${value}' is not a size (expected a positive number of bytes, optionally with a unit: KB, MB, GB, TB, KiB, MiB, GiB, TiB)`);
  }
  return size;
}
function parseCount(value, input) {
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) <= 0) {
    throw new InputError(input, `'${value}' is not a positive whole number`);
  }
  return Number(value);
}
function formatSize(bytes) {
  for (const [unit, size] of [["TiB", 2 ** 40], ["GiB", 2 ** 30], ["MiB", 2 ** 20], ["KiB", 2 ** 10]]) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} bytes`;
}

// src/core/unixfs/limits.ts
var MAX_HAMT_DEPTH = 64;
var MAX_FILE_DEPTH = 32;
var MAX_DIRECTORY_DEPTH = 1024;
var PREVIOUS_ROOT_LIMITS = {
  maxBlocks: 1e6,
  maxBlockBytes: 256 * 1024 * 1024,
  maxEntries: 4e6,
  maxDirectoryEntries: 1e6
};
var EXPORT_LIMITS = {
  maxBytes: 64 * 1024 * 1024 * 1024,
  maxEntries: 1e6,
  maxBlocks: 4194304
};
var WALK_MAX_BLOCKS = 4194304;
var DagBudget = class {
  limits;
  names;
  blocks = 0;
  blockBytes = 0;
  entries = 0;
  constructor(limits = {}, names = {}) {
    this.limits = { ...PREVIOUS_ROOT_LIMITS, ...limits };
    this.names = names;
  }
  /** Counts one block read of `length` bytes. */
  block(cid2, length3) {
    this.blocks++;
    this.blockBytes += length3;
    if (this.blocks > this.limits.maxBlocks) throw this.exceeded("maxBlocks", `more than ${this.limits.maxBlocks} block reads (at ${cid2})`);
    if (this.blockBytes > this.limits.maxBlockBytes) throw this.exceeded("maxBlockBytes", `more than ${formatSize(this.limits.maxBlockBytes)} of blocks (at ${cid2})`);
  }
  /** Counts `count` directory entries listed in the directory `cid`. */
  listed(cid2, count) {
    this.entries += count;
    if (this.entries > this.limits.maxEntries) throw this.exceeded("maxEntries", `more than ${this.limits.maxEntries} directory entries (at ${cid2})`);
  }
  /** The TreeError for a directory (read from shard or block `cid`) holding more entries than allowed. */
  directoryTooLarge(cid2) {
    return this.exceeded("maxDirectoryEntries", `a directory holds more than ${this.limits.maxDirectoryEntries} entries (at ${cid2})`);
  }
  /** A BlockSource over `source` that counts every block it returns. */
  source(source) {
    return {
      label: source.label,
      get: async (cid2, options) => {
        const bytes = await source.get(cid2, options);
        this.block(cid2, bytes.length);
        return bytes;
      }
    };
  }
  exceeded(limit, message2) {
    return new TreeError(`${message2}: over the limit ${this.names[limit] ?? limit}`);
  }
};
function directoryLimit(options) {
  return options?.budget?.limits.maxDirectoryEntries ?? PREVIOUS_ROOT_LIMITS.maxDirectoryEntries;
}
function directoryTooLarge(cid2, options) {
  return (options?.budget ?? new DagBudget()).directoryTooLarge(cid2);
}

// src/core/unixfs/hamt.ts
var HAMT_FANOUT = 256;
var HAMT_HASH_TYPE = 34;
var PREFIX_LENGTH = 2;
var READ_CONCURRENCY = 16;
var encoder = new TextEncoder();
var NameHash = class {
  name;
  hashes = [];
  constructor(name4) {
    this.name = encoder.encode(name4);
  }
  async slot(depth) {
    const round = Math.floor(depth / 8);
    while (this.hashes.length <= round) {
      const n = this.hashes.length;
      const input = n === 0 ? this.name : Uint8Array.from([...this.name, n]);
      this.hashes.push((await murmur364.digest(input)).digest);
    }
    return this.hashes[round][depth % 8];
  }
};
async function buildShardedDirectory(entries, sink, options) {
  return buildShard(entries.map(leaf), 0, sink, options);
}
function leaf(entry) {
  return { entry, hash: new NameHash(entry.name) };
}
async function buildShard(leaves, depth, sink, options) {
  throwIfAborted(options?.signal);
  const links = /* @__PURE__ */ new Map();
  for (const [slot, group] of await groupBySlot(leaves, depth)) links.set(slot, await slotLink(slot, group, depth, sink, options));
  return writeShard(links, sink, options);
}
async function putInShardedDirectory(root, entries, source, sink, options) {
  return putInShard(root, entries.map(leaf), 0, source, sink, options);
}
async function putInShard(cid2, leaves, depth, source, sink, options) {
  throwIfAborted(options?.signal);
  if (depth > MAX_HAMT_DEPTH) throw new TreeError(`HAMT shard ${cid2} is more than ${MAX_HAMT_DEPTH} levels deep`);
  const { node, unixfs } = await readShard(cid2, source, options);
  if (unixfs.fanout !== BigInt(HAMT_FANOUT)) throw new TreeError(`HAMT shard ${cid2} has fanout ${unixfs.fanout}, not ${HAMT_FANOUT}`);
  const links = /* @__PURE__ */ new Map();
  for (const link of node.Links) {
    const name4 = link.Name ?? "";
    const slot = Number.parseInt(name4.slice(0, PREFIX_LENGTH), 16);
    if (!/^[0-9A-F]{2}/.test(name4) || links.has(slot)) throw new TreeError(`HAMT shard ${cid2} has an invalid link name '${name4}'`);
    links.set(slot, link);
  }
  for (const [slot, group] of await groupBySlot(leaves, depth)) {
    const link = links.get(slot);
    if (link?.Name === slotPrefix(slot)) {
      const child = await putInShard(link.Hash, group, depth + 1, source, sink, options);
      links.set(slot, { Name: slotPrefix(slot), Hash: child.cid, Tsize: child.size });
      continue;
    }
    const name4 = link?.Name?.slice(PREFIX_LENGTH);
    if (link != null && name4 != null && !group.some((l) => l.entry.name === name4)) group.push(leaf({ name: name4, cid: link.Hash, size: link.Tsize ?? 0 }));
    links.set(slot, await slotLink(slot, group, depth, sink, options));
  }
  return writeShard(links, sink, options);
}
async function groupBySlot(leaves, depth) {
  const slots = /* @__PURE__ */ new Map();
  for (const l of leaves) {
    const slot = await l.hash.slot(depth);
    const group = slots.get(slot);
    if (group == null) slots.set(slot, [l]);
    else group.push(l);
  }
  return new Map([...slots].sort((a, b) => a[0] - b[0]));
}
function slotPrefix(slot) {
  return slot.toString(16).toUpperCase().padStart(PREFIX_LENGTH, "0");
}
async function slotLink(slot, group, depth, sink, options) {
  if (group.length === 1) {
    const { entry } = group[0];
    return { Name: slotPrefix(slot) + entry.name, Hash: entry.cid, Tsize: entry.size };
  }
  const child = await buildShard(group, depth + 1, sink, options);
  return { Name: slotPrefix(slot), Hash: child.cid, Tsize: child.size };
}
async function writeShard(links, sink, options) {
  const slots = [...links.keys()].sort((a, b) => a - b);
  const data = new UnixFS2({
    type: "hamt-sharded-directory",
    data: bitfield(slots),
    fanout: BigInt(HAMT_FANOUT),
    hashType: BigInt(HAMT_HASH_TYPE)
  });
  return writeNode(data.marshal(), slots.map((slot) => links.get(slot)), sink, options);
}
function bitfield(slots) {
  const length3 = Math.floor(Math.max(0, ...slots) / 8) + 1;
  const bytes = new Uint8Array(length3);
  for (const slot of slots) {
    const index = length3 - 1 - Math.floor(slot / 8);
    bytes[index] = bytes[index] | 1 << slot % 8;
  }
  return bytes;
}
function cumulativeSize(blockBytes, links) {
  let size = blockBytes;
  for (const link of links) {
    size += link.Tsize ?? 0;
    if (!Number.isSafeInteger(link.Tsize ?? 0) || !Number.isSafeInteger(size)) {
      throw new TreeError(`the sizes of the links to ${link.Name === void 0 ? link.Hash.toString() : `'${link.Name}'`} add up past 2^53 bytes (a corrupt Tsize)`);
    }
  }
  return size;
}
async function writeNode(data, links, sink, options) {
  cumulativeSize(0, links);
  const bytes = encode3(prepare({ Data: data, Links: links }));
  const cid2 = CID.createV1(code, await sha256.digest(bytes));
  await sink.put(cid2, bytes, options);
  return { cid: cid2, size: cumulativeSize(bytes.length, links) };
}
async function* shardedEntries(cid2, node, unixfs, source, options) {
  const limit = directoryLimit(options);
  const seen = /* @__PURE__ */ new Set([cid2.toString()]);
  let count = 0;
  let ahead = 0;
  async function* shard(cid3, node2, unixfs2, depth) {
    throwIfAborted(options?.signal);
    const prefixLength = shardPrefixLength(unixfs2);
    const subShards = [];
    options?.budget?.listed(cid3, node2.Links.length);
    for (const link of node2.Links) {
      const name4 = link.Name ?? "";
      if (name4.length > prefixLength) {
        if (++count > limit) throw directoryTooLarge(cid3, options);
        yield { name: name4.slice(prefixLength), cid: link.Hash, size: link.Tsize ?? 0 };
      } else if (name4.length === prefixLength) {
        const key = link.Hash.toString();
        if (seen.has(key)) throw new TreeError(`HAMT shard ${link.Hash} is linked more than once in one directory (in shard ${cid3})`);
        seen.add(key);
        subShards.push(link.Hash);
      } else {
        throw new TreeError(`HAMT shard link name '${name4}' is too short`);
      }
    }
    if (subShards.length > 0 && depth >= MAX_HAMT_DEPTH) throw new TreeError(`HAMT shard ${cid3} is more than ${MAX_HAMT_DEPTH} levels deep`);
    let next = 0;
    const pending = [];
    try {
      for (let i = 0; i < subShards.length; i++) {
        while (next < subShards.length && (pending.length === 0 || ahead < READ_CONCURRENCY)) {
          const read3 = readShard(subShards[next], source, options);
          read3.catch(() => {
          });
          pending.push(read3);
          ahead++;
          next++;
        }
        const child = await pending.shift();
        ahead--;
        yield* shard(subShards[i], child.node, child.unixfs, depth + 1);
      }
    } finally {
      ahead -= pending.length;
    }
  }
  yield* shard(cid2, node, unixfs, 0);
}
async function findInShardedDirectory(cid2, node, unixfs, name4, source, options) {
  if (unixfs.fanout !== BigInt(HAMT_FANOUT)) {
    for await (const entry of shardedEntries(cid2, node, unixfs, source, options)) if (entry.name === name4) return entry;
    return void 0;
  }
  const hash = new NameHash(name4);
  for (let depth = 0; ; depth++) {
    const prefix = slotPrefix(await hash.slot(depth));
    const link = node.Links.find((l) => l.Name?.startsWith(prefix) === true);
    if (link == null) return void 0;
    if (link.Name === prefix) {
      if (depth >= MAX_HAMT_DEPTH) throw new TreeError(`HAMT shard ${cid2} is more than ${MAX_HAMT_DEPTH} levels deep`);
      cid2 = link.Hash;
      ({ node, unixfs } = await readShard(cid2, source, options));
      continue;
    }
    return link.Name === prefix + name4 ? { name: name4, cid: link.Hash, size: link.Tsize ?? 0 } : void 0;
  }
}
async function readShard(cid2, source, options) {
  const bytes = await source.get(cid2, options);
  const { node, unixfs } = decodeUnixFS(cid2, bytes);
  if (unixfs.type !== "hamt-sharded-directory") throw new TreeError(`HAMT sub-shard ${cid2} is a ${unixfs.type}`);
  return { node, unixfs };
}
function shardPrefixLength(unixfs) {
  const fanout = Number(unixfs.fanout ?? 0n);
  if (fanout < 2 || (fanout & fanout - 1) !== 0) throw new TreeError(`HAMT fanout ${fanout} is not a power of two`);
  return (fanout - 1).toString(16).length;
}
function decodeUnixFS(cid2, bytes) {
  if (cid2.code !== code) throw new TreeError(`${cid2} is not a dag-pb node`);
  try {
    const node = decode5(bytes);
    if (node.Data == null) throw new Error("no Data field");
    return { node, unixfs: UnixFS2.unmarshal(node.Data) };
  } catch (err) {
    throw new TreeError(`${cid2} is not a UnixFS node: ${err?.message ?? err}`, { cause: err });
  }
}

// src/core/unixfs/directory.ts
var SHARD_THRESHOLD_BYTES = 262144;
var DIRECTORY_DATA = new UnixFS2({ type: "directory" }).marshal();
async function buildDirectory(entries, sink, options) {
  throwIfAborted(options?.signal);
  checkNames(entries);
  const links = entries.map((entry) => ({ Name: entry.name, Hash: entry.cid, Tsize: entry.size }));
  cumulativeSize(0, links);
  const bytes = encode3(prepare({ Data: DIRECTORY_DATA, Links: links }));
  if (bytes.length > SHARD_THRESHOLD_BYTES) return buildShardedDirectory(entries, sink, options);
  return writeNode(DIRECTORY_DATA, links, sink, options);
}
async function readDirectory(cid2, source, options) {
  const entries = [];
  for await (const entry of directoryEntries(cid2, source, options)) entries.push(entry);
  return entries.sort(compareNames);
}
async function* directoryEntries(cid2, source, options) {
  const { node, unixfs } = await loadDirectory(cid2, source, options);
  if (unixfs.type === "hamt-sharded-directory") {
    yield* shardedEntries(cid2, node, unixfs, source, options);
    return;
  }
  if (node.Links.length > directoryLimit(options)) throw directoryTooLarge(cid2, options);
  options?.budget?.listed(cid2, node.Links.length);
  for (const link of node.Links) yield { name: link.Name ?? "", cid: link.Hash, size: link.Tsize ?? 0 };
}
async function findEntry(cid2, name4, source, options) {
  const { node, unixfs } = await loadDirectory(cid2, source, options);
  if (unixfs.type === "directory") {
    const link = node.Links.find((l) => l.Name === name4);
    return link == null ? void 0 : { name: name4, cid: link.Hash, size: link.Tsize ?? 0 };
  }
  return await findInShardedDirectory(cid2, node, unixfs, name4, source, options);
}
async function loadDirectory(cid2, source, options) {
  if (cid2.code !== code) throw new TreeError(`${cid2} is not a directory`);
  const bytes = options?.block ?? await source.get(cid2, options);
  const { node, unixfs } = decodeUnixFS(cid2, bytes);
  if (unixfs.type !== "directory" && unixfs.type !== "hamt-sharded-directory") throw new TreeError(`${cid2} is not a directory (UnixFS ${unixfs.type})`);
  return { node, unixfs };
}
function checkNames(entries) {
  const seen = /* @__PURE__ */ new Set();
  for (const { name: name4 } of entries) {
    checkName(name4);
    if (seen.has(name4)) throw new InputError("directory entries", `duplicate name '${name4}'`);
    seen.add(name4);
  }
}
function checkName(name4) {
  if (name4 === "" || name4 === "." || name4 === ".." || name4.includes("/") || name4.includes("\0")) {
    throw new InputError("directory entries", `invalid entry name '${name4}'`);
  }
}
var encoder2 = new TextEncoder();
function compareNames(a, b) {
  return Buffer.compare(encoder2.encode(a.name), encoder2.encode(b.name));
}

// node_modules/it-batch/dist/src/index.js
function isAsyncIterable(thing) {
  return thing[Symbol.asyncIterator] != null;
}
function batch(source, size = 1) {
  size = Number(size);
  if (isAsyncIterable(source)) {
    return (async function* () {
      let things = [];
      if (size < 1) {
        size = 1;
      }
      if (size !== Math.round(size)) {
        throw new Error("Batch size must be an integer");
      }
      for await (const thing of source) {
        things.push(thing);
        while (things.length >= size) {
          yield things.slice(0, size);
          things = things.slice(size);
        }
      }
      while (things.length > 0) {
        yield things.slice(0, size);
        things = things.slice(size);
      }
    })();
  }
  return (function* () {
    let things = [];
    if (size < 1) {
      size = 1;
    }
    if (size !== Math.round(size)) {
      throw new Error("Batch size must be an integer");
    }
    for (const thing of source) {
      things.push(thing);
      while (things.length >= size) {
        yield things.slice(0, size);
        things = things.slice(size);
      }
    }
    while (things.length > 0) {
      yield things.slice(0, size);
      things = things.slice(size);
    }
  })();
}
var src_default = batch;

// node_modules/it-parallel-batch/dist/src/index.js
async function* parallelBatch(source, size = 1) {
  for await (const tasks of src_default(source, size)) {
    const things = tasks.map(async (p) => {
      return p().then((value) => ({ ok: true, value }), (err) => ({ ok: false, err }));
    });
    for (let i = 0; i < things.length; i++) {
      const result = await things[i];
      if (result.ok) {
        yield result.value;
      } else {
        throw result.err;
      }
    }
  }
}

// node_modules/uint8arrays/dist/src/concat.node.js
import { Buffer as Buffer4 } from "node:buffer";
function concat(arrays, length3) {
  return asUint8Array(Buffer4.concat(arrays, length3));
}

// node_modules/uint8arrays/dist/src/equals.js
function equals3(a, b) {
  if (a === b) {
    return true;
  }
  if (a.byteLength !== b.byteLength) {
    return false;
  }
  for (let i = 0; i < a.byteLength; i++) {
    if (a[i] !== b[i]) {
      return false;
    }
  }
  return true;
}

// node_modules/uint8arraylist/dist/src/index.js
var symbol = /* @__PURE__ */ Symbol.for("@achingbrain/uint8arraylist");
function findBufAndOffset(bufs, index) {
  if (index == null || index < 0) {
    throw new RangeError("index is out of bounds");
  }
  let offset = 0;
  for (const buf of bufs) {
    const bufEnd = offset + buf.byteLength;
    if (index < bufEnd) {
      return {
        buf,
        index: index - offset
      };
    }
    offset = bufEnd;
  }
  throw new RangeError("index is out of bounds");
}
function isUint8ArrayList(value) {
  return Boolean(value?.[symbol]);
}
var Uint8ArrayList = class _Uint8ArrayList {
  bufs;
  length;
  [symbol] = true;
  constructor(...data) {
    this.bufs = [];
    this.length = 0;
    if (data.length > 0) {
      this.appendAll(data);
    }
  }
  *[Symbol.iterator]() {
    yield* this.bufs;
  }
  get byteLength() {
    return this.length;
  }
  /**
   * Add one or more `bufs` to the end of this Uint8ArrayList
   */
  append(...bufs) {
    this.appendAll(bufs);
  }
  /**
   * Add all `bufs` to the end of this Uint8ArrayList
   */
  appendAll(bufs) {
    let length3 = 0;
    for (const buf of bufs) {
      if (buf instanceof Uint8Array) {
        length3 += buf.byteLength;
        this.bufs.push(buf);
      } else if (isUint8ArrayList(buf)) {
        length3 += buf.byteLength;
        for (const chunk of buf.bufs) {
          this.bufs.push(chunk);
        }
      } else {
        throw new Error("Could not append value, must be an Uint8Array or a Uint8ArrayList");
      }
    }
    this.length += length3;
  }
  /**
   * Add one or more `bufs` to the start of this Uint8ArrayList
   */
  prepend(...bufs) {
    this.prependAll(bufs);
  }
  /**
   * Add all `bufs` to the start of this Uint8ArrayList
   */
  prependAll(bufs) {
    let length3 = 0;
    for (const buf of bufs.reverse()) {
      if (buf instanceof Uint8Array) {
        length3 += buf.byteLength;
        this.bufs.unshift(buf);
      } else if (isUint8ArrayList(buf)) {
        length3 += buf.byteLength;
        this.bufs.unshift(...buf.bufs);
      } else {
        throw new Error("Could not prepend value, must be an Uint8Array or a Uint8ArrayList");
      }
    }
    this.length += length3;
  }
  /**
   * Read the value at `index`
   */
  get(index) {
    const res = findBufAndOffset(this.bufs, index);
    return res.buf[res.index];
  }
  /**
   * Set the value at `index` to `value`
   */
  set(index, value) {
    const res = findBufAndOffset(this.bufs, index);
    res.buf[res.index] = value;
  }
  /**
   * Copy bytes from `buf` to the index specified by `offset`
   */
  write(buf, offset = 0) {
    if (buf instanceof Uint8Array) {
      for (let i = 0; i < buf.length; i++) {
        this.set(offset + i, buf[i]);
      }
    } else if (isUint8ArrayList(buf)) {
      for (let i = 0; i < buf.length; i++) {
        this.set(offset + i, buf.get(i));
      }
    } else {
      throw new Error("Could not write value, must be an Uint8Array or a Uint8ArrayList");
    }
  }
  /**
   * Remove bytes from the front of the pool
   */
  consume(bytes) {
    bytes = Math.trunc(bytes);
    if (Number.isNaN(bytes) || bytes <= 0) {
      return;
    }
    if (bytes === this.byteLength) {
      this.bufs = [];
      this.length = 0;
      return;
    }
    while (this.bufs.length > 0) {
      if (bytes >= this.bufs[0].byteLength) {
        bytes -= this.bufs[0].byteLength;
        this.length -= this.bufs[0].byteLength;
        this.bufs.shift();
      } else {
        this.bufs[0] = this.bufs[0].subarray(bytes);
        this.length -= bytes;
        break;
      }
    }
  }
  /**
   * Extracts a section of an array and returns a new array.
   *
   * This is a copy operation as it is with Uint8Arrays and Arrays
   * - note this is different to the behaviour of Node Buffers.
   */
  slice(beginInclusive, endExclusive) {
    const { bufs, length: length3 } = this._subList(beginInclusive, endExclusive);
    return concat(bufs, length3);
  }
  /**
   * Returns a section of the array from the given start and end element index.
   *
   * This is a no-copy operation where the data extracted data comes from a
   * single Uint8Array internally, otherwise it is a copy operation.
   */
  subarray(beginInclusive, endExclusive) {
    const { bufs, length: length3 } = this._subList(beginInclusive, endExclusive);
    if (bufs.length === 1) {
      return bufs[0];
    }
    return concat(bufs, length3);
  }
  /**
   * Returns a new Uint8ArrayList from the given start and end element index.
   *
   * This is a no-copy operation.
   */
  sublist(beginInclusive, endExclusive) {
    const { bufs, length: length3 } = this._subList(beginInclusive, endExclusive);
    const list2 = new _Uint8ArrayList();
    list2.length = length3;
    list2.bufs = bufs;
    return list2;
  }
  _subList(beginInclusive, endExclusive) {
    beginInclusive = beginInclusive ?? 0;
    endExclusive = endExclusive ?? this.length;
    if (beginInclusive < 0) {
      beginInclusive = this.length + beginInclusive;
    }
    if (endExclusive < 0) {
      endExclusive = this.length + endExclusive;
    }
    if (beginInclusive < 0 || endExclusive > this.length) {
      throw new RangeError("index is out of bounds");
    }
    if (beginInclusive === endExclusive) {
      return { bufs: [], length: 0 };
    }
    if (beginInclusive === 0 && endExclusive === this.length) {
      return { bufs: [...this.bufs], length: this.length };
    }
    const bufs = [];
    let offset = 0;
    for (let i = 0; i < this.bufs.length; i++) {
      const buf = this.bufs[i];
      const bufStart = offset;
      const bufEnd = bufStart + buf.byteLength;
      offset = bufEnd;
      if (beginInclusive >= bufEnd) {
        continue;
      }
      const sliceStartInBuf = beginInclusive >= bufStart && beginInclusive < bufEnd;
      const sliceEndsInBuf = endExclusive > bufStart && endExclusive <= bufEnd;
      if (sliceStartInBuf && sliceEndsInBuf) {
        if (beginInclusive === bufStart && endExclusive === bufEnd) {
          bufs.push(buf);
          break;
        }
        const start = beginInclusive - bufStart;
        bufs.push(buf.subarray(start, start + (endExclusive - beginInclusive)));
        break;
      }
      if (sliceStartInBuf) {
        if (beginInclusive === 0) {
          bufs.push(buf);
          continue;
        }
        bufs.push(buf.subarray(beginInclusive - bufStart));
        continue;
      }
      if (sliceEndsInBuf) {
        if (endExclusive === bufEnd) {
          bufs.push(buf);
          break;
        }
        bufs.push(buf.subarray(0, endExclusive - bufStart));
        break;
      }
      bufs.push(buf);
    }
    return { bufs, length: endExclusive - beginInclusive };
  }
  indexOf(search, offset = 0) {
    if (!isUint8ArrayList(search) && !(search instanceof Uint8Array)) {
      throw new TypeError('The "value" argument must be a Uint8ArrayList or Uint8Array');
    }
    const needle = search instanceof Uint8Array ? search : search.subarray();
    offset = Number(offset ?? 0);
    if (isNaN(offset)) {
      offset = 0;
    }
    if (offset < 0) {
      offset = this.length + offset;
    }
    if (offset < 0) {
      offset = 0;
    }
    if (search.length === 0) {
      return offset > this.length ? this.length : offset;
    }
    const M = needle.byteLength;
    if (M === 0) {
      throw new TypeError("search must be at least 1 byte long");
    }
    const radix = 256;
    const rightmostPositions = new Int32Array(radix);
    for (let c = 0; c < radix; c++) {
      rightmostPositions[c] = -1;
    }
    for (let j = 0; j < M; j++) {
      rightmostPositions[needle[j]] = j;
    }
    const right = rightmostPositions;
    const lastIndex = this.byteLength - needle.byteLength;
    const lastPatIndex = needle.byteLength - 1;
    let skip;
    for (let i = offset; i <= lastIndex; i += skip) {
      skip = 0;
      for (let j = lastPatIndex; j >= 0; j--) {
        const char = this.get(i + j);
        if (needle[j] !== char) {
          skip = Math.max(1, j - right[char]);
          break;
        }
      }
      if (skip === 0) {
        return i;
      }
    }
    return -1;
  }
  getInt8(byteOffset) {
    const buf = this.subarray(byteOffset, byteOffset + 1);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    return view.getInt8(0);
  }
  setInt8(byteOffset, value) {
    const buf = allocUnsafe(1);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    view.setInt8(0, value);
    this.write(buf, byteOffset);
  }
  getInt16(byteOffset, littleEndian) {
    const buf = this.subarray(byteOffset, byteOffset + 2);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    return view.getInt16(0, littleEndian);
  }
  setInt16(byteOffset, value, littleEndian) {
    const buf = alloc(2);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    view.setInt16(0, value, littleEndian);
    this.write(buf, byteOffset);
  }
  getInt32(byteOffset, littleEndian) {
    const buf = this.subarray(byteOffset, byteOffset + 4);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    return view.getInt32(0, littleEndian);
  }
  setInt32(byteOffset, value, littleEndian) {
    const buf = alloc(4);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    view.setInt32(0, value, littleEndian);
    this.write(buf, byteOffset);
  }
  getBigInt64(byteOffset, littleEndian) {
    const buf = this.subarray(byteOffset, byteOffset + 8);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    return view.getBigInt64(0, littleEndian);
  }
  setBigInt64(byteOffset, value, littleEndian) {
    const buf = alloc(8);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    view.setBigInt64(0, value, littleEndian);
    this.write(buf, byteOffset);
  }
  getUint8(byteOffset) {
    const buf = this.subarray(byteOffset, byteOffset + 1);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    return view.getUint8(0);
  }
  setUint8(byteOffset, value) {
    const buf = allocUnsafe(1);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    view.setUint8(0, value);
    this.write(buf, byteOffset);
  }
  getUint16(byteOffset, littleEndian) {
    const buf = this.subarray(byteOffset, byteOffset + 2);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    return view.getUint16(0, littleEndian);
  }
  setUint16(byteOffset, value, littleEndian) {
    const buf = alloc(2);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    view.setUint16(0, value, littleEndian);
    this.write(buf, byteOffset);
  }
  getUint32(byteOffset, littleEndian) {
    const buf = this.subarray(byteOffset, byteOffset + 4);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    return view.getUint32(0, littleEndian);
  }
  setUint32(byteOffset, value, littleEndian) {
    const buf = alloc(4);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    view.setUint32(0, value, littleEndian);
    this.write(buf, byteOffset);
  }
  getBigUint64(byteOffset, littleEndian) {
    const buf = this.subarray(byteOffset, byteOffset + 8);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    return view.getBigUint64(0, littleEndian);
  }
  setBigUint64(byteOffset, value, littleEndian) {
    const buf = alloc(8);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    view.setBigUint64(0, value, littleEndian);
    this.write(buf, byteOffset);
  }
  getFloat32(byteOffset, littleEndian) {
    const buf = this.subarray(byteOffset, byteOffset + 4);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    return view.getFloat32(0, littleEndian);
  }
  setFloat32(byteOffset, value, littleEndian) {
    const buf = alloc(4);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    view.setFloat32(0, value, littleEndian);
    this.write(buf, byteOffset);
  }
  getFloat64(byteOffset, littleEndian) {
    const buf = this.subarray(byteOffset, byteOffset + 8);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    return view.getFloat64(0, littleEndian);
  }
  setFloat64(byteOffset, value, littleEndian) {
    const buf = alloc(8);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    view.setFloat64(0, value, littleEndian);
    this.write(buf, byteOffset);
  }
  equals(other) {
    if (other == null) {
      return false;
    }
    if (!(other instanceof _Uint8ArrayList)) {
      return false;
    }
    if (other.bufs.length !== this.bufs.length) {
      return false;
    }
    for (let i = 0; i < this.bufs.length; i++) {
      if (!equals3(this.bufs[i], other.bufs[i])) {
        return false;
      }
    }
    return true;
  }
  /**
   * Create a Uint8ArrayList from a pre-existing list of Uint8Arrays.  Use this
   * method if you know the total size of all the Uint8Arrays ahead of time.
   */
  static fromUint8Arrays(bufs, length3) {
    const list2 = new _Uint8ArrayList();
    list2.bufs = bufs;
    if (length3 == null) {
      length3 = bufs.reduce((acc, curr) => acc + curr.byteLength, 0);
    }
    list2.length = length3;
    return list2;
  }
};

// node_modules/ipfs-unixfs-importer/dist/src/constants.js
var DEFAULT_CID_VERSION = 1;
var DEFAULT_SHARD_HASH_CODE = BigInt(34);
var DEFAULT_SHARD_FANOUT_BITS = 8;
var DEFAULT_SHARD_SPLIT_THRESHOLD_BYTES = 262144;
var DEFAULT_SHARD_SPLIT_STRATEGY = "links-bytes";
var DEFAULT_CHUNK_SIZE_256KIB = 262144;
var DEFAULT_CHUNK_SIZE_1MIB = 1048576;
var DEFAULT_FILE_IMPORT_CONCURRENCY = 50;
var DEFAULT_BLOCK_WRITE_CONCURRENCY = 10;
var DEFAULT_REDUCE_SINGLE_LEAF_TO_SELF = true;
var DEFAULT_RAW_LEAVES = true;
var DEFAULT_WRAP_WITH_DIRECTORY = false;
var DEFAULT_LEAF_TYPE = "file";
var DEFAULT_FIELD_ORDER = "links-first";

// node_modules/ipfs-unixfs-importer/dist/src/chunker/fixed-size.js
var fixedSize = (options = {}) => {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE_256KIB;
  return async function* fixedSizeChunker(source) {
    let list2 = new Uint8ArrayList();
    let currentLength = 0;
    let emitted = false;
    for await (const buffer2 of source) {
      list2.append(buffer2);
      currentLength += buffer2.length;
      while (currentLength >= chunkSize) {
        const buf = list2.subarray(0, chunkSize);
        yield buf;
        emitted = true;
        if (chunkSize === list2.length) {
          list2 = new Uint8ArrayList();
          currentLength = 0;
        } else {
          const newBl = new Uint8ArrayList();
          newBl.append(list2.sublist(chunkSize));
          list2 = newBl;
          currentLength -= chunkSize;
        }
      }
    }
    if (!emitted || currentLength > 0) {
      yield list2.subarray(0, currentLength);
    }
  };
};

// node_modules/progress-events/dist/src/index.js
var CustomProgressEvent = class extends Event {
  type;
  detail;
  constructor(type, detail) {
    super(type);
    this.type = type;
    this.detail = detail;
  }
};

// node_modules/ipfs-unixfs-importer/dist/src/utils/persist.js
var persist = async (buffer2, blockstore, options) => {
  if (options.codec == null) {
    options.codec = src_exports;
  }
  const multihash = await sha256.digest(buffer2);
  const cid2 = CID.create(options.cidVersion ?? DEFAULT_CID_VERSION, options.codec.code, multihash);
  await blockstore.put(cid2, buffer2, options);
  return cid2;
};

// node_modules/ipfs-unixfs-importer/dist/src/dag-builder/buffer-importer.js
function defaultBufferImporter(options) {
  return async function* bufferImporter(file, blockstore) {
    let bytesWritten = 0n;
    for await (let block of file.content) {
      yield async () => {
        let unixfs;
        const opts = {
          codec: src_exports,
          cidVersion: options.cidVersion,
          onProgress: options.onProgress
        };
        if (options.rawLeaves) {
          opts.codec = raw_exports;
          opts.cidVersion = 1;
        } else {
          unixfs = new UnixFS2({
            type: options.leafType,
            data: block
          });
          block = encode3({
            Data: unixfs.marshal(),
            Links: []
          }, options);
        }
        const cid2 = await persist(block, blockstore, opts);
        bytesWritten += BigInt(block.byteLength);
        options.onProgress?.(new CustomProgressEvent("unixfs:importer:progress:file:write", {
          bytesWritten,
          cid: cid2,
          path: file.path
        }));
        return {
          cid: cid2,
          unixfs,
          size: BigInt(block.length),
          block
        };
      };
    }
  };
}

// node_modules/ipfs-unixfs-importer/dist/src/errors.js
var InvalidContentError = class _InvalidContentError extends Error {
  static name = "InvalidContentError";
  static code = "ERR_INVALID_CONTENT";
  name = _InvalidContentError.name;
  code = _InvalidContentError.code;
  constructor(message2 = "Invalid content") {
    super(message2);
  }
};
var InvalidShardingStrategyError = class extends Error {
  static name = "InvalidShardingStrategyError";
  static code = "ERR_SHARDING_STRATEGY";
  name = InvalidContentError.name;
  code = InvalidContentError.code;
};

// node_modules/ipfs-unixfs-importer/dist/src/dag-builder/dir.js
var defaultDirBuilder = async (dir, blockstore, options) => {
  const unixfs = new UnixFS2({
    type: "directory",
    mtime: dir.mtime,
    mode: dir.mode
  });
  const block = encode3(prepare({ Data: unixfs.marshal() }), options);
  const cid2 = await persist(block, blockstore, options);
  const path2 = dir.path;
  return {
    cid: cid2,
    path: path2,
    unixfs,
    size: BigInt(block.length),
    originalPath: dir.originalPath,
    block
  };
};

// node_modules/ipfs-unixfs-importer/dist/src/dag-builder/file.js
async function* buildFileBatch(file, blockstore, options) {
  let count = -1;
  let previous;
  for await (const entry of parallelBatch(options.bufferImporter(file, blockstore), options.blockWriteConcurrency)) {
    count++;
    if (count === 0) {
      previous = {
        ...entry,
        single: true
      };
      continue;
    } else if (count === 1 && previous != null) {
      yield {
        ...previous,
        block: void 0,
        single: void 0
      };
      previous = void 0;
    }
    yield {
      ...entry,
      block: void 0
    };
  }
  if (previous != null) {
    yield previous;
  }
}
function isSingleBlockImport(result) {
  return result.single === true;
}
var reduce = (file, blockstore, options) => {
  const reducer = async function(leaves) {
    if (leaves.length === 1 && isSingleBlockImport(leaves[0]) && options.reduceSingleLeafToSelf) {
      const leaf2 = leaves[0];
      let node2 = leaf2.block;
      if (isSingleBlockImport(leaf2) && (file.mtime !== void 0 || file.mode !== void 0)) {
        leaf2.unixfs = new UnixFS2({
          type: "file",
          mtime: file.mtime,
          mode: file.mode,
          data: leaf2.block
        });
        node2 = { Data: leaf2.unixfs.marshal(), Links: [] };
        leaf2.block = encode3(prepare(node2), options);
        leaf2.cid = await persist(leaf2.block, blockstore, {
          ...options,
          cidVersion: options.cidVersion
        });
        leaf2.size = BigInt(leaf2.block.length);
      }
      options.onProgress?.(new CustomProgressEvent("unixfs:importer:progress:file:layout", {
        cid: leaf2.cid,
        path: file.originalPath
      }));
      return {
        cid: leaf2.cid,
        path: file.path,
        unixfs: leaf2.unixfs,
        size: leaf2.size,
        originalPath: file.originalPath
      };
    }
    const f = new UnixFS2({
      type: "file",
      mtime: file.mtime,
      mode: file.mode
    });
    const links = leaves.filter((leaf2) => {
      if (leaf2.cid.code === code2 && leaf2.size > 0) {
        return true;
      }
      if (leaf2.unixfs != null && leaf2.unixfs.data == null && leaf2.unixfs.fileSize() > 0n) {
        return true;
      }
      return Boolean(leaf2.unixfs?.data?.length);
    }).map((leaf2) => {
      if (leaf2.cid.code === code2) {
        f.addBlockSize(leaf2.size);
        return {
          Name: "",
          Tsize: Number(leaf2.size),
          Hash: leaf2.cid
        };
      }
      if (leaf2.unixfs?.data == null) {
        f.addBlockSize(leaf2.unixfs?.fileSize() ?? 0n);
      } else {
        f.addBlockSize(BigInt(leaf2.unixfs.data.length));
      }
      return {
        Name: "",
        Tsize: Number(leaf2.size),
        Hash: leaf2.cid
      };
    });
    const node = {
      Data: f.marshal(),
      Links: links
    };
    const block = encode3(prepare(node), options);
    const cid2 = await persist(block, blockstore, options);
    options.onProgress?.(new CustomProgressEvent("unixfs:importer:progress:file:layout", {
      cid: cid2,
      path: file.originalPath
    }));
    return {
      cid: cid2,
      path: file.path,
      unixfs: f,
      size: BigInt(block.length + node.Links.reduce((acc, curr) => acc + (curr.Tsize ?? 0), 0)),
      originalPath: file.originalPath,
      block
    };
  };
  return reducer;
};
var defaultFileBuilder = async (file, block, options) => {
  return options.layout(buildFileBatch(file, block, options), reduce(file, block, options));
};

// node_modules/ipfs-unixfs-importer/dist/src/dag-builder/symlink.js
var defaultSymlinkBuilder = async (symlink, blockstore, options) => {
  const unixfs = new UnixFS2({
    type: "symlink",
    data: fromString2(symlink.link),
    mtime: symlink.mtime,
    mode: symlink.mode
  });
  const block = encode3(prepare({ Data: unixfs.marshal() }));
  const cid2 = await persist(block, blockstore, options);
  const path2 = symlink.path;
  return {
    cid: cid2,
    path: path2,
    unixfs,
    size: BigInt(block.length),
    originalPath: symlink.originalPath,
    block
  };
};

// node_modules/ipfs-unixfs-importer/dist/src/dag-builder/index.js
function isIterable(thing) {
  return Symbol.iterator in thing;
}
function isAsyncIterable2(thing) {
  return Symbol.asyncIterator in thing;
}
function contentAsAsyncIterable(content) {
  try {
    if (content instanceof Uint8Array) {
      return (async function* () {
        yield content;
      })();
    } else if (isIterable(content)) {
      return (async function* () {
        yield* content;
      })();
    } else if (isAsyncIterable2(content)) {
      return content;
    }
  } catch {
    throw new InvalidContentError("Content was invalid");
  }
  throw new InvalidContentError("Content was invalid");
}
function isPathCandidate(candidate) {
  return typeof candidate.path === "string";
}
function defaultDagBuilder(options) {
  return async function* dagBuilder(source, blockstore) {
    for await (const entry of source) {
      let originalPath;
      if (isPathCandidate(entry)) {
        originalPath = entry.path;
        entry.path = entry.path.split("/").filter((path2) => path2 != null && path2 !== ".").join("/");
      }
      if (isFileCandidate(entry)) {
        const file = {
          path: entry.path,
          mtime: entry.mtime,
          mode: entry.mode,
          content: (async function* () {
            let bytesRead = 0n;
            for await (const chunk of options.chunker(options.chunkValidator(contentAsAsyncIterable(entry.content)))) {
              const currentChunkSize = BigInt(chunk.byteLength);
              bytesRead += currentChunkSize;
              options.onProgress?.(new CustomProgressEvent("unixfs:importer:progress:file:read", {
                bytesRead,
                chunkSize: currentChunkSize,
                path: entry.path
              }));
              yield chunk;
            }
          })(),
          originalPath
        };
        const fileBuilder = options.fileBuilder ?? defaultFileBuilder;
        yield async () => fileBuilder(file, blockstore, options);
      } else if (isSymLinkCandidate(entry)) {
        const symlink = {
          path: entry.path,
          link: entry.link,
          mtime: entry.mtime,
          mode: entry.mode,
          originalPath
        };
        const symlinkBuilder = options.symlinkBuilder ?? defaultSymlinkBuilder;
        yield async () => symlinkBuilder(symlink, blockstore, options);
      } else if (entry.path != null) {
        const dir = {
          path: entry.path,
          mtime: entry.mtime,
          mode: entry.mode,
          originalPath
        };
        const dirBuilder = options.dirBuilder ?? defaultDirBuilder;
        yield async () => dirBuilder(dir, blockstore, options);
      } else {
        throw new Error("Import candidate must have content or path or both");
      }
    }
  };
}
function isFileCandidate(entry) {
  return entry.content != null;
}
function isSymLinkCandidate(entry) {
  return entry.link != null;
}

// node_modules/ipfs-unixfs-importer/dist/src/dag-builder/validate-chunks.js
var defaultChunkValidator = () => {
  return async function* validateChunks(source) {
    for await (const content of source) {
      if (content.length === void 0) {
        throw new InvalidContentError("Content was invalid");
      }
      if (typeof content === "string" || content instanceof String) {
        yield fromString2(content.toString());
      } else if (Array.isArray(content)) {
        yield Uint8Array.from(content);
      } else if (content instanceof Uint8Array) {
        yield content;
      } else {
        throw new InvalidContentError("Content was invalid");
      }
    }
  };
};

// node_modules/ipfs-unixfs-importer/dist/src/layout/balanced.js
var DEFAULT_MAX_CHILDREN_PER_NODE = 174;
function balanced(options) {
  const maxChildrenPerNode = options?.maxChildrenPerNode ?? DEFAULT_MAX_CHILDREN_PER_NODE;
  return async function balancedLayout(source, reduce2) {
    const roots = [];
    for await (const chunked of src_default(source, maxChildrenPerNode)) {
      roots.push(await reduce2(chunked));
    }
    if (roots.length > 1) {
      return balancedLayout(roots, reduce2);
    }
    return roots[0];
  };
}

// node_modules/ipfs-unixfs-importer/dist/src/dir.js
var Dir = class {
  options;
  root;
  dir;
  path;
  dirty;
  flat;
  parent;
  parentKey;
  unixfs;
  mode;
  mtime;
  cid;
  size;
  nodeSize;
  constructor(props, options) {
    this.options = options ?? {};
    this.root = props.root;
    this.dir = props.dir;
    this.path = props.path;
    this.dirty = props.dirty;
    this.flat = props.flat;
    this.parent = props.parent;
    this.parentKey = props.parentKey;
    this.unixfs = props.unixfs;
    this.mode = props.mode;
    this.mtime = props.mtime;
  }
};

// node_modules/ipfs-unixfs-importer/dist/src/utils/pb-size.js
var maxInt322 = 2 ** 32;
var len8tab2 = [
  0,
  1,
  2,
  2,
  3,
  3,
  3,
  3,
  4,
  4,
  4,
  4,
  4,
  4,
  4,
  4,
  5,
  5,
  5,
  5,
  5,
  5,
  5,
  5,
  5,
  5,
  5,
  5,
  5,
  5,
  5,
  5,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  6,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  7,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8
];
function len642(x) {
  let n = 0;
  if (x >= maxInt322) {
    x = Math.floor(x / maxInt322);
    n = 32;
  }
  if (x >= 1 << 16) {
    x >>>= 16;
    n += 16;
  }
  if (x >= 1 << 8) {
    x >>>= 8;
    n += 8;
  }
  return n + len8tab2[x];
}
function varintLen(x) {
  if (x % 2 === 0) {
    x++;
  }
  return Math.floor((len642(x) + 6) / 7);
}
function utf8ByteLength(str2) {
  let len = 0;
  for (let i = 0; i < str2.length; i++) {
    const c = str2.charCodeAt(i);
    if (c < 128) {
      len++;
    } else if (c < 2048) {
      len += 2;
    } else if (c >= 55296 && c <= 56319 && i + 1 < str2.length) {
      i++;
      len += 4;
    } else {
      len += 3;
    }
  }
  return len;
}
function linkSerializedSize(nameByteLen, cidByteLength, tsize) {
  let linkLen = 1 + varintLen(cidByteLength) + cidByteLength;
  linkLen += 1 + varintLen(nameByteLen) + nameByteLen;
  linkLen += 1 + varintLen(tsize);
  return 1 + varintLen(linkLen) + linkLen;
}
var DIR_DEFAULT_MODE = 493;
function dataFieldSerializedSize(mode, mtime) {
  let innerSize = 2;
  if (mode !== void 0 && mode !== DIR_DEFAULT_MODE) {
    innerSize += 1 + varintLen(mode);
  }
  if (mtime != null) {
    let mtimeInner = 0;
    const secs = Number(mtime.secs);
    if (secs < 0) {
      mtimeInner += 1 + 10;
    } else {
      mtimeInner += 1 + varintLen(secs);
    }
    if (mtime.nsecs != null) {
      mtimeInner += 1 + 4;
    }
    innerSize += 1 + varintLen(mtimeInner) + mtimeInner;
  }
  return 1 + varintLen(innerSize) + innerSize;
}

// node_modules/ipfs-unixfs-importer/dist/src/dir-flat.js
function estimateLinkSize(nameBytes, child) {
  if (child?.cid != null && child?.size != null) {
    return nameBytes + child.cid.byteLength;
  }
  return 0;
}
function calculateLinkSize(nameBytes, child) {
  if (child?.cid != null && child?.size != null) {
    return linkSerializedSize(nameBytes, child.cid.byteLength, Number(child.size));
  }
  return 0;
}
var DirFlat = class extends Dir {
  _children;
  constructor(props, options) {
    super(props, options);
    this._children = /* @__PURE__ */ new Map();
  }
  async put(name4, value) {
    if (this.nodeSize !== void 0) {
      const oldChild = this._children.get(name4);
      const nameBytes = utf8ByteLength(name4);
      const strategy = this.options?.shardSplitStrategy;
      if (strategy === "links-bytes") {
        this.nodeSize -= estimateLinkSize(nameBytes, oldChild);
        this.nodeSize += estimateLinkSize(nameBytes, value);
      } else if (strategy === "block-bytes") {
        this.nodeSize -= calculateLinkSize(nameBytes, oldChild);
        this.nodeSize += calculateLinkSize(nameBytes, value);
      } else {
        throw new InvalidShardingStrategyError(`Invalid shardSplitStrategy: ${strategy}`);
      }
      if (this.nodeSize < 0) {
        this.nodeSize = void 0;
      }
    }
    this.cid = void 0;
    this.size = void 0;
    this._children.set(name4, value);
  }
  async get(name4) {
    return Promise.resolve(this._children.get(name4));
  }
  childCount() {
    return this._children.size;
  }
  directChildrenCount() {
    return this.childCount();
  }
  onlyChild() {
    return this._children.values().next().value;
  }
  *eachChildSeries() {
    for (const [key, child] of this._children.entries()) {
      yield {
        key,
        child
      };
    }
  }
  marshal() {
    const unixfs = new UnixFS2({
      type: "directory",
      mtime: this.mtime,
      mode: this.mode
    });
    const links = [];
    for (const [name4, child] of this._children.entries()) {
      if (child.size == null || child.cid == null) {
        continue;
      }
      if (child.cid == null) {
        throw new Error("Directory contents must be flushed before marshaling");
      }
      links.push({
        Hash: child.cid,
        Name: name4,
        Tsize: child.size == null ? void 0 : Number(child.size)
      });
    }
    const node = {
      Data: unixfs.marshal(),
      Links: links
    };
    return encode3(prepare(node), this.options);
  }
  async estimateNodeSize() {
    if (this.nodeSize !== void 0) {
      return this.nodeSize;
    }
    const strategy = this.options?.shardSplitStrategy;
    if (strategy === "links-bytes") {
      this.nodeSize = 0;
      for (const [name4, child] of this._children.entries()) {
        this.nodeSize += estimateLinkSize(utf8ByteLength(name4), child);
      }
    } else if (strategy === "block-bytes") {
      this.nodeSize = dataFieldSerializedSize(this.mode, this.mtime);
      for (const [name4, child] of this._children.entries()) {
        this.nodeSize += calculateLinkSize(utf8ByteLength(name4), child);
      }
    } else {
      throw new InvalidShardingStrategyError(`Invalid shardSplitStrategy: ${strategy}`);
    }
    return this.nodeSize;
  }
  async *flush(block) {
    const links = [];
    for (const [name4, child] of this._children.entries()) {
      let result = child;
      if (child instanceof Dir) {
        for await (const entry of child.flush(block)) {
          result = entry;
          yield entry;
        }
      }
      if (result.size != null && result.cid != null) {
        links.push({
          Name: name4,
          Tsize: Number(result.size),
          Hash: result.cid
        });
      }
    }
    const unixfs = new UnixFS2({
      type: "directory",
      mtime: this.mtime,
      mode: this.mode
    });
    const node = { Data: unixfs.marshal(), Links: links };
    const buffer2 = encode3(prepare(node), this.options);
    const cid2 = await persist(buffer2, block, this.options);
    const size = buffer2.length + node.Links.reduce(
      /**
       * @param {number} acc
       * @param {PBLink} curr
       */
      (acc, curr) => acc + (curr.Tsize ?? 0),
      0
    );
    this.cid = cid2;
    this.size = size;
    yield {
      cid: cid2,
      unixfs,
      path: this.path,
      size: BigInt(size)
    };
  }
};

// node_modules/interface-store/dist/src/errors.js
var NotFoundError = class _NotFoundError extends Error {
  static name = "NotFoundError";
  name = _NotFoundError.name;
  /**
   * @deprecated use `.name` instead - this will be removed in a future release
   */
  static code = "ERR_NOT_FOUND";
  /**
   * @deprecated use `.name` instead - this will be removed in a future release
   */
  code = _NotFoundError.code;
  constructor(message2 = "Not Found") {
    super(message2);
  }
};

// node_modules/blockstore-core/dist/src/base.js
var BaseBlockstore = class {
  has(key, options) {
    return Promise.reject(new Error(".has is not implemented"));
  }
  put(key, val, options) {
    return Promise.reject(new Error(".put is not implemented"));
  }
  async *putMany(source, options) {
    for await (const { cid: cid2, bytes } of source) {
      await this.put(cid2, bytes, options);
      yield cid2;
    }
  }
  get(key, options) {
    throw new Error(".get is not implemented");
  }
  async *getMany(source, options) {
    for await (const key of source) {
      yield {
        cid: key,
        bytes: this.get(key, options)
      };
    }
  }
  delete(key, options) {
    return Promise.reject(new Error(".delete is not implemented"));
  }
  async *deleteMany(source, options) {
    for await (const key of source) {
      await this.delete(key, options);
      yield key;
    }
  }
  /**
   * Extending classes should override `query` or implement this method
   */
  async *getAll(options) {
    throw new Error(".getAll is not implemented");
  }
};

// node_modules/blockstore-core/dist/src/black-hole.js
var BlackHoleBlockstore = class extends BaseBlockstore {
  put(key, value, options) {
    options?.signal?.throwIfAborted();
    return key;
  }
  get(key, options) {
    options?.signal?.throwIfAborted();
    throw new NotFoundError();
  }
  has(key, options) {
    options?.signal?.throwIfAborted();
    return false;
  }
  async delete(cid2, options) {
    options?.signal?.throwIfAborted();
  }
  // eslint-disable-next-line require-yield
  async *getAll(options) {
    options?.signal?.throwIfAborted();
  }
};

// node_modules/hamt-sharding/dist/src/bucket.js
var import_sparse_array = __toESM(require_sparse_array(), 1);
var Bucket = class _Bucket {
  _options;
  _popCount;
  _parent;
  _posAtParent;
  _children;
  key;
  constructor(options, parent, posAtParent = 0) {
    this._options = options;
    this._popCount = 0;
    this._parent = parent;
    this._posAtParent = posAtParent;
    this._children = new import_sparse_array.default();
    this.key = null;
  }
  async put(key, value) {
    const place = await this._findNewBucketAndPos(key);
    place.bucket._putAt(place, key, value);
  }
  async get(key) {
    const child = await this._findChild(key);
    if (child != null) {
      return child.value;
    }
  }
  async del(key) {
    const place = await this._findPlace(key);
    const child = place.bucket._at(place.pos);
    if (child != null && child.key === key) {
      place.bucket._delAt(place.pos);
    }
  }
  leafCount() {
    const children = this._children.compactArray();
    return children.reduce((acc, child) => {
      if (child instanceof _Bucket) {
        return acc + child.leafCount();
      }
      return acc + 1;
    }, 0);
  }
  childrenCount() {
    return this._children.length;
  }
  onlyChild() {
    return this._children.get(0);
  }
  *eachLeafSeries() {
    const children = this._children.compactArray();
    for (const child of children) {
      if (child instanceof _Bucket) {
        yield* child.eachLeafSeries();
      } else {
        yield child;
      }
    }
  }
  serialize(map, reduce2) {
    const acc = [];
    return reduce2(this._children.reduce((acc2, child, index) => {
      if (child != null) {
        if (child instanceof _Bucket) {
          acc2.push(child.serialize(map, reduce2));
        } else {
          acc2.push(map(child, index));
        }
      }
      return acc2;
    }, acc));
  }
  async asyncTransform(asyncMap, asyncReduce) {
    return asyncTransformBucket(this, asyncMap, asyncReduce);
  }
  toJSON() {
    return this.serialize(mapNode, reduceNodes);
  }
  prettyPrint() {
    return JSON.stringify(this.toJSON(), null, "  ");
  }
  tableSize() {
    return Math.pow(2, this._options.bits);
  }
  async _findChild(key) {
    const result = await this._findPlace(key);
    const child = result.bucket._at(result.pos);
    if (child instanceof _Bucket) {
      return void 0;
    }
    if (child != null && child.key === key) {
      return child;
    }
  }
  async _findPlace(key) {
    const hashValue = this._options.hash(typeof key === "string" ? fromString2(key) : key);
    const index = await hashValue.take(this._options.bits);
    const child = this._children.get(index);
    if (child instanceof _Bucket) {
      return child._findPlace(hashValue);
    }
    return {
      bucket: this,
      pos: index,
      hash: hashValue,
      existingChild: child
    };
  }
  async _findNewBucketAndPos(key) {
    const place = await this._findPlace(key);
    if (place.existingChild != null && place.existingChild.key !== key) {
      const bucket = new _Bucket(this._options, place.bucket, place.pos);
      place.bucket._putObjectAt(place.pos, bucket);
      const newPlace = await bucket._findPlace(place.existingChild.hash);
      newPlace.bucket._putAt(newPlace, place.existingChild.key, place.existingChild.value);
      return bucket._findNewBucketAndPos(place.hash);
    }
    return place;
  }
  _putAt(place, key, value) {
    this._putObjectAt(place.pos, {
      key,
      value,
      hash: place.hash
    });
  }
  _putObjectAt(pos, object2) {
    if (this._children.get(pos) == null) {
      this._popCount++;
    }
    this._children.set(pos, object2);
  }
  _delAt(pos) {
    if (pos === -1) {
      throw new Error("Invalid position");
    }
    if (this._children.get(pos) != null) {
      this._popCount--;
    }
    this._children.unset(pos);
    this._level();
  }
  _level() {
    if (this._parent != null && this._popCount <= 1) {
      if (this._popCount === 1) {
        const onlyChild = this._children.find(exists);
        if (onlyChild != null && !(onlyChild instanceof _Bucket)) {
          const hash = onlyChild.hash;
          hash.untake(this._options.bits);
          const place = {
            pos: this._posAtParent,
            hash,
            bucket: this._parent
          };
          this._parent._putAt(place, onlyChild.key, onlyChild.value);
        }
      } else {
        this._parent._delAt(this._posAtParent);
      }
    }
  }
  _at(index) {
    return this._children.get(index);
  }
};
function exists(o) {
  return Boolean(o);
}
function mapNode(node, _) {
  return node.key;
}
function reduceNodes(nodes) {
  return nodes;
}
async function asyncTransformBucket(bucket, asyncMap, asyncReduce) {
  const output = [];
  for (const child of bucket._children.compactArray()) {
    if (child instanceof Bucket) {
      await asyncTransformBucket(child, asyncMap, asyncReduce);
    } else {
      const mappedChildren = await asyncMap(child);
      output.push({
        bitField: bucket._children.bitField(),
        children: mappedChildren
      });
    }
  }
  return asyncReduce(output);
}

// node_modules/hamt-sharding/dist/src/consumable-buffer.js
var START_MASKS = [
  255,
  254,
  252,
  248,
  240,
  224,
  192,
  128
];
var STOP_MASKS = [
  1,
  3,
  7,
  15,
  31,
  63,
  127,
  255
];
var ConsumableBuffer = class {
  _value;
  _currentBytePos;
  _currentBitPos;
  constructor(value) {
    this._value = value;
    this._currentBytePos = value.length - 1;
    this._currentBitPos = 7;
  }
  availableBits() {
    return this._currentBitPos + 1 + this._currentBytePos * 8;
  }
  totalBits() {
    return this._value.length * 8;
  }
  take(bits) {
    let pendingBits = bits;
    let result = 0;
    while (pendingBits > 0 && this._haveBits()) {
      const byte = this._value[this._currentBytePos];
      const availableBits = this._currentBitPos + 1;
      const taking = Math.min(availableBits, pendingBits);
      const value = byteBitsToInt(byte, availableBits - taking, taking);
      result = (result << taking) + value;
      pendingBits -= taking;
      this._currentBitPos -= taking;
      if (this._currentBitPos < 0) {
        this._currentBitPos = 7;
        this._currentBytePos--;
      }
    }
    return result;
  }
  untake(bits) {
    this._currentBitPos += bits;
    while (this._currentBitPos > 7) {
      this._currentBitPos -= 8;
      this._currentBytePos += 1;
    }
  }
  _haveBits() {
    return this._currentBytePos >= 0;
  }
};
function byteBitsToInt(byte, start, length3) {
  const mask = maskFor(start, length3);
  return (byte & mask) >>> start;
}
function maskFor(start, length3) {
  return START_MASKS[start] & STOP_MASKS[Math.min(length3 + start - 1, 7)];
}

// node_modules/hamt-sharding/dist/src/consumable-hash.js
function wrapHash(hashFn) {
  function hashing2(value) {
    if (value instanceof InfiniteHash) {
      return value;
    } else {
      return new InfiniteHash(value, hashFn);
    }
  }
  return hashing2;
}
var InfiniteHash = class {
  _value;
  _hashFn;
  _depth;
  _availableBits;
  _currentBufferIndex;
  _buffers;
  constructor(value, hashFn) {
    if (!(value instanceof Uint8Array)) {
      throw new Error("can only hash Uint8Arrays");
    }
    this._value = value;
    this._hashFn = hashFn;
    this._depth = -1;
    this._availableBits = 0;
    this._currentBufferIndex = 0;
    this._buffers = [];
  }
  async take(bits) {
    let pendingBits = bits;
    while (this._availableBits < pendingBits) {
      await this._produceMoreBits();
    }
    let result = 0;
    while (pendingBits > 0) {
      const hash = this._buffers[this._currentBufferIndex];
      const available = Math.min(hash.availableBits(), pendingBits);
      const took = hash.take(available);
      result = (result << available) + took;
      pendingBits -= available;
      this._availableBits -= available;
      if (hash.availableBits() === 0) {
        this._currentBufferIndex++;
      }
    }
    return result;
  }
  untake(bits) {
    let pendingBits = bits;
    while (pendingBits > 0) {
      const hash = this._buffers[this._currentBufferIndex];
      const availableForUntake = Math.min(hash.totalBits() - hash.availableBits(), pendingBits);
      hash.untake(availableForUntake);
      pendingBits -= availableForUntake;
      this._availableBits += availableForUntake;
      if (this._currentBufferIndex > 0 && hash.totalBits() === hash.availableBits()) {
        this._depth--;
        this._currentBufferIndex--;
      }
    }
  }
  async _produceMoreBits() {
    this._depth++;
    const value = this._depth > 0 ? concat([this._value, Uint8Array.from([this._depth])]) : this._value;
    const hashValue = await this._hashFn(value);
    const buffer2 = new ConsumableBuffer(hashValue);
    this._buffers.push(buffer2);
    this._availableBits += buffer2.availableBits();
  }
};

// node_modules/hamt-sharding/dist/src/index.js
function createHAMT(options) {
  if (options == null || options.hashFn == null) {
    throw new Error("please define an options.hashFn");
  }
  const bucketOptions = {
    bits: options.bits ?? 8,
    hash: wrapHash(options.hashFn)
  };
  return new Bucket(bucketOptions);
}

// node_modules/ipfs-unixfs-importer/dist/src/dir-sharded.js
async function hamtHashFn(buf) {
  return (await murmur3128.encode(buf)).slice(0, 8).reverse();
}
var DirSharded = class extends Dir {
  bucket;
  constructor(props, options) {
    super(props, options);
    this.bucket = createHAMT({
      hashFn: hamtHashFn,
      bits: options.shardFanoutBits ?? DEFAULT_SHARD_FANOUT_BITS
    });
  }
  async put(name4, value) {
    this.cid = void 0;
    this.size = void 0;
    this.nodeSize = void 0;
    await this.bucket.put(name4, value);
  }
  async get(name4) {
    return this.bucket.get(name4);
  }
  childCount() {
    return this.bucket.leafCount();
  }
  directChildrenCount() {
    return this.bucket.childrenCount();
  }
  onlyChild() {
    return this.bucket.onlyChild();
  }
  *eachChildSeries() {
    for (const { key, value } of this.bucket.eachLeafSeries()) {
      yield {
        key,
        child: value
      };
    }
  }
  async estimateNodeSize() {
    if (this.nodeSize !== void 0) {
      return this.nodeSize;
    }
    const blockstore = new BlackHoleBlockstore();
    const result = await calculateSize(this.bucket, this, blockstore, this.options);
    this.nodeSize = result.size;
    return this.nodeSize;
  }
  async *flush(blockstore) {
    for await (const entry of flush(this.bucket, blockstore, this, this.options)) {
      yield {
        ...entry,
        path: this.path
      };
    }
  }
};
var dir_sharded_default = DirSharded;
async function* flush(bucket, blockstore, shardRoot, options) {
  const children = bucket._children;
  const padLength = (bucket.tableSize() - 1).toString(16).length;
  const links = [];
  let childrenSize = 0n;
  for (let i = 0; i < children.length; i++) {
    const child = children.get(i);
    if (child == null) {
      continue;
    }
    const labelPrefix = i.toString(16).toUpperCase().padStart(padLength, "0");
    if (child instanceof Bucket) {
      let shard;
      for await (const subShard of flush(child, blockstore, null, options)) {
        shard = subShard;
      }
      if (shard == null) {
        throw new Error("Could not flush sharded directory, no sub-shard found");
      }
      links.push({
        Name: labelPrefix,
        Tsize: Number(shard.size),
        Hash: shard.cid
      });
      childrenSize += shard.size;
    } else if (isDir(child.value)) {
      const dir2 = child.value;
      let flushedDir;
      for await (const entry of dir2.flush(blockstore)) {
        flushedDir = entry;
        yield flushedDir;
      }
      if (flushedDir == null) {
        throw new Error("Did not flush dir");
      }
      const label = labelPrefix + child.key;
      links.push({
        Name: label,
        Tsize: Number(flushedDir.size),
        Hash: flushedDir.cid
      });
      childrenSize += flushedDir.size;
    } else {
      const value = child.value;
      if (value.cid == null) {
        continue;
      }
      const label = labelPrefix + child.key;
      const size2 = value.size;
      links.push({
        Name: label,
        Tsize: Number(size2),
        Hash: value.cid
      });
      childrenSize += BigInt(size2 ?? 0);
    }
  }
  const data = Uint8Array.from(children.bitField().reverse());
  const dir = new UnixFS2({
    type: "hamt-sharded-directory",
    data,
    fanout: BigInt(bucket.tableSize()),
    hashType: DEFAULT_SHARD_HASH_CODE,
    mtime: shardRoot?.mtime,
    mode: shardRoot?.mode
  });
  const node = {
    Data: dir.marshal(),
    Links: links
  };
  const buffer2 = encode3(prepare(node), options);
  const cid2 = await persist(buffer2, blockstore, options);
  const size = BigInt(buffer2.byteLength) + childrenSize;
  yield {
    cid: cid2,
    unixfs: dir,
    size
  };
}
function isDir(obj) {
  return typeof obj.flush === "function";
}
async function calculateSize(bucket, shardRoot, blocks, options) {
  const children = bucket._children;
  const padLength = (bucket.tableSize() - 1).toString(16).length;
  const links = [];
  let sizeEstimate = 0;
  for (let i = 0; i < children.length; i++) {
    const child = children.get(i);
    if (child == null) {
      continue;
    }
    const labelPrefix = i.toString(16).toUpperCase().padStart(padLength, "0");
    if (child instanceof Bucket) {
      const { size, cid: cid3 } = await calculateSize(child, null, blocks, options);
      links.push({
        Name: labelPrefix,
        Tsize: Number(size),
        Hash: cid3
      });
      sizeEstimate += labelPrefix.length + cid3.byteLength;
    } else if (isDir(child.value)) {
      const dir2 = child.value;
      const size = dir2.nodeSize;
      if (dir2.cid == null) {
        throw new Error("Child directory has not been persisted");
      }
      links.push({
        Name: labelPrefix + child.key,
        Tsize: Number(size),
        Hash: dir2.cid
      });
      sizeEstimate += labelPrefix.length + dir2.cid.byteLength;
    } else {
      const value = child.value;
      const label = labelPrefix + child.key;
      const size = value.size;
      links.push({
        Name: label,
        Tsize: Number(size),
        Hash: value.cid
      });
      sizeEstimate += labelPrefix.length + value.cid.byteLength;
    }
  }
  const data = Uint8Array.from(children.bitField().reverse());
  const dir = new UnixFS2({
    type: "hamt-sharded-directory",
    data,
    fanout: BigInt(bucket.tableSize()),
    hashType: DEFAULT_SHARD_HASH_CODE,
    mtime: shardRoot?.mtime,
    mode: shardRoot?.mode
  });
  const buffer2 = encode3(prepare({
    Data: dir.marshal(),
    Links: links
  }), options);
  const cid2 = await persist(buffer2, blocks, options);
  return {
    cid: cid2,
    size: options.shardSplitStrategy === "links-bytes" ? sizeEstimate : buffer2.length
  };
}

// node_modules/ipfs-unixfs-importer/dist/src/flat-to-shard.js
async function flatToShard(child, dir) {
  let newDir = dir;
  const shardSplitThresholdBytes = dir.options.shardSplitThresholdBytes ?? DEFAULT_SHARD_SPLIT_THRESHOLD_BYTES;
  if (dir instanceof DirFlat && await dir.estimateNodeSize() > shardSplitThresholdBytes) {
    newDir = await convertToShard(dir);
  }
  const parent = newDir.parent;
  if (parent != null) {
    if (newDir !== dir) {
      if (child != null) {
        child.parent = newDir;
      }
      if (newDir.parentKey == null) {
        throw new Error("No parent key found");
      }
      await parent.put(newDir.parentKey, newDir);
    }
    return flatToShard(newDir, parent);
  }
  return newDir;
}
async function convertToShard(oldDir) {
  const newDir = new dir_sharded_default({
    root: oldDir.root,
    dir: true,
    parent: oldDir.parent,
    parentKey: oldDir.parentKey,
    path: oldDir.path,
    dirty: oldDir.dirty,
    flat: false,
    mtime: oldDir.mtime,
    mode: oldDir.mode
  }, oldDir.options);
  for (const { key, child } of oldDir.eachChildSeries()) {
    await newDir.put(key, child);
  }
  return newDir;
}

// node_modules/ipfs-unixfs-importer/dist/src/utils/to-path-components.js
var toPathComponents = (path2 = "") => {
  return path2.split(/(?<!\\)\//).filter(Boolean);
};

// node_modules/ipfs-unixfs-importer/dist/src/tree-builder.js
async function addToTree(elem, tree, options) {
  const pathElems = toPathComponents(elem.path ?? "");
  const lastIndex = pathElems.length - 1;
  let parent = tree;
  let currentPath = "";
  for (let i = 0; i < pathElems.length; i++) {
    const pathElem = pathElems[i];
    currentPath += `${currentPath !== "" ? "/" : ""}${pathElem}`;
    const last = i === lastIndex;
    parent.dirty = true;
    parent.cid = void 0;
    parent.size = void 0;
    if (last) {
      await parent.put(pathElem, elem);
      tree = await flatToShard(null, parent);
    } else {
      let dir = await parent.get(pathElem);
      if (dir == null || !(dir instanceof Dir)) {
        dir = new DirFlat({
          root: false,
          dir: true,
          parent,
          parentKey: pathElem,
          path: currentPath,
          dirty: true,
          flat: true,
          mtime: dir?.unixfs?.mtime,
          mode: dir?.unixfs?.mode
        }, options);
      }
      await parent.put(pathElem, dir);
      parent = dir;
    }
  }
  return tree;
}
async function* flushAndYield(tree, blockstore) {
  if (!(tree instanceof Dir)) {
    if (tree.unixfs?.isDirectory() === true) {
      yield tree;
    }
    return;
  }
  yield* tree.flush(blockstore);
}
function defaultTreeBuilder(options) {
  return async function* treeBuilder(source, block) {
    let tree = new DirFlat({
      root: true,
      dir: true,
      path: "",
      dirty: true,
      flat: true
    }, options);
    let rootDir;
    let singleRoot = false;
    for await (const entry of source) {
      if (entry == null) {
        continue;
      }
      const dir = `${entry.originalPath ?? ""}`.split("/")[0];
      if (dir != null && dir !== "") {
        if (rootDir == null) {
          rootDir = dir;
          singleRoot = true;
        } else if (rootDir !== dir) {
          singleRoot = false;
        }
      }
      tree = await addToTree(entry, tree, options);
      if (entry.unixfs?.isDirectory() !== true) {
        yield entry;
      }
    }
    if (options.wrapWithDirectory || singleRoot && tree.childCount() > 1) {
      yield* flushAndYield(tree, block);
    } else {
      for (const unwrapped of tree.eachChildSeries()) {
        if (unwrapped == null) {
          continue;
        }
        yield* flushAndYield(unwrapped.child, block);
      }
    }
  };
}

// node_modules/ipfs-unixfs-importer/dist/src/index.js
async function* importer(source, blockstore, options = {}) {
  let candidates;
  if (Symbol.asyncIterator in source || Symbol.iterator in source) {
    candidates = source;
  } else {
    candidates = [source];
  }
  let chunkSize;
  let maxChildrenPerNode;
  if (options.profile === "unixfs-v0-2015") {
    options.shardSplitStrategy = options.shardSplitStrategy ?? "links-bytes";
    options.cidVersion = options.cidVersion ?? 0;
    options.rawLeaves = options.rawLeaves ?? false;
    chunkSize = DEFAULT_CHUNK_SIZE_256KIB;
    maxChildrenPerNode = 174;
    options.fieldOrder = "links-first";
  } else if (options.profile === "unixfs-v1-2025") {
    options.shardSplitStrategy = options.shardSplitStrategy ?? "block-bytes";
    options.cidVersion = options.cidVersion ?? 1;
    options.rawLeaves = options.rawLeaves ?? true;
    chunkSize = DEFAULT_CHUNK_SIZE_1MIB;
    maxChildrenPerNode = 1024;
    options.fieldOrder = "links-first";
  }
  const wrapWithDirectory = options.wrapWithDirectory ?? DEFAULT_WRAP_WITH_DIRECTORY;
  const shardSplitThresholdBytes = options.shardSplitThresholdBytes ?? DEFAULT_SHARD_SPLIT_THRESHOLD_BYTES;
  const shardSplitStrategy = options.shardSplitStrategy ?? DEFAULT_SHARD_SPLIT_STRATEGY;
  const shardFanoutBits = options.shardFanoutBits ?? DEFAULT_SHARD_FANOUT_BITS;
  const cidVersion = options.cidVersion ?? DEFAULT_CID_VERSION;
  const rawLeaves2 = options.rawLeaves ?? DEFAULT_RAW_LEAVES;
  const leafType = options.leafType ?? DEFAULT_LEAF_TYPE;
  const fileImportConcurrency = options.fileImportConcurrency ?? DEFAULT_FILE_IMPORT_CONCURRENCY;
  const blockWriteConcurrency = options.blockWriteConcurrency ?? DEFAULT_BLOCK_WRITE_CONCURRENCY;
  const reduceSingleLeafToSelf = options.reduceSingleLeafToSelf ?? DEFAULT_REDUCE_SINGLE_LEAF_TO_SELF;
  const fieldOrder = options.fieldOrder ?? DEFAULT_FIELD_ORDER;
  const chunker = options.chunker ?? fixedSize({
    chunkSize
  });
  const chunkValidator = options.chunkValidator ?? defaultChunkValidator();
  const buildDag = options.dagBuilder ?? defaultDagBuilder({
    chunker,
    chunkValidator,
    wrapWithDirectory,
    layout: options.layout ?? balanced({
      maxChildrenPerNode
    }),
    bufferImporter: options.bufferImporter ?? defaultBufferImporter({
      cidVersion,
      rawLeaves: rawLeaves2,
      leafType,
      onProgress: options.onProgress
    }),
    blockWriteConcurrency,
    reduceSingleLeafToSelf,
    cidVersion,
    onProgress: options.onProgress,
    dirBuilder: options.dirBuilder,
    fileBuilder: options.fileBuilder,
    fieldOrder
  });
  const buildTree = options.treeBuilder ?? defaultTreeBuilder({
    wrapWithDirectory,
    shardSplitThresholdBytes,
    shardSplitStrategy,
    shardFanoutBits,
    cidVersion,
    onProgress: options.onProgress,
    fieldOrder
  });
  for await (const entry of buildTree(parallelBatch(buildDag(candidates, blockstore), fileImportConcurrency), blockstore)) {
    yield {
      cid: entry.cid,
      path: entry.path,
      unixfs: entry.unixfs,
      size: entry.size
    };
  }
}

// src/core/unixfs/storage.ts
function writableStorage(sink, signal) {
  return {
    async put(cid2, bytes, options) {
      const onWritten = options?.onWritten;
      await sink.put(cid2, bytes instanceof Uint8Array ? bytes : await concat2(bytes), onWritten != null ? { signal, onWritten } : { signal });
      return cid2;
    }
  };
}
async function concat2(chunks) {
  const list2 = [];
  for await (const chunk of chunks) list2.push(chunk);
  return Buffer.concat(list2);
}

// src/core/unixfs/file.ts
var PROFILE = "unixfs-v1-2025";
async function importFile(content, sink, options) {
  const signal = options?.signal;
  let bytes = 0;
  async function* counted() {
    for await (const chunk of content) {
      throwIfAborted(signal);
      bytes += chunk.byteLength;
      yield chunk;
    }
  }
  const node = await importOne(counted(), sink, signal, options ?? {});
  return { ...node, bytes };
}
async function importBytes(bytes, sink, options) {
  const node = await importOne(bytes, sink, options?.signal, {});
  return { ...node, bytes: bytes.byteLength };
}
function rawLeaves(hashLeaf, release) {
  return async function* (file, blockstore) {
    const storage = blockstore;
    for await (const chunk of file.content) {
      const hashed = hashLeaf(chunk);
      hashed.catch(() => {
      });
      yield async () => {
        const { digest: digest2, bytes } = await hashed;
        const cid2 = CID.createV1(code2, create(sha256.code, digest2));
        await storage.put(cid2, bytes, release != null ? { onWritten: () => {
          release(bytes);
        } } : void 0);
        return { cid: cid2, size: BigInt(bytes.byteLength), block: bytes };
      };
    }
  };
}
async function importOne(content, sink, signal, leaves) {
  throwIfAborted(signal);
  let result;
  const { hashLeaf, releaseLeaf } = leaves;
  const options = hashLeaf != null ? { profile: PROFILE, bufferImporter: rawLeaves(hashLeaf, releaseLeaf) } : { profile: PROFILE };
  for await (const entry of importer([{ content }], writableStorage(sink, signal), options)) {
    result = { cid: entry.cid, size: Number(entry.size) };
  }
  if (result == null) throw new TreeError("the importer produced no file");
  return result;
}

// src/core/unixfs/content.ts
var IDENTITY2 = 0;
var READ_AHEAD = 16;
async function readBlock(cid2, source, options) {
  if (cid2.multihash.code === IDENTITY2) return cid2.multihash.digest;
  return await source.get(cid2, options);
}
function declaredFileSize(cid2, bytes) {
  if (cid2.code === code2) return bytes.length;
  if (cid2.code !== code) return void 0;
  const { unixfs } = decodeUnixFS(cid2, bytes);
  if (unixfs.type !== "file" && unixfs.type !== "raw") return void 0;
  return Number(unixfs.fileSize());
}
var LEAF_BUFFER_BYTES = 1024 * 1024;
var LeafBuffers = class {
  pool;
  lent = /* @__PURE__ */ new WeakSet();
  constructor(keep) {
    this.pool = new BufferPool(LEAF_BUFFER_BYTES, keep);
  }
  take = (length3) => {
    if (length3 > LEAF_BUFFER_BYTES) return new Uint8Array(length3);
    const buffer2 = this.pool.take();
    this.lent.add(buffer2.buffer);
    return buffer2.subarray(0, length3);
  };
  giveBack(bytes) {
    if (!this.lent.has(bytes.buffer)) return;
    this.lent.delete(bytes.buffer);
    this.pool.give(new Uint8Array(bytes.buffer, 0, LEAF_BUFFER_BYTES));
  }
};
async function* fileContent(cid2, source, options) {
  const signal = options?.signal;
  const readAhead = Math.max(1, options?.readAhead ?? READ_AHEAD);
  const buffers = options?.reuseChunks === true ? new LeafBuffers(readAhead + 2) : void 0;
  const leafOptions = { signal, buffers };
  let ahead = 0;
  async function* walk2(cid3, bytes, expected, depth) {
    throwIfAborted(signal);
    if (cid3.code === code2) {
      if (expected != null && bytes.length !== expected) throw new TreeError(`file block ${cid3} holds ${bytes.length} bytes where its parent says ${expected}`);
      if (bytes.length > 0) yield bytes;
      buffers?.giveBack(bytes);
      return true;
    }
    if (cid3.code !== code) throw new TreeError(`file block ${cid3} has codec 0x${cid3.code.toString(16)}, not dag-pb or raw`);
    const { node, unixfs } = decodeUnixFS(cid3, bytes);
    if (unixfs.type !== "file" && unixfs.type !== "raw") throw new TreeError(`file block ${cid3} is a UnixFS ${unixfs.type}, not part of a file`);
    const sizes = unixfs.blockSizes;
    if (sizes.length !== node.Links.length) throw new TreeError(`file block ${cid3} has ${node.Links.length} links but ${sizes.length} block sizes`);
    if (expected != null && Number(unixfs.fileSize()) !== expected) throw new TreeError(`file block ${cid3} holds ${unixfs.fileSize()} bytes where its parent says ${expected}`);
    if (node.Links.length > 0 && depth >= MAX_FILE_DEPTH) throw new TreeError(`file block ${cid3} is more than ${MAX_FILE_DEPTH} levels deep`);
    const data = unixfs.data;
    if (data != null && data.length > 0) yield data;
    const links = node.Links;
    let window = 1;
    let next = 0;
    const pending = [];
    try {
      for (let i = 0; i < links.length; i++) {
        while (next < links.length && (pending.length === 0 || pending.length < window && ahead < readAhead)) {
          const link = links[next].Hash;
          const read3 = readBlock(link, source, link.code === code2 ? leafOptions : { signal });
          read3.catch(() => {
          });
          pending.push(read3);
          ahead++;
          next++;
        }
        const block = await pending.shift();
        ahead--;
        const leaf2 = yield* walk2(links[i].Hash, block, Number(sizes[i]), depth + 1);
        if (i === 0 && leaf2) window = readAhead;
      }
    } finally {
      ahead -= pending.length;
    }
    return links.length === 0;
  }
  const root = options?.block ?? await readBlock(cid2, source, { signal });
  yield* walk2(cid2, root, void 0, 0);
}

// src/core/unixfs/tree.ts
async function resolvePath(root, path2, source, options) {
  if (path2.length === 0) return { cid: root, size: await dagSize(root, source, options) };
  let cid2 = root;
  let size = 0;
  for (let i = 0; i < path2.length; i++) {
    const name4 = path2[i];
    if (cid2.code !== code) throw new TreeError(`/${path2.slice(0, i).join("/")} is not a directory`);
    const entry = await findEntry(cid2, name4, source, options);
    if (entry == null) return void 0;
    cid2 = entry.cid;
    size = entry.size;
  }
  return { cid: cid2, size };
}
async function dagSize(cid2, source, options) {
  if (cid2.multihash.code === 0) return cid2.multihash.digest.length;
  const bytes = await source.get(cid2, options);
  if (cid2.code !== code) return bytes.length;
  return cumulativeSize(bytes.length, decode5(bytes).Links);
}
async function readFileBytes(cid2, source, options) {
  const block = await readBlock(cid2, source, options);
  const size = declaredFileSize(cid2, block);
  if (size == null) throw new TreeError(`${cid2} is not a file`);
  if (size > options.maxBytes) throw new TreeError(`${cid2} is ${size} bytes, more than the ${options.maxBytes} allowed`);
  const chunks = [];
  let length3 = 0;
  for await (const chunk of fileContent(cid2, source, { signal: options.signal, block })) {
    length3 += chunk.byteLength;
    if (length3 > options.maxBytes) throw new TreeError(`${cid2} is more than the ${options.maxBytes} bytes allowed`);
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length3);
}
async function* walkDag(root, source, options) {
  const concurrency = options?.concurrency ?? 8;
  const skip = options?.skip;
  const maxBlocks = options?.maxBlocks ?? WALK_MAX_BLOCKS;
  const seen = /* @__PURE__ */ new Set();
  let yielded = 0;
  const inflight = /* @__PURE__ */ new Map();
  const stack = [root];
  try {
    while (stack.length > 0) {
      throwIfAborted(options?.signal);
      for (let i = stack.length - 1; i >= 0 && i >= stack.length - concurrency; i--) {
        const cid3 = stack[i];
        const key2 = cid3.toString();
        if (seen.has(key2) || inflight.has(key2) || cid3.multihash.code === 0 || skip?.(cid3) === true) continue;
        const pending = source.get(cid3, { signal: options?.signal });
        pending.catch(() => {
        });
        inflight.set(key2, pending);
      }
      const cid2 = stack.pop();
      const key = cid2.toString();
      if (seen.has(key) || cid2.multihash.code === 0 || skip?.(cid2) === true) {
        seen.add(key);
        continue;
      }
      const bytes = await (inflight.get(key) ?? source.get(cid2, { signal: options?.signal }));
      inflight.delete(key);
      seen.add(key);
      if (++yielded > maxBlocks) throw new TreeError(`the DAG under ${root} has more than ${maxBlocks} blocks`);
      yield { cid: cid2, bytes };
      if (cid2.code === code) {
        const links = decode5(bytes).Links;
        const distinct = /* @__PURE__ */ new Map();
        for (const link of links) if (!seen.has(link.Hash.toString())) distinct.set(link.Hash.toString(), link.Hash);
        const add2 = [...distinct.values()];
        for (let i = add2.length - 1; i >= 0; i--) stack.push(add2[i]);
      } else if (cid2.code !== code2) {
        throw new TreeError(`cannot walk ${cid2}: codec 0x${cid2.code.toString(16)} is not dag-pb or raw`);
      }
    }
  } finally {
    inflight.clear();
  }
}

// src/core/unixfs/edit.ts
var PendingDir = class _PendingDir {
  /** `where`: the directory's path from the root, for errors. */
  constructor(where, entries = [], shard) {
    this.where = where;
    this.shard = shard;
    this.entries = new Map(entries.map((entry) => [entry.name, { cid: entry.cid, size: entry.size }]));
  }
  where;
  shard;
  entries;
  /** Names a HAMT had before the edit (undefined: absent), as looked up on their hash paths. */
  before = /* @__PURE__ */ new Map();
  removed = /* @__PURE__ */ new Set();
  static async load(cid2, where, source, options) {
    if (source == null) throw new InputError("source", `a block source is needed to edit existing directory /${where.join("/")}`);
    return await naming(where, async () => {
      const bytes = await source.get(cid2, options);
      if (cid2.code === code && decodeUnixFS(cid2, bytes).unixfs.type === "hamt-sharded-directory") return new _PendingDir(where, [], cid2);
      return new _PendingDir(where, await readDirectory(cid2, source, options));
    });
  }
  async get(name4, source, options) {
    const child = this.entries.get(name4);
    if (child != null || this.shard == null || this.removed.has(name4)) return child;
    if (source == null) throw new InputError("source", "a block source is needed to edit a sharded directory");
    const entry = await naming(this.where, async () => await this.original(name4, source, options));
    return entry == null ? void 0 : { cid: entry.cid, size: entry.size };
  }
  set(name4, child) {
    this.entries.set(name4, child);
    this.removed.delete(name4);
  }
  delete(name4) {
    this.entries.delete(name4);
    if (this.shard != null) this.removed.add(name4);
  }
  async flush(source, sink, options) {
    const changed = [];
    for (const [name4, child] of this.entries) {
      const node = child instanceof _PendingDir ? await child.flush(source, sink, options) : child;
      changed.push({ name: name4, cid: node.cid, size: node.size });
    }
    if (this.shard == null) return buildDirectory(changed, sink, options);
    if (source == null) throw new InputError("source", "a block source is needed to edit a sharded directory");
    return await naming(this.where, async () => await this.flushShard(this.shard, changed, source, sink, options));
  }
  /**
   * A HAMT that only grows stays a HAMT: patch the hash paths. Otherwise it may fall back to a
   * basic directory, which takes every entry: read them all and build anew.
   */
  async flushShard(shard, changed, source, sink, options) {
    let growth = 0;
    if (this.removed.size === 0) {
      for (const entry of changed) {
        const old = await this.original(entry.name, source, options);
        growth += linkBytes(entry) - (old == null ? 0 : linkBytes(old));
      }
    }
    if (this.removed.size === 0 && growth >= 0) return putInShardedDirectory(shard, changed, source, sink, options);
    const all = new Map((await readDirectory(shard, source, options)).map((entry) => [entry.name, entry]));
    for (const name4 of this.removed) all.delete(name4);
    for (const entry of changed) all.set(entry.name, entry);
    return buildDirectory([...all.values()].sort(compareNames), sink, options);
  }
  async original(name4, source, options) {
    if (!this.before.has(name4)) this.before.set(name4, await findEntry(this.shard, name4, source, options));
    return this.before.get(name4);
  }
};
async function naming(where, work) {
  try {
    return await work();
  } catch (err) {
    if (err instanceof TreeError) throw new TreeError(`cannot edit /${where.join("/")}: ${err.message}`, { cause: err });
    throw err;
  }
}
function linkBytes(entry) {
  const name4 = encoder3.encode(entry.name).length;
  const cid2 = entry.cid.bytes.length;
  const body = 1 + varintLength(cid2) + cid2 + 1 + varintLength(name4) + name4 + 1 + varintLength(entry.size);
  return 1 + varintLength(body) + body;
}
function varintLength(value) {
  let length3 = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    length3++;
  }
  return length3;
}
var encoder3 = new TextEncoder();
async function editTree(root, edits, source, sink, options) {
  if (root != null && edits.length === 0) {
    if (source == null) throw new InputError("source", "a block source is needed to size an unedited root");
    return { cid: root, size: await dagSize(root, source, options) };
  }
  const read3 = /* @__PURE__ */ new Map();
  const cached = source == null ? null : {
    label: source.label,
    get: async (cid2, opts) => {
      const key = cid2.toString();
      let bytes = read3.get(key);
      if (bytes == null) {
        bytes = source.get(cid2, opts);
        read3.set(key, bytes);
        bytes.catch(() => {
          read3.delete(key);
        });
      }
      return await bytes;
    }
  };
  const top = root == null ? new PendingDir([]) : await PendingDir.load(root, [], cached, options);
  for (const edit of edits) {
    throwIfAborted(options?.signal);
    if (edit.path.length === 0) throw new InputError("edits", "an edit path must name at least one entry");
    for (const name4 of edit.path) checkName(name4);
    let dir = top;
    let missing = false;
    for (let i = 0; i < edit.path.length - 1; i++) {
      const name4 = edit.path[i];
      const child = await dir.get(name4, cached, options);
      let next;
      if (child instanceof PendingDir) {
        next = child;
      } else if (child == null) {
        if (edit.node == null) {
          missing = true;
          break;
        }
        next = new PendingDir(edit.path.slice(0, i + 1));
      } else {
        next = await PendingDir.load(child.cid, edit.path.slice(0, i + 1), cached, options);
      }
      dir.set(name4, next);
      dir = next;
    }
    if (missing) continue;
    const last = edit.path[edit.path.length - 1];
    if (edit.node != null) dir.set(last, { cid: edit.node.cid, size: edit.node.size });
    else if (await dir.get(last, cached, options) != null) dir.delete(last);
  }
  const newBlocks = {
    put: async (cid2, bytes, opts) => {
      if (!read3.has(cid2.toString())) await sink.put(cid2, bytes, opts);
    }
  };
  return await top.flush(cached, newBlocks, options);
}

// src/core/publish.ts
var PublishSink = class {
  constructor(sinks) {
    this.sinks = sinks;
  }
  sinks;
  dagPb = new MemoryBlockStore();
  /** Distinct blocks written and their bytes. */
  seen = /* @__PURE__ */ new Set();
  bytes = 0;
  get blocks() {
    return this.seen.size;
  }
  async put(cid2, bytes, options) {
    if (!this.seen.has(cid2.toString())) {
      this.seen.add(cid2.toString());
      this.bytes += bytes.byteLength;
    }
    if (cid2.code === 112) await this.dagPb.put(cid2, bytes);
    const onWritten = options?.onWritten;
    if (this.sinks.length === 0) {
      onWritten?.();
      return;
    }
    let waiting = this.sinks.length;
    const each = onWritten == null ? {} : { onWritten: () => {
      if (--waiting === 0) onWritten();
    } };
    await Promise.all(this.sinks.map(async (s) => {
      await s.put(cid2, bytes, each);
    }));
  }
};
var discard = {
  put: async (_cid, _bytes, options) => {
    options?.onWritten?.();
  }
};
var readBuffers = new BufferPool(1024 * 1024, 64);
function refIsTag(ref, image) {
  return isBareName(ref) && isTag(ref) && image.repoTags.length > 0 && !image.repoTags.some((name4) => !isBareName(name4) && refMatches(ref, name4));
}
function resolveName(options, image) {
  if (options.name != null && options.name !== "") return validateName(options.name, "name");
  const ref = options.image.ref;
  if (ref != null && !/^sha256:/.test(ref) && !refIsTag(ref, image)) return validateName(parseReference(ref, "image").path, "image");
  const repoTag = image.repoTags.find((t) => !isBareName(t));
  if (repoTag != null) return validateName(parseReference(repoTag, "image-file").path, "image-file");
  throw new InputError("name", 'no repository name given and the image archive names none (expected a name such as "team/app")');
}
function resolveTags(options, image) {
  if (options.tags.length > 0) return options.tags.map((t) => validateTag(t, "tags"));
  const ref = options.image.ref;
  if (ref != null && !/^sha256:/.test(ref)) {
    if (refIsTag(ref, image)) return [ref];
    const tag = parseReference(ref, "image").tag;
    if (tag != null) return [tag];
  }
  if (image.repoTags.length === 1) {
    const only = image.repoTags[0];
    const tag = isBareName(only) ? isTag(only) ? only : void 0 : tagOf(only);
    if (tag != null) return [tag];
  }
  return ["latest"];
}
function tagOf(reference) {
  try {
    return parseReference(reference, "image-file").tag;
  } catch {
    return void 0;
  }
}
async function resolveImageFile(input) {
  const exists3 = async (p) => await stat4(p).then(() => true, () => false);
  const colon = input.path.indexOf(":");
  if (colon <= 0 || await exists3(input.path) || !await exists3(input.path.slice(0, colon))) {
    return { path: input.path, ...input.ref != null && input.ref !== "" ? { ref: input.ref } : {} };
  }
  const path2 = input.path.slice(0, colon);
  const ref = input.path.slice(colon + 1);
  if (input.ref != null && input.ref !== "" && input.ref !== ref) {
    throw new InputError("image", `${quote(input.ref)} and the reference in image-file ${quote(input.path)} name different images; give one`);
  }
  return { path: path2, ref };
}
function publishTime(options, image) {
  if (options.now != null) return options.now.toISOString();
  const clock = Date.now();
  const created = image.primary.configJson?.created;
  const time = typeof created === "string" ? Date.parse(created) : NaN;
  return new Date(Number.isFinite(time) && time > 0 && time <= clock ? time : clock).toISOString();
}
function sourceDateEpoch(value, input = "SOURCE_DATE_EPOCH") {
  if (value == null || value.trim() === "") return void 0;
  const seconds = Number(value.trim());
  if (!/^\d{1,12}$/.test(value.trim()) || !Number.isSafeInteger(seconds)) {
    throw new InputError(input, `${quote(value)} is not a time in seconds since 1970-01-01 (expected digits only, e.g. the output of git log -1 --format=%ct)`);
  }
  return new Date(seconds * 1e3);
}
var REUSE_TAGS = 8;
async function previousBlobs(root, name4, catalog, source, options) {
  const known = /* @__PURE__ */ new Map();
  const tagsPath = registryPaths.tags(name4);
  const tagsDir = await inPreviousRoot(root, tagsPath, async () => await resolvePath(root, tagsPath, source, options));
  if (tagsDir == null) return known;
  const recent = (catalog.images.find((i) => i.name === name4)?.tags ?? []).slice().sort((a, b) => a.published < b.published ? 1 : a.published > b.published ? -1 : 0).slice(0, REUSE_TAGS);
  const read3 = /* @__PURE__ */ new Set();
  for (const tag of recent) {
    const path2 = [...tagsPath, tag.tag, "blobs", "sha256"];
    await inPreviousRoot(root, path2, async () => {
      const blobs = await resolvePath(tagsDir.cid, path2.slice(tagsPath.length), source, options);
      if (blobs == null || read3.has(blobs.cid.toString())) return;
      read3.add(blobs.cid.toString());
      for (const entry of await readDirectory(blobs.cid, source, options)) known.set(entry.name, { cid: entry.cid, size: entry.size });
    });
  }
  return known;
}
async function inPreviousRoot(root, path2, work) {
  try {
    return await work();
  } catch (err) {
    if (err instanceof TreeError) throw new TreeError(`previous root ${root}, /${path2.join("/")}: ${err.message}`, { cause: err });
    throw err;
  }
}
async function* once(bytes) {
  yield bytes;
}
async function importBlob(file, sink, label, progress, signal) {
  const pooled = file.bytes == null;
  const source = pooled ? fileContent2(file, signal) : once(file.bytes);
  const hasher = new BlobHasher(pooled, signal);
  try {
    let size = 0;
    const content = async function* () {
      for await (const chunk of source) {
        size += chunk.length;
        progress.add(chunk.length);
        yield chunk;
      }
    };
    const node = await importFile(content(), sink, {
      signal,
      hashLeaf: hasher.hashChunk,
      ...pooled ? { releaseLeaf: (bytes) => {
        readBuffers.give(bytes);
      } } : {}
    });
    if (file.digest != null) checkDigest(await hasher.digest(), size, { digest: file.digest, size: file.size, label });
    return node;
  } finally {
    hasher.close();
    await source.return(void 0);
  }
}
function fileContent2(file, signal) {
  if (file.chunks == null) throw new Error(`no content for ${file.path}`);
  return file.chunks({ pool: readBuffers, signal });
}
async function publish(options) {
  const logger = options.logger ?? silentLogger;
  const { signal } = options;
  const scope = options.carScope ?? "new";
  for (const tag of options.tags) validateTag(tag, "tags");
  if (options.previousRoot != null && (options.sources ?? []).length === 0) {
    throw new InputError("previous-root", text`a previous root was given but no block source to read it from (set ${option("gateways")}, ${option("previous-car")} or ${option("kubo-rpc-url")})`);
  }
  const work = await mkdtemp2(join3(options.tempDir, "ipcr-publish-"));
  registerTemporary(work);
  let archive;
  let car;
  try {
    const input = options.image.kind === "docker" ? "image" : "image-file";
    const archivePath = options.image.kind === "docker" ? await logger.group(`Export ${options.image.ref} from Docker`, async () => {
      const img = options.image;
      return await saveDockerImage(img.ref, { run: img.run, command: img.command, tempDir: work, input, signal, logger, progressIntervalMs: options.progressIntervalMs });
    }) : void 0;
    const file = options.image.kind === "file" ? await resolveImageFile(options.image) : void 0;
    const { maxDecompressedSize } = options;
    archive = await openImageArchive(archivePath ?? file?.path, { input, tempDir: work, signal, maxDecompressedSize });
    const image = await loadImage(archive, { input, signal, maxDecompressedSize, ref: file?.ref, refInput: "image" });
    const chosen = file != null ? { ...options, image: { kind: "file", ...file } } : options;
    const name4 = resolveName(chosen, image);
    const tags = resolveTags(chosen, image);
    const description = plainLine(options.description ?? image.labels["org.opencontainers.image.description"]);
    const platforms = image.images.map((i) => platformString(i.platform));
    logger.info(`Image ${image.root.digest} (${image.sourceFormat}; ${platforms.join(", ")}) \u2192 ${name4}:${tags.join(", ")}`);
    const previousRoot = options.previousRoot ?? null;
    const budget = new DagBudget(PREVIOUS_ROOT_LIMITS);
    const allSources = previousRoot != null ? new BlockCache(new FirstSource(options.sources ?? []), { keep: dagPbOnly }) : null;
    const source = allSources != null ? budget.source(allSources) : null;
    const { previousCatalog, known } = previousRoot != null && source != null ? await logger.group(`Read the previous registry root ${previousRoot}`, async () => {
      const previousCatalog2 = await readPreviousCatalog(previousRoot, source, { signal, budget });
      return { previousCatalog: previousCatalog2, known: await previousBlobs(previousRoot, name4, previousCatalog2, source, { signal, budget }) };
    }) : { previousCatalog: emptyCatalog(), known: /* @__PURE__ */ new Map() };
    if (options.carPath != null) car = await CarFileWriter.create(options.carPath);
    const sink = new PublishSink([...car != null ? [car] : [], ...options.sinks ?? []]);
    const files = tagFolderFiles(image, { name: name4, tag: tags[0] });
    const blobFiles = files.filter((f) => f.path.startsWith("blobs/sha256/"));
    const total = blobFiles.reduce((n, f) => n + f.size, 0);
    let reused = 0;
    const blobEntries = await logger.group(`Import ${blobFiles.length} blobs (${formatBytes(total)})`, async () => {
      const progress = new Progress(logger, "imported", total, options.progressIntervalMs);
      const entries = [];
      for (const file2 of blobFiles) {
        const hex = file2.path.slice("blobs/sha256/".length);
        const label = `${input} blob ${file2.digest ?? hex}`;
        const previous = scope === "new" ? known.get(hex) : void 0;
        let node = await importBlob(file2, previous != null ? discard : sink, label, progress, signal);
        if (previous != null) {
          if (previous.cid.equals(node.cid)) {
            reused++;
          } else {
            node = await importBlob(file2, sink, label, progress, signal);
          }
        }
        entries.push({ name: hex, cid: node.cid, size: node.size });
      }
      progress.finish();
      return entries;
    });
    const sha256Dir = await buildDirectory(blobEntries, sink, { signal });
    const blobsDir = await buildDirectory([{ name: "sha256", ...sha256Dir }], sink, { signal });
    const edits = [];
    const published = [];
    const now = publishTime(options, image);
    const catalogTags = [];
    for (const tag of tags) {
      const entries = [{ name: "blobs", ...blobsDir }];
      for (const file2 of tagFolderFiles(image, { name: name4, tag }).filter((f) => !f.path.startsWith("blobs/"))) {
        if (file2.bytes == null) throw new Error(`${file2.path} has no bytes`);
        const node = await importBytes(file2.bytes, sink, { signal });
        entries.push({ name: file2.path, cid: node.cid, size: node.size });
      }
      const folder = await buildDirectory(entries, sink, { signal });
      edits.push({ path: registryPaths.tag(name4, tag), node: folder });
      published.push({ tag, cid: folder.cid.toString() });
      catalogTags.push({
        tag,
        digest: image.root.digest,
        platforms,
        size: total,
        cid: folder.cid.toString(),
        published: now,
        ...options.revision != null && options.revision !== "" ? { revision: options.revision } : {}
      });
    }
    if (description != null) {
      const readme = await importBytes(new TextEncoder().encode(`${description}
`), sink, { signal });
      edits.push({ path: registryPaths.readme(name4), node: readme });
    }
    const updated = Date.parse(previousCatalog.updated) > Date.parse(now) ? previousCatalog.updated : now;
    const catalog = updateCatalog(previousCatalog, { name: name4, description, tags: catalogTags, updated });
    const catalogNode = await importBytes(encodeCatalog(catalog), sink, { signal });
    edits.push({ path: registryPaths.catalog(), node: catalogNode });
    const root = previousRoot != null ? await inPreviousRoot(previousRoot, [], async () => await editTree(previousRoot, edits, source, sink, { signal, budget })) : await editTree(null, edits, source, sink, { signal });
    if (scope === "full" && allSources != null && car != null) {
      await logger.group("Copy the unchanged part of the registry into the CAR", async () => {
        const full = new FirstSource([sink.dagPb, allSources]);
        for await (const block of walkDag(root.cid, full, { signal, skip: (cid2) => cid2.code === 85 && car?.has(cid2) === true })) {
          await car?.put(block.cid, block.bytes);
        }
      });
    }
    const written = car != null ? await car.close(root.cid) : void 0;
    car = void 0;
    if (written != null) logger.info(`CAR written to ${written.path} (${scope} scope: ${written.blocks} blocks, ${formatBytes(written.bytes)})`);
    return {
      rootCid: root.cid.toString(),
      ...previousRoot != null ? { previousRoot: previousRoot.toString() } : {},
      name: name4,
      tags: published,
      imageCid: published[0].cid,
      digest: image.root.digest,
      imageId: image.primary.config.digest,
      platforms,
      size: total,
      ...description != null ? { description } : {},
      sourceFormat: image.sourceFormat,
      car: written != null ? { path: written.path, scope, blocks: written.blocks, bytes: written.bytes } : { scope, blocks: sink.blocks, bytes: sink.bytes },
      reusedBlobs: reused
    };
  } finally {
    try {
      if (car != null) await car.abort();
    } finally {
      try {
        if (archive != null) await archive.close();
      } finally {
        await removeTemporary(work);
      }
    }
  }
}
async function readPreviousCatalog(root, source, options) {
  const path2 = registryPaths.catalog();
  const bytes = await inPreviousRoot(root, path2, async () => {
    const node = await resolvePath(root, path2, source, options);
    return node == null ? void 0 : await readFileBytes(node.cid, source, { ...options, maxBytes: CATALOG_LIMITS.bytes });
  });
  return bytes == null ? emptyCatalog() : parseCatalog(bytes, `previous root ${root.toString()}`);
}
function parseCid(value, input) {
  try {
    return CID.parse(value.trim().replace(/^\/ipfs\//, ""));
  } catch {
    throw new InputError(input, `'${value}' is not a CID (expected a CIDv0 Qm\u2026 or CIDv1 such as bafy\u2026)`);
  }
}

// src/core/blocks/car-source.ts
import { open as open5 } from "node:fs/promises";

// node_modules/cborg/lib/is.js
var objectTypeNames = [
  "Object",
  // for Object.create(null) and other non-plain objects
  "RegExp",
  "Date",
  "Error",
  "Map",
  "Set",
  "WeakMap",
  "WeakSet",
  "ArrayBuffer",
  "SharedArrayBuffer",
  "DataView",
  "Promise",
  "URL",
  "HTMLElement",
  "Int8Array",
  "Uint8ClampedArray",
  "Int16Array",
  "Uint16Array",
  "Int32Array",
  "Uint32Array",
  "Float32Array",
  "Float64Array",
  "BigInt64Array",
  "BigUint64Array",
  "Tagged"
];
function is(value) {
  if (value === null) {
    return "null";
  }
  if (value === void 0) {
    return "undefined";
  }
  if (value === true || value === false) {
    return "boolean";
  }
  const typeOf = typeof value;
  if (typeOf === "string" || typeOf === "number" || typeOf === "bigint" || typeOf === "symbol") {
    return typeOf;
  }
  if (typeOf === "function") {
    return "Function";
  }
  if (Array.isArray(value)) {
    return "Array";
  }
  if (value instanceof Uint8Array) {
    return "Uint8Array";
  }
  if (value.constructor === Object) {
    return "Object";
  }
  const objectType = getObjectType(value);
  if (objectType) {
    return objectType;
  }
  return "Object";
}
function getObjectType(value) {
  const objectTypeName = Object.prototype.toString.call(value).slice(8, -1);
  if (objectTypeNames.includes(objectTypeName)) {
    return objectTypeName;
  }
  return void 0;
}

// node_modules/cborg/lib/token.js
var Type = class {
  /**
   * @param {number} major
   * @param {string} name
   * @param {boolean} terminal
   */
  constructor(major, name4, terminal) {
    this.major = major;
    this.majorEncoded = major << 5;
    this.name = name4;
    this.terminal = terminal;
  }
  toString() {
    return `Type[${this.major}].${this.name}`;
  }
  /**
   * @param {Type} typ
   * @returns {number}
   */
  compare(typ) {
    return this.major < typ.major ? -1 : this.major > typ.major ? 1 : 0;
  }
  /**
   * Check equality between two Type instances. Safe to use across different
   * copies of the Type class (e.g., when bundlers duplicate the module).
   * (major, name) uniquely identifies a Type; terminal is implied by these.
   * @param {Type} a
   * @param {Type} b
   * @returns {boolean}
   */
  static equals(a, b) {
    return a === b || a.major === b.major && a.name === b.name;
  }
};
Type.uint = new Type(0, "uint", true);
Type.negint = new Type(1, "negint", true);
Type.bytes = new Type(2, "bytes", true);
Type.string = new Type(3, "string", true);
Type.array = new Type(4, "array", false);
Type.map = new Type(5, "map", false);
Type.tag = new Type(6, "tag", false);
Type.float = new Type(7, "float", true);
Type.false = new Type(7, "false", true);
Type.true = new Type(7, "true", true);
Type.null = new Type(7, "null", true);
Type.undefined = new Type(7, "undefined", true);
Type.break = new Type(7, "break", true);
var Token = class {
  /**
   * @param {Type} type
   * @param {any} [value]
   * @param {number} [encodedLength]
   */
  constructor(type, value, encodedLength) {
    this.type = type;
    this.value = value;
    this.encodedLength = encodedLength;
    this.encodedBytes = void 0;
    this.byteValue = void 0;
  }
  toString() {
    return `Token[${this.type}].${this.value}`;
  }
};

// node_modules/cborg/lib/byte-utils.js
var useBuffer = globalThis.process && // @ts-ignore
!globalThis.process.browser && // @ts-ignore
globalThis.Buffer && // @ts-ignore
typeof globalThis.Buffer.isBuffer === "function";
var textEncoder4 = new TextEncoder();
function isBuffer(buf) {
  return useBuffer && globalThis.Buffer.isBuffer(buf);
}
function asU8A(buf) {
  if (!(buf instanceof Uint8Array)) {
    return Uint8Array.from(buf);
  }
  return isBuffer(buf) ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : buf;
}
var FROM_STRING_THRESHOLD_BUFFER = 24;
var FROM_STRING_THRESHOLD_TEXTENCODER = 200;
var fromString3 = useBuffer ? (
  // eslint-disable-line operator-linebreak
  /**
   * @param {string} string
   */
  (string3) => {
    return string3.length >= FROM_STRING_THRESHOLD_BUFFER ? (
      // eslint-disable-line operator-linebreak
      // @ts-ignore
      globalThis.Buffer.from(string3)
    ) : utf8ToBytes(string3);
  }
) : (
  // eslint-disable-line operator-linebreak
  /**
   * @param {string} string
   */
  (string3) => {
    return string3.length >= FROM_STRING_THRESHOLD_TEXTENCODER ? textEncoder4.encode(string3) : utf8ToBytes(string3);
  }
);
var fromArray = (arr) => {
  return Uint8Array.from(arr);
};
var slice = useBuffer ? (
  // eslint-disable-line operator-linebreak
  /**
   * @param {Uint8Array} bytes
   * @param {number} start
   * @param {number} end
   */
  // Buffer.slice() returns a view, not a copy, so we need special handling
  (bytes, start, end) => {
    if (isBuffer(bytes)) {
      return new Uint8Array(bytes.subarray(start, end));
    }
    return bytes.slice(start, end);
  }
) : (
  // eslint-disable-line operator-linebreak
  /**
   * @param {Uint8Array} bytes
   * @param {number} start
   * @param {number} end
   */
  (bytes, start, end) => {
    return bytes.slice(start, end);
  }
);
var concat3 = useBuffer ? (
  // eslint-disable-line operator-linebreak
  /**
   * @param {ByteView[]} chunks
   * @param {number} length
   * @returns {AllocatedByteView}
   */
  (chunks, length3) => {
    chunks = chunks.map((c) => c instanceof Uint8Array ? c : (
      // eslint-disable-line operator-linebreak
      // @ts-ignore
      globalThis.Buffer.from(c)
    ));
    return (
      /** @type {AllocatedByteView} */
      asU8A(globalThis.Buffer.concat(chunks, length3))
    );
  }
) : (
  // eslint-disable-line operator-linebreak
  /**
   * @param {ByteView[]} chunks
   * @param {number} length
   * @returns {AllocatedByteView}
   */
  (chunks, length3) => {
    const out = new Uint8Array(length3);
    let off = 0;
    for (let b of chunks) {
      if (off + b.length > out.length) {
        b = b.subarray(0, out.length - off);
      }
      out.set(b, off);
      off += b.length;
    }
    return out;
  }
);
var alloc3 = useBuffer ? (
  // eslint-disable-line operator-linebreak
  /**
   * @param {number} size
   * @returns {AllocatedByteView}
   */
  (size) => {
    return globalThis.Buffer.allocUnsafe(size);
  }
) : (
  // eslint-disable-line operator-linebreak
  /**
   * @param {number} size
   * @returns {AllocatedByteView}
   */
  (size) => {
    return new Uint8Array(size);
  }
);
function compare(b1, b2) {
  if (isBuffer(b1) && isBuffer(b2)) {
    return b1.compare(b2);
  }
  for (let i = 0; i < b1.length; i++) {
    if (b1[i] === b2[i]) {
      continue;
    }
    return b1[i] < b2[i] ? -1 : 1;
  }
  return 0;
}
function utf8ToBytes(str2) {
  const out = [];
  let p = 0;
  for (let i = 0; i < str2.length; i++) {
    let c = str2.charCodeAt(i);
    if (c < 128) {
      out[p++] = c;
    } else if (c < 2048) {
      out[p++] = c >> 6 | 192;
      out[p++] = c & 63 | 128;
    } else if ((c & 64512) === 55296 && i + 1 < str2.length && (str2.charCodeAt(i + 1) & 64512) === 56320) {
      c = 65536 + ((c & 1023) << 10) + (str2.charCodeAt(++i) & 1023);
      out[p++] = c >> 18 | 240;
      out[p++] = c >> 12 & 63 | 128;
      out[p++] = c >> 6 & 63 | 128;
      out[p++] = c & 63 | 128;
    } else {
      if (c >= 55296 && c <= 57343) {
        c = 65533;
      }
      out[p++] = c >> 12 | 224;
      out[p++] = c >> 6 & 63 | 128;
      out[p++] = c & 63 | 128;
    }
  }
  return out;
}

// node_modules/cborg/lib/bl.js
var defaultChunkSize = 256;
var Bl = class {
  /**
   * @param {number} [chunkSize]
   */
  constructor(chunkSize = defaultChunkSize) {
    this.chunkSize = chunkSize;
    this.cursor = 0;
    this.maxCursor = -1;
    this.chunks = [];
    this._initReuseChunk = null;
  }
  reset() {
    this.cursor = 0;
    this.maxCursor = -1;
    if (this.chunks.length) {
      this.chunks = [];
    }
    if (this._initReuseChunk !== null) {
      this.chunks.push(this._initReuseChunk);
      this.maxCursor = this._initReuseChunk.length - 1;
    }
  }
  /**
   * @param {number} byte
   */
  pushByte(byte) {
    let topChunk = this.chunks[this.chunks.length - 1];
    if (this.cursor > this.maxCursor) {
      topChunk = alloc3(this.chunkSize);
      this.chunks.push(topChunk);
      this.maxCursor += topChunk.length;
      if (this._initReuseChunk === null) {
        this._initReuseChunk = topChunk;
      }
    }
    const chunkPos = topChunk.length - (this.maxCursor - this.cursor) - 1;
    topChunk[chunkPos] = byte;
    this.cursor++;
  }
  /**
   * @param {ByteView|number[]} bytes
   */
  push(bytes) {
    let topChunk = this.chunks[this.chunks.length - 1];
    const newMax = this.cursor + bytes.length;
    if (newMax <= this.maxCursor + 1) {
      const chunkPos = topChunk.length - (this.maxCursor - this.cursor) - 1;
      topChunk.set(bytes, chunkPos);
    } else {
      if (topChunk) {
        const chunkPos = topChunk.length - (this.maxCursor - this.cursor) - 1;
        if (chunkPos < topChunk.length) {
          this.chunks[this.chunks.length - 1] = topChunk.subarray(0, chunkPos);
          this.maxCursor = this.cursor - 1;
        }
      }
      if (bytes.length < 64 && bytes.length < this.chunkSize) {
        topChunk = alloc3(this.chunkSize);
        this.chunks.push(topChunk);
        this.maxCursor += topChunk.length;
        if (this._initReuseChunk === null) {
          this._initReuseChunk = topChunk;
        }
        topChunk.set(bytes, 0);
      } else {
        this.chunks.push(bytes);
        this.maxCursor += bytes.length;
      }
    }
    this.cursor += bytes.length;
  }
  /**
   * @param {boolean} [reset]
   * @returns {AllocatedByteView}
   */
  toBytes(reset = false) {
    let byts;
    if (this.chunks.length === 1) {
      const chunk = this.chunks[0];
      if (reset && this.cursor > chunk.length / 2) {
        byts = this.cursor === chunk.length ? chunk : chunk.subarray(0, this.cursor);
        this._initReuseChunk = null;
        this.chunks = [];
      } else {
        byts = slice(chunk, 0, this.cursor);
      }
    } else {
      byts = concat3(this.chunks, this.cursor);
    }
    if (reset) {
      this.reset();
    }
    return byts;
  }
};
var U8Bl = class {
  /**
   * @param {Uint8Array<T>} dest
   */
  constructor(dest) {
    this.dest = dest;
    this.cursor = 0;
    this.chunks = [dest];
  }
  reset() {
    this.cursor = 0;
  }
  /**
   * @param {number} byte
   */
  pushByte(byte) {
    if (this.cursor >= this.dest.length) {
      throw new Error("write out of bounds, destination buffer is too small");
    }
    this.dest[this.cursor++] = byte;
  }
  /**
   * @param {ByteView|number[]} bytes
   */
  push(bytes) {
    if (this.cursor + bytes.length > this.dest.length) {
      throw new Error("write out of bounds, destination buffer is too small");
    }
    this.dest.set(bytes, this.cursor);
    this.cursor += bytes.length;
  }
  /**
   * @param {boolean} [reset]
   * @returns {Uint8Array<T>}
   */
  toBytes(reset = false) {
    const byts = this.dest.subarray(0, this.cursor);
    if (reset) {
      this.reset();
    }
    return byts;
  }
};

// node_modules/cborg/lib/common.js
var decodeErrPrefix = "CBOR decode error:";
var encodeErrPrefix = "CBOR encode error:";
var uintMinorPrefixBytes = [];
uintMinorPrefixBytes[23] = 1;
uintMinorPrefixBytes[24] = 2;
uintMinorPrefixBytes[25] = 3;
uintMinorPrefixBytes[26] = 5;
uintMinorPrefixBytes[27] = 9;
function assertEnoughData(data, pos, need) {
  if (data.length - pos < need) {
    throw new Error(`${decodeErrPrefix} not enough data for type`);
  }
}

// node_modules/cborg/lib/0uint.js
var uintBoundaries = [24, 256, 65536, 4294967296, BigInt("18446744073709551616")];
function readUint8(data, offset, options) {
  assertEnoughData(data, offset, 1);
  const value = data[offset];
  if (options.strict === true && value < uintBoundaries[0]) {
    throw new Error(`${decodeErrPrefix} integer encoded in more bytes than necessary (strict decode)`);
  }
  return value;
}
function readUint16(data, offset, options) {
  assertEnoughData(data, offset, 2);
  const value = data[offset] << 8 | data[offset + 1];
  if (options.strict === true && value < uintBoundaries[1]) {
    throw new Error(`${decodeErrPrefix} integer encoded in more bytes than necessary (strict decode)`);
  }
  return value;
}
function readUint32(data, offset, options) {
  assertEnoughData(data, offset, 4);
  const value = data[offset] * 16777216 + (data[offset + 1] << 16) + (data[offset + 2] << 8) + data[offset + 3];
  if (options.strict === true && value < uintBoundaries[2]) {
    throw new Error(`${decodeErrPrefix} integer encoded in more bytes than necessary (strict decode)`);
  }
  return value;
}
function readUint64(data, offset, options) {
  assertEnoughData(data, offset, 8);
  const hi = data[offset] * 16777216 + (data[offset + 1] << 16) + (data[offset + 2] << 8) + data[offset + 3];
  const lo = data[offset + 4] * 16777216 + (data[offset + 5] << 16) + (data[offset + 6] << 8) + data[offset + 7];
  const value = (BigInt(hi) << BigInt(32)) + BigInt(lo);
  if (options.strict === true && value < uintBoundaries[3]) {
    throw new Error(`${decodeErrPrefix} integer encoded in more bytes than necessary (strict decode)`);
  }
  if (value <= Number.MAX_SAFE_INTEGER) {
    return Number(value);
  }
  if (options.allowBigInt === true) {
    return value;
  }
  throw new Error(`${decodeErrPrefix} integers outside of the safe integer range are not supported`);
}
function decodeUint8(data, pos, _minor, options) {
  return new Token(Type.uint, readUint8(data, pos + 1, options), 2);
}
function decodeUint16(data, pos, _minor, options) {
  return new Token(Type.uint, readUint16(data, pos + 1, options), 3);
}
function decodeUint32(data, pos, _minor, options) {
  return new Token(Type.uint, readUint32(data, pos + 1, options), 5);
}
function decodeUint64(data, pos, _minor, options) {
  return new Token(Type.uint, readUint64(data, pos + 1, options), 9);
}
function encodeUint(writer, token) {
  return encodeUintValue(writer, 0, token.value);
}
function encodeUintValue(writer, major, uint) {
  if (uint < uintBoundaries[0]) {
    const nuint = Number(uint);
    writer.pushByte(major | nuint);
  } else if (uint < uintBoundaries[1]) {
    const nuint = Number(uint);
    writer.push([major | 24, nuint]);
  } else if (uint < uintBoundaries[2]) {
    const nuint = Number(uint);
    writer.push([major | 25, nuint >>> 8, nuint & 255]);
  } else if (uint < uintBoundaries[3]) {
    const nuint = Number(uint);
    writer.push([major | 26, nuint >>> 24 & 255, nuint >>> 16 & 255, nuint >>> 8 & 255, nuint & 255]);
  } else {
    const buint = BigInt(uint);
    if (buint < uintBoundaries[4]) {
      const set = [major | 27, 0, 0, 0, 0, 0, 0, 0];
      let lo = Number(buint & BigInt(4294967295));
      let hi = Number(buint >> BigInt(32) & BigInt(4294967295));
      set[8] = lo & 255;
      lo = lo >> 8;
      set[7] = lo & 255;
      lo = lo >> 8;
      set[6] = lo & 255;
      lo = lo >> 8;
      set[5] = lo & 255;
      set[4] = hi & 255;
      hi = hi >> 8;
      set[3] = hi & 255;
      hi = hi >> 8;
      set[2] = hi & 255;
      hi = hi >> 8;
      set[1] = hi & 255;
      writer.push(set);
    } else {
      throw new Error(`${decodeErrPrefix} encountered BigInt larger than allowable range`);
    }
  }
}
encodeUint.encodedSize = function encodedSize(token) {
  return encodeUintValue.encodedSize(token.value);
};
encodeUintValue.encodedSize = function encodedSize2(uint) {
  if (uint < uintBoundaries[0]) {
    return 1;
  }
  if (uint < uintBoundaries[1]) {
    return 2;
  }
  if (uint < uintBoundaries[2]) {
    return 3;
  }
  if (uint < uintBoundaries[3]) {
    return 5;
  }
  return 9;
};
encodeUint.compareTokens = function compareTokens(tok1, tok2) {
  return tok1.value < tok2.value ? -1 : tok1.value > tok2.value ? 1 : 0;
};

// node_modules/cborg/lib/1negint.js
function decodeNegint8(data, pos, _minor, options) {
  return new Token(Type.negint, -1 - readUint8(data, pos + 1, options), 2);
}
function decodeNegint16(data, pos, _minor, options) {
  return new Token(Type.negint, -1 - readUint16(data, pos + 1, options), 3);
}
function decodeNegint32(data, pos, _minor, options) {
  return new Token(Type.negint, -1 - readUint32(data, pos + 1, options), 5);
}
var neg1b = BigInt(-1);
var pos1b = BigInt(1);
function decodeNegint64(data, pos, _minor, options) {
  const int = readUint64(data, pos + 1, options);
  if (typeof int !== "bigint") {
    const value = -1 - int;
    if (value >= Number.MIN_SAFE_INTEGER) {
      return new Token(Type.negint, value, 9);
    }
  }
  if (options.allowBigInt !== true) {
    throw new Error(`${decodeErrPrefix} integers outside of the safe integer range are not supported`);
  }
  return new Token(Type.negint, neg1b - BigInt(int), 9);
}
function encodeNegint(writer, token) {
  const negint = token.value;
  const unsigned = typeof negint === "bigint" ? negint * neg1b - pos1b : negint * -1 - 1;
  encodeUintValue(writer, token.type.majorEncoded, unsigned);
}
encodeNegint.encodedSize = function encodedSize3(token) {
  const negint = token.value;
  const unsigned = typeof negint === "bigint" ? negint * neg1b - pos1b : negint * -1 - 1;
  if (unsigned < uintBoundaries[0]) {
    return 1;
  }
  if (unsigned < uintBoundaries[1]) {
    return 2;
  }
  if (unsigned < uintBoundaries[2]) {
    return 3;
  }
  if (unsigned < uintBoundaries[3]) {
    return 5;
  }
  return 9;
};
encodeNegint.compareTokens = function compareTokens2(tok1, tok2) {
  return tok1.value < tok2.value ? 1 : tok1.value > tok2.value ? -1 : 0;
};

// node_modules/cborg/lib/2bytes.js
function toToken(data, pos, prefix, length3) {
  assertEnoughData(data, pos, prefix + length3);
  const buf = data.slice(pos + prefix, pos + prefix + length3);
  return new Token(Type.bytes, buf, prefix + length3);
}
function decodeBytesCompact(data, pos, minor, _options) {
  return toToken(data, pos, 1, minor);
}
function decodeBytes8(data, pos, _minor, options) {
  return toToken(data, pos, 2, readUint8(data, pos + 1, options));
}
function decodeBytes16(data, pos, _minor, options) {
  return toToken(data, pos, 3, readUint16(data, pos + 1, options));
}
function decodeBytes32(data, pos, _minor, options) {
  return toToken(data, pos, 5, readUint32(data, pos + 1, options));
}
function decodeBytes64(data, pos, _minor, options) {
  const l = readUint64(data, pos + 1, options);
  if (typeof l === "bigint") {
    throw new Error(`${decodeErrPrefix} 64-bit integer bytes lengths not supported`);
  }
  return toToken(data, pos, 9, l);
}
function tokenBytes(token) {
  if (token.encodedBytes === void 0) {
    token.encodedBytes = Type.equals(token.type, Type.string) ? fromString3(token.value) : token.value;
  }
  return token.encodedBytes;
}
function encodeBytes(writer, token) {
  const bytes = tokenBytes(token);
  encodeUintValue(writer, token.type.majorEncoded, bytes.length);
  writer.push(bytes);
}
encodeBytes.encodedSize = function encodedSize4(token) {
  const bytes = tokenBytes(token);
  return encodeUintValue.encodedSize(bytes.length) + bytes.length;
};
encodeBytes.compareTokens = function compareTokens3(tok1, tok2) {
  return compareBytes(tokenBytes(tok1), tokenBytes(tok2));
};
function compareBytes(b1, b2) {
  return b1.length < b2.length ? -1 : b1.length > b2.length ? 1 : compare(b1, b2);
}

// node_modules/cborg/lib/3string.js
var textDecoder3 = new TextDecoder();
var ASCII_THRESHOLD = 32;
function toStr(bytes, start, end) {
  const len = end - start;
  if (len < ASCII_THRESHOLD) {
    let str2 = "";
    for (let i = start; i < end; i++) {
      const c = bytes[i];
      if (c & 128) {
        return textDecoder3.decode(bytes.subarray(start, end));
      }
      str2 += String.fromCharCode(c);
    }
    return str2;
  }
  return textDecoder3.decode(bytes.subarray(start, end));
}
function toToken2(data, pos, prefix, length3, options) {
  const totLength = prefix + length3;
  assertEnoughData(data, pos, totLength);
  const tok = new Token(Type.string, toStr(data, pos + prefix, pos + totLength), totLength);
  if (options.retainStringBytes === true) {
    tok.byteValue = data.slice(pos + prefix, pos + totLength);
  }
  return tok;
}
function decodeStringCompact(data, pos, minor, options) {
  return toToken2(data, pos, 1, minor, options);
}
function decodeString8(data, pos, _minor, options) {
  return toToken2(data, pos, 2, readUint8(data, pos + 1, options), options);
}
function decodeString16(data, pos, _minor, options) {
  return toToken2(data, pos, 3, readUint16(data, pos + 1, options), options);
}
function decodeString32(data, pos, _minor, options) {
  return toToken2(data, pos, 5, readUint32(data, pos + 1, options), options);
}
function decodeString64(data, pos, _minor, options) {
  const l = readUint64(data, pos + 1, options);
  if (typeof l === "bigint") {
    throw new Error(`${decodeErrPrefix} 64-bit integer string lengths not supported`);
  }
  return toToken2(data, pos, 9, l, options);
}
var encodeString = encodeBytes;

// node_modules/cborg/lib/4array.js
function toToken3(_data, _pos, prefix, length3) {
  return new Token(Type.array, length3, prefix);
}
function decodeArrayCompact(data, pos, minor, _options) {
  return toToken3(data, pos, 1, minor);
}
function decodeArray8(data, pos, _minor, options) {
  return toToken3(data, pos, 2, readUint8(data, pos + 1, options));
}
function decodeArray16(data, pos, _minor, options) {
  return toToken3(data, pos, 3, readUint16(data, pos + 1, options));
}
function decodeArray32(data, pos, _minor, options) {
  return toToken3(data, pos, 5, readUint32(data, pos + 1, options));
}
function decodeArray64(data, pos, _minor, options) {
  const l = readUint64(data, pos + 1, options);
  if (typeof l === "bigint") {
    throw new Error(`${decodeErrPrefix} 64-bit integer array lengths not supported`);
  }
  return toToken3(data, pos, 9, l);
}
function decodeArrayIndefinite(data, pos, _minor, options) {
  if (options.allowIndefinite === false) {
    throw new Error(`${decodeErrPrefix} indefinite length items not allowed`);
  }
  return toToken3(data, pos, 1, Infinity);
}
function encodeArray(writer, token) {
  encodeUintValue(writer, Type.array.majorEncoded, token.value);
}
encodeArray.compareTokens = encodeUint.compareTokens;
encodeArray.encodedSize = function encodedSize5(token) {
  return encodeUintValue.encodedSize(token.value);
};

// node_modules/cborg/lib/5map.js
function toToken4(_data, _pos, prefix, length3) {
  return new Token(Type.map, length3, prefix);
}
function decodeMapCompact(data, pos, minor, _options) {
  return toToken4(data, pos, 1, minor);
}
function decodeMap8(data, pos, _minor, options) {
  return toToken4(data, pos, 2, readUint8(data, pos + 1, options));
}
function decodeMap16(data, pos, _minor, options) {
  return toToken4(data, pos, 3, readUint16(data, pos + 1, options));
}
function decodeMap32(data, pos, _minor, options) {
  return toToken4(data, pos, 5, readUint32(data, pos + 1, options));
}
function decodeMap64(data, pos, _minor, options) {
  const l = readUint64(data, pos + 1, options);
  if (typeof l === "bigint") {
    throw new Error(`${decodeErrPrefix} 64-bit integer map lengths not supported`);
  }
  return toToken4(data, pos, 9, l);
}
function decodeMapIndefinite(data, pos, _minor, options) {
  if (options.allowIndefinite === false) {
    throw new Error(`${decodeErrPrefix} indefinite length items not allowed`);
  }
  return toToken4(data, pos, 1, Infinity);
}
function encodeMap(writer, token) {
  encodeUintValue(writer, Type.map.majorEncoded, token.value);
}
encodeMap.compareTokens = encodeUint.compareTokens;
encodeMap.encodedSize = function encodedSize6(token) {
  return encodeUintValue.encodedSize(token.value);
};

// node_modules/cborg/lib/6tag.js
function decodeTagCompact(_data, _pos, minor, _options) {
  return new Token(Type.tag, minor, 1);
}
function decodeTag8(data, pos, _minor, options) {
  return new Token(Type.tag, readUint8(data, pos + 1, options), 2);
}
function decodeTag16(data, pos, _minor, options) {
  return new Token(Type.tag, readUint16(data, pos + 1, options), 3);
}
function decodeTag32(data, pos, _minor, options) {
  return new Token(Type.tag, readUint32(data, pos + 1, options), 5);
}
function decodeTag64(data, pos, _minor, options) {
  return new Token(Type.tag, readUint64(data, pos + 1, options), 9);
}
function encodeTag(writer, token) {
  encodeUintValue(writer, Type.tag.majorEncoded, token.value);
}
encodeTag.compareTokens = encodeUint.compareTokens;
encodeTag.encodedSize = function encodedSize7(token) {
  return encodeUintValue.encodedSize(token.value);
};

// node_modules/cborg/lib/7float.js
var MINOR_FALSE = 20;
var MINOR_TRUE = 21;
var MINOR_NULL = 22;
var MINOR_UNDEFINED = 23;
function decodeUndefined(_data, _pos, _minor, options) {
  if (options.allowUndefined === false) {
    throw new Error(`${decodeErrPrefix} undefined values are not supported`);
  } else if (options.coerceUndefinedToNull === true) {
    return new Token(Type.null, null, 1);
  }
  return new Token(Type.undefined, void 0, 1);
}
function decodeBreak(_data, _pos, _minor, options) {
  if (options.allowIndefinite === false) {
    throw new Error(`${decodeErrPrefix} indefinite length items not allowed`);
  }
  return new Token(Type.break, void 0, 1);
}
function createToken(value, bytes, options) {
  if (options) {
    if (options.allowNaN === false && Number.isNaN(value)) {
      throw new Error(`${decodeErrPrefix} NaN values are not supported`);
    }
    if (options.allowInfinity === false && (value === Infinity || value === -Infinity)) {
      throw new Error(`${decodeErrPrefix} Infinity values are not supported`);
    }
  }
  return new Token(Type.float, value, bytes);
}
function decodeFloat16(data, pos, _minor, options) {
  return createToken(readFloat16(data, pos + 1), 3, options);
}
function decodeFloat32(data, pos, _minor, options) {
  return createToken(readFloat32(data, pos + 1), 5, options);
}
function decodeFloat64(data, pos, _minor, options) {
  return createToken(readFloat64(data, pos + 1), 9, options);
}
function encodeFloat(writer, token, options) {
  const float = token.value;
  if (float === false) {
    writer.pushByte(Type.float.majorEncoded | MINOR_FALSE);
  } else if (float === true) {
    writer.pushByte(Type.float.majorEncoded | MINOR_TRUE);
  } else if (float === null) {
    writer.pushByte(Type.float.majorEncoded | MINOR_NULL);
  } else if (float === void 0) {
    writer.pushByte(Type.float.majorEncoded | MINOR_UNDEFINED);
  } else {
    let decoded;
    let success = false;
    if (!options || options.float64 !== true) {
      encodeFloat16(float);
      decoded = readFloat16(ui8a, 1);
      if (float === decoded || Number.isNaN(float)) {
        ui8a[0] = 249;
        writer.push(ui8a.slice(0, 3));
        success = true;
      } else {
        encodeFloat32(float);
        decoded = readFloat32(ui8a, 1);
        if (float === decoded) {
          ui8a[0] = 250;
          writer.push(ui8a.slice(0, 5));
          success = true;
        }
      }
    }
    if (!success) {
      encodeFloat64(float);
      decoded = readFloat64(ui8a, 1);
      ui8a[0] = 251;
      writer.push(ui8a.slice(0, 9));
    }
  }
}
encodeFloat.encodedSize = function encodedSize8(token, options) {
  const float = token.value;
  if (float === false || float === true || float === null || float === void 0) {
    return 1;
  }
  if (!options || options.float64 !== true) {
    encodeFloat16(float);
    let decoded = readFloat16(ui8a, 1);
    if (float === decoded || Number.isNaN(float)) {
      return 3;
    }
    encodeFloat32(float);
    decoded = readFloat32(ui8a, 1);
    if (float === decoded) {
      return 5;
    }
  }
  return 9;
};
var buffer = new ArrayBuffer(9);
var dataView = new DataView(buffer, 1);
var ui8a = new Uint8Array(buffer, 0);
function encodeFloat16(inp) {
  if (inp === Infinity) {
    dataView.setUint16(0, 31744, false);
  } else if (inp === -Infinity) {
    dataView.setUint16(0, 64512, false);
  } else if (Number.isNaN(inp)) {
    dataView.setUint16(0, 32256, false);
  } else {
    dataView.setFloat32(0, inp);
    const valu32 = dataView.getUint32(0);
    const exponent = (valu32 & 2139095040) >> 23;
    const mantissa = valu32 & 8388607;
    if (exponent === 255) {
      dataView.setUint16(0, 31744, false);
    } else if (exponent === 0) {
      dataView.setUint16(0, (valu32 & 2147483648) >> 16 | mantissa >> 13, false);
    } else {
      const logicalExponent = exponent - 127;
      if (logicalExponent < -24) {
        dataView.setUint16(0, 0);
      } else if (logicalExponent < -14) {
        dataView.setUint16(0, (valu32 & 2147483648) >> 16 | /* sign bit */
        1 << 24 + logicalExponent, false);
      } else {
        dataView.setUint16(0, (valu32 & 2147483648) >> 16 | logicalExponent + 15 << 10 | mantissa >> 13, false);
      }
    }
  }
}
function readFloat16(ui8a2, pos) {
  if (ui8a2.length - pos < 2) {
    throw new Error(`${decodeErrPrefix} not enough data for float16`);
  }
  const half = (ui8a2[pos] << 8) + ui8a2[pos + 1];
  if (half === 31744) {
    return Infinity;
  }
  if (half === 64512) {
    return -Infinity;
  }
  if (half === 32256) {
    return NaN;
  }
  const exp = half >> 10 & 31;
  const mant = half & 1023;
  let val;
  if (exp === 0) {
    val = mant * 2 ** -24;
  } else if (exp !== 31) {
    val = (mant + 1024) * 2 ** (exp - 25);
  } else {
    val = mant === 0 ? Infinity : NaN;
  }
  return half & 32768 ? -val : val;
}
function encodeFloat32(inp) {
  dataView.setFloat32(0, inp, false);
}
function readFloat32(ui8a2, pos) {
  if (ui8a2.length - pos < 4) {
    throw new Error(`${decodeErrPrefix} not enough data for float32`);
  }
  const offset = (ui8a2.byteOffset || 0) + pos;
  return new DataView(ui8a2.buffer, offset, 4).getFloat32(0, false);
}
function encodeFloat64(inp) {
  dataView.setFloat64(0, inp, false);
}
function readFloat64(ui8a2, pos) {
  if (ui8a2.length - pos < 8) {
    throw new Error(`${decodeErrPrefix} not enough data for float64`);
  }
  const offset = (ui8a2.byteOffset || 0) + pos;
  return new DataView(ui8a2.buffer, offset, 8).getFloat64(0, false);
}
function encodeMajorSevenBytes(token, float64) {
  const float = token.value;
  if (float === false) {
    return Uint8Array.of(Type.float.majorEncoded | MINOR_FALSE);
  }
  if (float === true) {
    return Uint8Array.of(Type.float.majorEncoded | MINOR_TRUE);
  }
  if (float === null) {
    return Uint8Array.of(Type.float.majorEncoded | MINOR_NULL);
  }
  if (float === void 0) {
    return Uint8Array.of(Type.float.majorEncoded | MINOR_UNDEFINED);
  }
  if (!float64) {
    encodeFloat16(float);
    if (float === readFloat16(ui8a, 1) || Number.isNaN(float)) {
      ui8a[0] = 249;
      return ui8a.slice(0, 3);
    }
    encodeFloat32(float);
    if (float === readFloat32(ui8a, 1)) {
      ui8a[0] = 250;
      return ui8a.slice(0, 5);
    }
  }
  encodeFloat64(float);
  ui8a[0] = 251;
  return ui8a.slice(0, 9);
}
function majorSevenBytes(token, options) {
  const tokenEx = (
    /** @type {TokenEx} */
    token
  );
  const float64 = options?.float64 === true;
  const cached = float64 ? tokenEx._keyBytesFloat64 : tokenEx._keyBytes;
  if (cached !== void 0) {
    return cached;
  }
  const bytes = encodeMajorSevenBytes(token, float64);
  if (float64) {
    tokenEx._keyBytesFloat64 = bytes;
  } else {
    tokenEx._keyBytes = bytes;
  }
  return bytes;
}
encodeFloat.compareTokens = function compareTokens4(tok1, tok2, options) {
  const b1 = majorSevenBytes(tok1, options);
  const b2 = majorSevenBytes(tok2, options);
  if (b1.length !== b2.length) {
    return b1.length < b2.length ? -1 : 1;
  }
  return compare(b1, b2);
};

// node_modules/cborg/lib/jump.js
function invalidMinor(data, pos, minor) {
  throw new Error(`${decodeErrPrefix} encountered invalid minor (${minor}) for major ${data[pos] >>> 5}`);
}
function errorer(msg) {
  return () => {
    throw new Error(`${decodeErrPrefix} ${msg}`);
  };
}
var jump = [];
for (let i = 0; i <= 23; i++) {
  jump[i] = invalidMinor;
}
jump[24] = decodeUint8;
jump[25] = decodeUint16;
jump[26] = decodeUint32;
jump[27] = decodeUint64;
jump[28] = invalidMinor;
jump[29] = invalidMinor;
jump[30] = invalidMinor;
jump[31] = invalidMinor;
for (let i = 32; i <= 55; i++) {
  jump[i] = invalidMinor;
}
jump[56] = decodeNegint8;
jump[57] = decodeNegint16;
jump[58] = decodeNegint32;
jump[59] = decodeNegint64;
jump[60] = invalidMinor;
jump[61] = invalidMinor;
jump[62] = invalidMinor;
jump[63] = invalidMinor;
for (let i = 64; i <= 87; i++) {
  jump[i] = decodeBytesCompact;
}
jump[88] = decodeBytes8;
jump[89] = decodeBytes16;
jump[90] = decodeBytes32;
jump[91] = decodeBytes64;
jump[92] = invalidMinor;
jump[93] = invalidMinor;
jump[94] = invalidMinor;
jump[95] = errorer("indefinite length bytes/strings are not supported");
for (let i = 96; i <= 119; i++) {
  jump[i] = decodeStringCompact;
}
jump[120] = decodeString8;
jump[121] = decodeString16;
jump[122] = decodeString32;
jump[123] = decodeString64;
jump[124] = invalidMinor;
jump[125] = invalidMinor;
jump[126] = invalidMinor;
jump[127] = errorer("indefinite length bytes/strings are not supported");
for (let i = 128; i <= 151; i++) {
  jump[i] = decodeArrayCompact;
}
jump[152] = decodeArray8;
jump[153] = decodeArray16;
jump[154] = decodeArray32;
jump[155] = decodeArray64;
jump[156] = invalidMinor;
jump[157] = invalidMinor;
jump[158] = invalidMinor;
jump[159] = decodeArrayIndefinite;
for (let i = 160; i <= 183; i++) {
  jump[i] = decodeMapCompact;
}
jump[184] = decodeMap8;
jump[185] = decodeMap16;
jump[186] = decodeMap32;
jump[187] = decodeMap64;
jump[188] = invalidMinor;
jump[189] = invalidMinor;
jump[190] = invalidMinor;
jump[191] = decodeMapIndefinite;
for (let i = 192; i <= 215; i++) {
  jump[i] = decodeTagCompact;
}
jump[216] = decodeTag8;
jump[217] = decodeTag16;
jump[218] = decodeTag32;
jump[219] = decodeTag64;
jump[220] = invalidMinor;
jump[221] = invalidMinor;
jump[222] = invalidMinor;
jump[223] = invalidMinor;
for (let i = 224; i <= 243; i++) {
  jump[i] = errorer("simple values are not supported");
}
jump[244] = invalidMinor;
jump[245] = invalidMinor;
jump[246] = invalidMinor;
jump[247] = decodeUndefined;
jump[248] = errorer("simple values are not supported");
jump[249] = decodeFloat16;
jump[250] = decodeFloat32;
jump[251] = decodeFloat64;
jump[252] = invalidMinor;
jump[253] = invalidMinor;
jump[254] = invalidMinor;
jump[255] = decodeBreak;
var quick = [];
for (let i = 0; i < 24; i++) {
  quick[i] = new Token(Type.uint, i, 1);
}
for (let i = -1; i >= -24; i--) {
  quick[31 - i] = new Token(Type.negint, i, 1);
}
quick[64] = new Token(Type.bytes, new Uint8Array(0), 1);
quick[96] = new Token(Type.string, "", 1);
quick[128] = new Token(Type.array, 0, 1);
quick[160] = new Token(Type.map, 0, 1);
quick[244] = new Token(Type.false, false, 1);
quick[245] = new Token(Type.true, true, 1);
quick[246] = new Token(Type.null, null, 1);
function quickEncodeToken(token) {
  switch (token.type) {
    case Type.false:
      return fromArray([244]);
    case Type.true:
      return fromArray([245]);
    case Type.null:
      return fromArray([246]);
    case Type.bytes:
      if (!token.value.length) {
        return fromArray([64]);
      }
      return;
    case Type.string:
      if (token.value === "") {
        return fromArray([96]);
      }
      return;
    case Type.array:
      if (token.value === 0) {
        return fromArray([128]);
      }
      return;
    case Type.map:
      if (token.value === 0) {
        return fromArray([160]);
      }
      return;
    case Type.uint:
      if (token.value < 24) {
        return fromArray([Number(token.value)]);
      }
      return;
    case Type.negint:
      if (token.value >= -24) {
        return fromArray([31 - Number(token.value)]);
      }
  }
}

// node_modules/cborg/lib/encode.js
var rfc8949EncodeOptions = Object.freeze({
  mapSorter: rfc8949MapSorter,
  quickEncodeToken
});
function makeCborEncoders() {
  const encoders = [];
  encoders[Type.uint.major] = encodeUint;
  encoders[Type.negint.major] = encodeNegint;
  encoders[Type.bytes.major] = encodeBytes;
  encoders[Type.string.major] = encodeString;
  encoders[Type.array.major] = encodeArray;
  encoders[Type.map.major] = encodeMap;
  encoders[Type.tag.major] = encodeTag;
  encoders[Type.float.major] = encodeFloat;
  return encoders;
}
var cborEncoders = makeCborEncoders();
var defaultWriter = new Bl();
var Ref = class _Ref {
  /**
   * @param {object|any[]} obj
   * @param {Reference|undefined} parent
   */
  constructor(obj, parent) {
    this.obj = obj;
    this.parent = parent;
  }
  /**
   * @param {object|any[]} obj
   * @returns {boolean}
   */
  includes(obj) {
    let p = this;
    do {
      if (p.obj === obj) {
        return true;
      }
    } while (p = p.parent);
    return false;
  }
  /**
   * @param {Reference|undefined} stack
   * @param {object|any[]} obj
   * @returns {Reference}
   */
  static createCheck(stack, obj) {
    if (stack && stack.includes(obj)) {
      throw new Error(`${encodeErrPrefix} object contains circular references`);
    }
    return new _Ref(obj, stack);
  }
};
var simpleTokens = {
  null: new Token(Type.null, null),
  undefined: new Token(Type.undefined, void 0),
  true: new Token(Type.true, true),
  false: new Token(Type.false, false),
  emptyArray: new Token(Type.array, 0),
  emptyMap: new Token(Type.map, 0)
};
var typeEncoders = {
  /**
   * @param {any} obj
   * @param {string} _typ
   * @param {EncodeOptions} _options
   * @param {Reference} [_refStack]
   * @returns {TokenOrNestedTokens}
   */
  number(obj, _typ, _options, _refStack) {
    if (!Number.isInteger(obj) || !Number.isSafeInteger(obj)) {
      return new Token(Type.float, obj);
    } else if (obj >= 0) {
      return new Token(Type.uint, obj);
    } else {
      return new Token(Type.negint, obj);
    }
  },
  /**
   * @param {any} obj
   * @param {string} _typ
   * @param {EncodeOptions} _options
   * @param {Reference} [_refStack]
   * @returns {TokenOrNestedTokens}
   */
  bigint(obj, _typ, _options, _refStack) {
    if (obj >= BigInt(0)) {
      return new Token(Type.uint, obj);
    } else {
      return new Token(Type.negint, obj);
    }
  },
  /**
   * @param {any} obj
   * @param {string} _typ
   * @param {EncodeOptions} _options
   * @param {Reference} [_refStack]
   * @returns {TokenOrNestedTokens}
   */
  Uint8Array(obj, _typ, _options, _refStack) {
    return new Token(Type.bytes, obj);
  },
  /**
   * @param {any} obj
   * @param {string} _typ
   * @param {EncodeOptions} _options
   * @param {Reference} [_refStack]
   * @returns {TokenOrNestedTokens}
   */
  string(obj, _typ, _options, _refStack) {
    return new Token(Type.string, obj);
  },
  /**
   * @param {any} obj
   * @param {string} _typ
   * @param {EncodeOptions} _options
   * @param {Reference} [_refStack]
   * @returns {TokenOrNestedTokens}
   */
  boolean(obj, _typ, _options, _refStack) {
    return obj ? simpleTokens.true : simpleTokens.false;
  },
  /**
   * @param {any} _obj
   * @param {string} _typ
   * @param {EncodeOptions} _options
   * @param {Reference} [_refStack]
   * @returns {TokenOrNestedTokens}
   */
  null(_obj, _typ, _options, _refStack) {
    return simpleTokens.null;
  },
  /**
   * @param {any} _obj
   * @param {string} _typ
   * @param {EncodeOptions} _options
   * @param {Reference} [_refStack]
   * @returns {TokenOrNestedTokens}
   */
  undefined(_obj, _typ, _options, _refStack) {
    return simpleTokens.undefined;
  },
  /**
   * @param {any} obj
   * @param {string} _typ
   * @param {EncodeOptions} _options
   * @param {Reference} [_refStack]
   * @returns {TokenOrNestedTokens}
   */
  ArrayBuffer(obj, _typ, _options, _refStack) {
    return new Token(Type.bytes, new Uint8Array(obj));
  },
  /**
   * @param {any} obj
   * @param {string} _typ
   * @param {EncodeOptions} _options
   * @param {Reference} [_refStack]
   * @returns {TokenOrNestedTokens}
   */
  DataView(obj, _typ, _options, _refStack) {
    return new Token(Type.bytes, new Uint8Array(obj.buffer, obj.byteOffset, obj.byteLength));
  },
  /**
   * @param {any} obj
   * @param {string} _typ
   * @param {EncodeOptions} options
   * @param {Reference} [refStack]
   * @returns {TokenOrNestedTokens}
   */
  Array(obj, _typ, options, refStack) {
    if (!obj.length) {
      if (options.addBreakTokens === true) {
        return [simpleTokens.emptyArray, new Token(Type.break)];
      }
      return simpleTokens.emptyArray;
    }
    refStack = Ref.createCheck(refStack, obj);
    const entries = [];
    let i = 0;
    for (const e of obj) {
      entries[i++] = objectToTokens(e, options, refStack);
    }
    if (options.addBreakTokens) {
      return [new Token(Type.array, obj.length), entries, new Token(Type.break)];
    }
    return [new Token(Type.array, obj.length), entries];
  },
  /**
   * @param {any} obj
   * @param {string} typ
   * @param {EncodeOptions} options
   * @param {Reference} [refStack]
   * @returns {TokenOrNestedTokens}
   */
  Object(obj, typ, options, refStack) {
    const isMap = typ !== "Object";
    const keys = isMap ? obj.keys() : Object.keys(obj);
    const maxLength = isMap ? obj.size : keys.length;
    let entries;
    if (maxLength) {
      entries = new Array(maxLength);
      refStack = Ref.createCheck(refStack, obj);
      const skipUndefined = !isMap && options.ignoreUndefinedProperties;
      let i = 0;
      for (const key of keys) {
        const value = isMap ? obj.get(key) : obj[key];
        if (skipUndefined && value === void 0) {
          continue;
        }
        entries[i++] = [
          objectToTokens(key, options, refStack),
          objectToTokens(value, options, refStack)
        ];
      }
      if (i < maxLength) {
        entries.length = i;
      }
    }
    if (!entries?.length) {
      if (options.addBreakTokens === true) {
        return [simpleTokens.emptyMap, new Token(Type.break)];
      }
      return simpleTokens.emptyMap;
    }
    sortMapEntries(entries, options);
    if (options.addBreakTokens) {
      return [new Token(Type.map, entries.length), entries, new Token(Type.break)];
    }
    return [new Token(Type.map, entries.length), entries];
  },
  /**
   * Encode a `Tagged` wrapper as a CBOR tag header followed by the encoded
   * form of the wrapped value. The value is recursively tokenised through
   * `objectToTokens()` so any registered `typeEncoders` apply to it.
   *
   * @param {any} obj
   * @param {string} _typ
   * @param {EncodeOptions} options
   * @param {Reference} [refStack]
   * @returns {TokenOrNestedTokens}
   */
  Tagged(obj, _typ, options, refStack) {
    return [
      new Token(Type.tag, obj.tag),
      objectToTokens(obj.value, options, refStack)
    ];
  }
};
typeEncoders.Map = typeEncoders.Object;
typeEncoders.Buffer = typeEncoders.Uint8Array;
for (const typ of "Uint8Clamped Uint16 Uint32 Int8 Int16 Int32 BigUint64 BigInt64 Float32 Float64".split(" ")) {
  typeEncoders[`${typ}Array`] = typeEncoders.DataView;
}
function objectToTokens(obj, options = {}, refStack) {
  const typ = is(obj);
  const customTypeEncoder = options && options.typeEncoders && /** @type {OptionalTypeEncoder} */
  options.typeEncoders[typ] || typeEncoders[typ];
  if (typeof customTypeEncoder === "function") {
    const tokens = customTypeEncoder(obj, typ, options, refStack);
    if (tokens != null) {
      return tokens;
    }
  }
  const typeEncoder = typeEncoders[typ];
  if (!typeEncoder) {
    throw new Error(`${encodeErrPrefix} unsupported type: ${typ}`);
  }
  return typeEncoder(obj, typ, options, refStack);
}
function sortMapEntries(entries, options) {
  const mapSorter = (
    /** @type {(e1: TokenOrNestedTokens, e2: TokenOrNestedTokens, options?: EncodeOptions) => number} */
    options.mapSorter
  );
  if (mapSorter) {
    entries.sort((e1, e2) => mapSorter(e1, e2, options));
  }
}
function rfc8949MapSorter(e1, e2) {
  if (e1[0] instanceof Token && e2[0] instanceof Token) {
    const t1 = (
      /** @type {TokenEx} */
      e1[0]
    );
    const t2 = (
      /** @type {TokenEx} */
      e2[0]
    );
    if (!t1._keyBytes) {
      t1._keyBytes = encodeRfc8949(t1.value);
    }
    if (!t2._keyBytes) {
      t2._keyBytes = encodeRfc8949(t2.value);
    }
    return compare(t1._keyBytes, t2._keyBytes);
  }
  throw new Error("rfc8949MapSorter: complex key types are not supported yet");
}
function encodeRfc8949(data) {
  return encodeCustom(data, cborEncoders, rfc8949EncodeOptions);
}
function tokensToEncoded(writer, tokens, encoders, options) {
  if (Array.isArray(tokens)) {
    for (const token of tokens) {
      tokensToEncoded(writer, token, encoders, options);
    }
  } else {
    encoders[tokens.type.major](writer, tokens, options);
  }
}
var MAJOR_UINT = Type.uint.majorEncoded;
var MAJOR_NEGINT = Type.negint.majorEncoded;
var MAJOR_BYTES = Type.bytes.majorEncoded;
var MAJOR_STRING = Type.string.majorEncoded;
var MAJOR_ARRAY = Type.array.majorEncoded;
var MAJOR_MAP = Type.map.majorEncoded;
var SIMPLE_FALSE = Type.float.majorEncoded | MINOR_FALSE;
var SIMPLE_TRUE = Type.float.majorEncoded | MINOR_TRUE;
var SIMPLE_NULL = Type.float.majorEncoded | MINOR_NULL;
var SIMPLE_UNDEFINED = Type.float.majorEncoded | MINOR_UNDEFINED;
var neg1b2 = BigInt(-1);
var pos1b2 = BigInt(1);
function encodeCustom(data, encoders, options, destination) {
  const hasDest = destination instanceof Uint8Array;
  let writeTo = hasDest ? new U8Bl(destination) : defaultWriter;
  const tokens = objectToTokens(data, options);
  if (!Array.isArray(tokens) && options.quickEncodeToken) {
    const quickBytes = options.quickEncodeToken(tokens);
    if (quickBytes) {
      if (hasDest) {
        writeTo.push(quickBytes);
        return writeTo.toBytes();
      }
      return quickBytes;
    }
    const encoder5 = encoders[tokens.type.major];
    if (encoder5.encodedSize) {
      const size = encoder5.encodedSize(tokens, options);
      if (!hasDest) {
        writeTo = new Bl(size);
      }
      encoder5(writeTo, tokens, options);
      if (writeTo.chunks.length !== 1) {
        throw new Error(`Unexpected error: pre-calculated length for ${tokens} was wrong`);
      }
      return hasDest ? writeTo.toBytes() : asU8A(writeTo.chunks[0]);
    }
  }
  writeTo.reset();
  tokensToEncoded(writeTo, tokens, encoders, options);
  return writeTo.toBytes(true);
}

// node_modules/cborg/lib/decode.js
var defaultDecodeOptions = {
  strict: false,
  allowIndefinite: true,
  allowUndefined: true,
  allowBigInt: true
};
var Tokeniser = class {
  /**
   * @param {Uint8Array} data
   * @param {DecodeOptions} options
   */
  constructor(data, options = {}) {
    this._pos = 0;
    this.data = data;
    this.options = options;
  }
  pos() {
    return this._pos;
  }
  done() {
    return this._pos >= this.data.length;
  }
  next() {
    const byt = this.data[this._pos];
    let token = quick[byt];
    if (token === void 0) {
      const decoder = jump[byt];
      if (!decoder) {
        throw new Error(`${decodeErrPrefix} no decoder for major type ${byt >>> 5} (byte 0x${byt.toString(16).padStart(2, "0")})`);
      }
      const minor = byt & 31;
      token = decoder(this.data, this._pos, minor, this.options);
    }
    this._pos += token.encodedLength;
    return token;
  }
};
var DONE = /* @__PURE__ */ Symbol.for("DONE");
var BREAK = /* @__PURE__ */ Symbol.for("BREAK");
function tokenToArray(token, tokeniser, options) {
  const arr = [];
  for (let i = 0; i < token.value; i++) {
    const value = tokensToObject(tokeniser, options);
    if (value === BREAK) {
      if (token.value === Infinity) {
        break;
      }
      throw new Error(`${decodeErrPrefix} got unexpected break to lengthed array`);
    }
    if (value === DONE) {
      throw new Error(`${decodeErrPrefix} found array but not enough entries (got ${i}, expected ${token.value})`);
    }
    arr[i] = value;
  }
  return arr;
}
function tokenToMap(token, tokeniser, options) {
  const useMaps = options.useMaps === true;
  const rejectDuplicateMapKeys = options.rejectDuplicateMapKeys === true;
  const obj = useMaps ? void 0 : {};
  const m = useMaps ? /* @__PURE__ */ new Map() : void 0;
  for (let i = 0; i < token.value; i++) {
    const key = tokensToObject(tokeniser, options);
    if (key === BREAK) {
      if (token.value === Infinity) {
        break;
      }
      throw new Error(`${decodeErrPrefix} got unexpected break to lengthed map`);
    }
    if (key === DONE) {
      throw new Error(`${decodeErrPrefix} found map but not enough entries (got ${i} [no key], expected ${token.value})`);
    }
    if (!useMaps && typeof key !== "string") {
      throw new Error(`${decodeErrPrefix} non-string keys not supported (got ${typeof key})`);
    }
    if (rejectDuplicateMapKeys) {
      if (useMaps && m.has(key) || !useMaps && Object.hasOwn(obj, key)) {
        throw new Error(`${decodeErrPrefix} found repeat map key "${key}"`);
      }
    }
    const value = tokensToObject(tokeniser, options);
    if (value === DONE) {
      throw new Error(`${decodeErrPrefix} found map but not enough entries (got ${i} [no value], expected ${token.value})`);
    }
    if (useMaps) {
      m.set(key, value);
    } else if (key === "__proto__") {
      Object.defineProperty(obj, key, { value, configurable: true, enumerable: true, writable: true });
    } else {
      obj[key] = value;
    }
  }
  return useMaps ? m : obj;
}
function* tokenToMapEntries(token, tokeniser, options) {
  for (let i = 0; i < token.value; i++) {
    const key = tokensToObject(tokeniser, options);
    if (key === BREAK) {
      if (token.value === Infinity) {
        break;
      }
      throw new Error(`${decodeErrPrefix} got unexpected break to lengthed map`);
    }
    if (key === DONE) {
      throw new Error(`${decodeErrPrefix} found map but not enough entries (got ${i} [no key], expected ${token.value})`);
    }
    const value = tokensToObject(tokeniser, options);
    if (value === DONE) {
      throw new Error(`${decodeErrPrefix} found map but not enough entries (got ${i} [no value], expected ${token.value})`);
    }
    yield [key, value];
  }
}
function createTagDecodeControl(tokeniser, options) {
  const decode10 = function() {
    if (decode10._called) {
      throw new Error(`${decodeErrPrefix} tag decode() may only be called once`);
    }
    decode10._called = true;
    const value = tokensToObject(tokeniser, options);
    if (value === DONE) {
      throw new Error(`${decodeErrPrefix} tag content missing`);
    }
    if (value === BREAK) {
      throw new Error(`${decodeErrPrefix} got unexpected break in tag content`);
    }
    return value;
  };
  decode10.entries = function() {
    if (decode10._called) {
      throw new Error(`${decodeErrPrefix} tag decode() may only be called once`);
    }
    decode10._called = true;
    const token = tokeniser.next();
    if (!Type.equals(token.type, Type.map)) {
      throw new Error(`${decodeErrPrefix} entries() requires map content, got ${token.type.name}`);
    }
    const entries = [];
    for (const entry of tokenToMapEntries(token, tokeniser, options)) {
      entries.push(entry);
    }
    return entries;
  };
  decode10._called = false;
  return decode10;
}
function tokensToObject(tokeniser, options) {
  if (tokeniser.done()) {
    return DONE;
  }
  const token = tokeniser.next();
  if (Type.equals(token.type, Type.break)) {
    return BREAK;
  }
  if (token.type.terminal) {
    return token.value;
  }
  if (Type.equals(token.type, Type.array)) {
    return tokenToArray(token, tokeniser, options);
  }
  if (Type.equals(token.type, Type.map)) {
    return tokenToMap(token, tokeniser, options);
  }
  if (Type.equals(token.type, Type.tag)) {
    if (options.tags && typeof options.tags[token.value] === "function") {
      const decodeControl = createTagDecodeControl(tokeniser, options);
      const result = options.tags[token.value](decodeControl);
      if (!decodeControl._called) {
        throw new Error(`${decodeErrPrefix} tag decoder must call decode() or entries()`);
      }
      return result;
    }
    throw new Error(`${decodeErrPrefix} tag not supported (${token.value})`);
  }
  throw new Error("unsupported");
}
function decodeFirst(data, options) {
  if (!(data instanceof Uint8Array)) {
    throw new Error(`${decodeErrPrefix} data to decode must be a Uint8Array`);
  }
  options = Object.assign({}, defaultDecodeOptions, options);
  const u8aData = asU8A(data);
  const tokeniser = options.tokenizer || new Tokeniser(u8aData, options);
  const decoded = tokensToObject(tokeniser, options);
  if (decoded === DONE) {
    throw new Error(`${decodeErrPrefix} did not find any content to decode`);
  }
  if (decoded === BREAK) {
    throw new Error(`${decodeErrPrefix} got unexpected break`);
  }
  return [decoded, data.subarray(tokeniser.pos())];
}
function decode8(data, options) {
  const [decoded, remainder] = decodeFirst(data, options);
  if (remainder.length > 0) {
    throw new Error(`${decodeErrPrefix} too many terminals, data makes no sense`);
  }
  return decoded;
}

// node_modules/cborg/lib/tagged.js
var Tagged = class _Tagged {
  /**
   * @param {number} tag - CBOR tag number, a non-negative integer
   * @param {any} value - The value to be tagged; encoded recursively
   */
  constructor(tag, value) {
    if (typeof tag !== "number" || !Number.isInteger(tag) || tag < 0) {
      throw new TypeError("Tagged: tag must be a non-negative integer");
    }
    this.tag = tag;
    this.value = value;
  }
  /**
   * Build a tag decoder for use in `decode()`'s `tags` option that returns the
   * decoded content wrapped in a `Tagged` instance, preserving the tag number
   * for the caller to inspect.
   *
   * @param {number} tag - The CBOR tag number this decoder will be registered for
   * @returns {TaggedTagDecoder}
   *
   * @example
   * import { decode, Tagged } from 'cborg'
   * const value = decode(bytes, { tags: { 16: Tagged.decoder(16) } })
   * // value instanceof Tagged; value.tag === 16
   */
  static decoder(tag) {
    return (decode10) => new _Tagged(tag, decode10());
  }
  /**
   * Build a `tags` option for `decode()` that wraps each listed tag number in
   * a `Tagged` instance, preserving those tags through decode without
   * registering a dedicated decoder per tag.
   *
   * @param {...number} tagNumbers - One or more CBOR tag numbers to preserve
   * @returns {{[tagNumber: number]: TaggedTagDecoder}}
   *
   * @example
   * import { decode, Tagged } from 'cborg'
   * const value = decode(bytes, { tags: Tagged.preserve(16, 96) })
   */
  static preserve(...tagNumbers) {
    const tags = {};
    for (const tag of tagNumbers) {
      tags[tag] = _Tagged.decoder(tag);
    }
    return tags;
  }
};
Object.defineProperty(Tagged.prototype, Symbol.toStringTag, {
  value: "Tagged"
});

// node_modules/@ipld/dag-cbor/src/index.js
var CID_CBOR_TAG = 42;
function toByteView2(buf) {
  if (buf instanceof ArrayBuffer) {
    return new Uint8Array(buf, 0, buf.byteLength);
  }
  return buf;
}
function cidEncoder(obj) {
  if (obj.asCID !== obj && obj["/"] !== obj.bytes) {
    return null;
  }
  const cid2 = CID.asCID(obj);
  if (!cid2) {
    return null;
  }
  const bytes = new Uint8Array(cid2.bytes.byteLength + 1);
  bytes.set(cid2.bytes, 1);
  return [
    new Token(Type.tag, CID_CBOR_TAG),
    new Token(Type.bytes, bytes)
  ];
}
function undefinedEncoder() {
  throw new Error("`undefined` is not supported by the IPLD Data Model and cannot be encoded");
}
function numberEncoder(num) {
  if (Number.isNaN(num)) {
    throw new Error("`NaN` is not supported by the IPLD Data Model and cannot be encoded");
  }
  if (num === Infinity || num === -Infinity) {
    throw new Error("`Infinity` and `-Infinity` is not supported by the IPLD Data Model and cannot be encoded");
  }
  return null;
}
function mapEncoder(map) {
  for (const key of map.keys()) {
    if (typeof key !== "string" || key.length === 0) {
      throw new Error("Non-string Map keys are not supported by the IPLD Data Model and cannot be encoded");
    }
  }
  return null;
}
var _encodeOptions = {
  float64: true,
  typeEncoders: {
    Map: mapEncoder,
    Object: cidEncoder,
    undefined: undefinedEncoder,
    number: numberEncoder
  }
};
var encodeOptions = {
  ..._encodeOptions,
  typeEncoders: {
    ..._encodeOptions.typeEncoders
  }
};
function cidDecoder(decode10) {
  const bytes = (
    /** @type {Uint8Array} */
    decode10()
  );
  if (bytes[0] !== 0) {
    throw new Error("Invalid CID for CBOR tag 42; expected leading 0x00");
  }
  return CID.decode(bytes.subarray(1));
}
var _decodeOptions = {
  allowIndefinite: false,
  coerceUndefinedToNull: true,
  allowNaN: false,
  allowInfinity: false,
  allowBigInt: true,
  // this will lead to BigInt for ints outside of
  // safe-integer range, which may surprise users
  strict: true,
  useMaps: false,
  rejectDuplicateMapKeys: true,
  /** @type {{ [tagNumber: number]: import('cborg').TagDecoder }} */
  tags: { [CID_CBOR_TAG]: cidDecoder }
};
var decodeOptions = {
  ..._decodeOptions,
  tags: { ..._decodeOptions.tags }
};
var decode9 = (data) => decode8(toByteView2(data), _decodeOptions);

// node_modules/@ipld/car/src/decoder-common.js
var import_varint2 = __toESM(require_varint(), 1);
var CIDV0_BYTES = {
  SHA2_256: 18,
  LENGTH: 32,
  DAG_PB: 112
};
var V2_HEADER_LENGTH = (
  /* characteristics */
  16 + 8 + 8 + 8
);
function decodeVarint2(bytes, seeker) {
  if (!bytes.length) {
    throw new Error("Unexpected end of data");
  }
  const i = import_varint2.default.decode(bytes);
  seeker.seek(
    /** @type {number} */
    import_varint2.default.decode.bytes
  );
  return i;
}
function decodeV2Header(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  const header = {
    version: 2,
    /** @type {[bigint, bigint]} */
    characteristics: [
      dv.getBigUint64(offset, true),
      dv.getBigUint64(offset += 8, true)
    ],
    dataOffset: Number(dv.getBigUint64(offset += 8, true)),
    dataSize: Number(dv.getBigUint64(offset += 8, true)),
    indexOffset: Number(dv.getBigUint64(offset += 8, true))
  };
  return header;
}
function getMultihashLength(bytes) {
  import_varint2.default.decode(bytes);
  const codeLength = (
    /** @type {number} */
    import_varint2.default.decode.bytes
  );
  const length3 = import_varint2.default.decode(bytes.subarray(import_varint2.default.decode.bytes));
  const lengthLength = (
    /** @type {number} */
    import_varint2.default.decode.bytes
  );
  const mhLength = codeLength + lengthLength + length3;
  return mhLength;
}

// node_modules/@ipld/car/src/header-validator.js
var Kinds = {
  Null: (
    /**
     * @param obj
     * @returns {undefined|null}
     */
    (obj) => obj === null ? obj : void 0
  ),
  Int: (
    /**
     * @param obj
     * @returns {undefined|number}
     */
    (obj) => Number.isInteger(obj) ? obj : void 0
  ),
  Float: (
    /**
     * @param obj
     * @returns {undefined|number}
     */
    (obj) => typeof obj === "number" && Number.isFinite(obj) ? obj : void 0
  ),
  String: (
    /**
     * @param obj
     * @returns {undefined|string}
     */
    (obj) => typeof obj === "string" ? obj : void 0
  ),
  Bool: (
    /**
     * @param obj
     * @returns {undefined|boolean}
     */
    (obj) => typeof obj === "boolean" ? obj : void 0
  ),
  Bytes: (
    /**
     * @param obj
     * @returns {undefined|Uint8Array}
     */
    (obj) => obj instanceof Uint8Array ? obj : void 0
  ),
  Link: (
    /**
     * @param obj
     * @returns {undefined|object}
     */
    (obj) => obj !== null && typeof obj === "object" && obj.asCID === obj ? obj : void 0
  ),
  List: (
    /**
     * @param obj
     * @returns {undefined|Array<any>}
     */
    (obj) => Array.isArray(obj) ? obj : void 0
  ),
  Map: (
    /**
     * @param obj
     * @returns {undefined|object}
     */
    (obj) => obj !== null && typeof obj === "object" && obj.asCID !== obj && !Array.isArray(obj) && !(obj instanceof Uint8Array) ? obj : void 0
  )
};
var Types = {
  "CarV1HeaderOrV2Pragma > roots (anon) > valueType (anon)": Kinds.Link,
  "CarV1HeaderOrV2Pragma > roots (anon)": (
    /**
     * @param obj
     * @returns {undefined|any}
     */
    (obj) => {
      if (Kinds.List(obj) === void 0) {
        return void 0;
      }
      for (let i = 0; i < obj.length; i++) {
        let v = obj[i];
        v = Types["CarV1HeaderOrV2Pragma > roots (anon) > valueType (anon)"](v);
        if (v === void 0) {
          return void 0;
        }
        if (v !== obj[i]) {
          const ret = obj.slice(0, i);
          for (let j = i; j < obj.length; j++) {
            let v2 = obj[j];
            v2 = Types["CarV1HeaderOrV2Pragma > roots (anon) > valueType (anon)"](v2);
            if (v2 === void 0) {
              return void 0;
            }
            ret.push(v2);
          }
          return ret;
        }
      }
      return obj;
    }
  ),
  Int: Kinds.Int,
  CarV1HeaderOrV2Pragma: (
    /**
     * @param obj
     * @returns {undefined|any}
     */
    (obj) => {
      if (Kinds.Map(obj) === void 0) {
        return void 0;
      }
      const entries = Object.entries(obj);
      let ret = obj;
      let requiredCount = 1;
      for (let i = 0; i < entries.length; i++) {
        const [key, value] = entries[i];
        switch (key) {
          case "roots":
            {
              const v = Types["CarV1HeaderOrV2Pragma > roots (anon)"](obj[key]);
              if (v === void 0) {
                return void 0;
              }
              if (v !== value || ret !== obj) {
                if (ret === obj) {
                  ret = {};
                  for (let j = 0; j < i; j++) {
                    ret[entries[j][0]] = entries[j][1];
                  }
                }
                ret.roots = v;
              }
            }
            break;
          case "version":
            {
              requiredCount--;
              const v = Types.Int(obj[key]);
              if (v === void 0) {
                return void 0;
              }
              if (v !== value || ret !== obj) {
                if (ret === obj) {
                  ret = {};
                  for (let j = 0; j < i; j++) {
                    ret[entries[j][0]] = entries[j][1];
                  }
                }
                ret.version = v;
              }
            }
            break;
          default:
            return void 0;
        }
      }
      if (requiredCount > 0) {
        return void 0;
      }
      return ret;
    }
  )
};
var Reprs = {
  "CarV1HeaderOrV2Pragma > roots (anon) > valueType (anon)": Kinds.Link,
  "CarV1HeaderOrV2Pragma > roots (anon)": (
    /**
     * @param obj
     * @returns {undefined|any}
     */
    (obj) => {
      if (Kinds.List(obj) === void 0) {
        return void 0;
      }
      for (let i = 0; i < obj.length; i++) {
        let v = obj[i];
        v = Reprs["CarV1HeaderOrV2Pragma > roots (anon) > valueType (anon)"](v);
        if (v === void 0) {
          return void 0;
        }
        if (v !== obj[i]) {
          const ret = obj.slice(0, i);
          for (let j = i; j < obj.length; j++) {
            let v2 = obj[j];
            v2 = Reprs["CarV1HeaderOrV2Pragma > roots (anon) > valueType (anon)"](v2);
            if (v2 === void 0) {
              return void 0;
            }
            ret.push(v2);
          }
          return ret;
        }
      }
      return obj;
    }
  ),
  Int: Kinds.Int,
  CarV1HeaderOrV2Pragma: (
    /**
     * @param obj
     * @returns {undefined|any}
     */
    (obj) => {
      if (Kinds.Map(obj) === void 0) {
        return void 0;
      }
      const entries = Object.entries(obj);
      let ret = obj;
      let requiredCount = 1;
      for (let i = 0; i < entries.length; i++) {
        const [key, value] = entries[i];
        switch (key) {
          case "roots":
            {
              const v = Reprs["CarV1HeaderOrV2Pragma > roots (anon)"](value);
              if (v === void 0) {
                return void 0;
              }
              if (v !== value || ret !== obj) {
                if (ret === obj) {
                  ret = {};
                  for (let j = 0; j < i; j++) {
                    ret[entries[j][0]] = entries[j][1];
                  }
                }
                ret.roots = v;
              }
            }
            break;
          case "version":
            {
              requiredCount--;
              const v = Reprs.Int(value);
              if (v === void 0) {
                return void 0;
              }
              if (v !== value || ret !== obj) {
                if (ret === obj) {
                  ret = {};
                  for (let j = 0; j < i; j++) {
                    ret[entries[j][0]] = entries[j][1];
                  }
                }
                ret.version = v;
              }
            }
            break;
          default:
            return void 0;
        }
      }
      if (requiredCount > 0) {
        return void 0;
      }
      return ret;
    }
  )
};
var CarV1HeaderOrV2Pragma = {
  toTyped: Types.CarV1HeaderOrV2Pragma,
  toRepresentation: Reprs.CarV1HeaderOrV2Pragma
};

// node_modules/@ipld/car/src/decoder.js
async function readHeader(reader, strictVersion) {
  const length3 = decodeVarint2(await reader.upTo(8), reader);
  if (length3 === 0) {
    throw new Error("Invalid CAR header (zero length)");
  }
  const header = await reader.exactly(length3, true);
  const block = decode9(header);
  if (CarV1HeaderOrV2Pragma.toTyped(block) === void 0) {
    throw new Error("Invalid CAR header format");
  }
  if (block.version !== 1 && block.version !== 2 || strictVersion !== void 0 && block.version !== strictVersion) {
    throw new Error(`Invalid CAR version: ${block.version}${strictVersion !== void 0 ? ` (expected ${strictVersion})` : ""}`);
  }
  if (block.version === 1) {
    if (!Array.isArray(block.roots)) {
      throw new Error("Invalid CAR header format");
    }
    return block;
  }
  if (block.roots !== void 0) {
    throw new Error("Invalid CAR header format");
  }
  const v2Header = decodeV2Header(await reader.exactly(V2_HEADER_LENGTH, true));
  reader.seek(v2Header.dataOffset - reader.pos);
  const v1Header = await readHeader(reader, 1);
  return Object.assign(v1Header, v2Header);
}
async function readCid(reader) {
  const first = await reader.exactly(2, false);
  if (first[0] === CIDV0_BYTES.SHA2_256 && first[1] === CIDV0_BYTES.LENGTH) {
    const bytes2 = await reader.exactly(34, true);
    const multihash2 = decode4(bytes2);
    return CID.create(0, CIDV0_BYTES.DAG_PB, multihash2);
  }
  const version2 = decodeVarint2(await reader.upTo(8), reader);
  if (version2 !== 1) {
    throw new Error(`Unexpected CID version (${version2})`);
  }
  const codec = decodeVarint2(await reader.upTo(8), reader);
  const bytes = await reader.exactly(getMultihashLength(await reader.upTo(8)), true);
  const multihash = decode4(bytes);
  return CID.create(version2, codec, multihash);
}
async function readBlockHead(reader) {
  const start = reader.pos;
  let length3 = decodeVarint2(await reader.upTo(8), reader);
  if (length3 === 0) {
    throw new Error("Invalid CAR section (zero length)");
  }
  length3 += reader.pos - start;
  const cid2 = await readCid(reader);
  const blockLength = length3 - Number(reader.pos - start);
  return { cid: cid2, length: length3, blockLength };
}

// src/core/blocks/types.ts
var MAX_BLOCK_BYTES = 4 * 1024 * 1024;

// src/core/blocks/car-source.ts
var CarBlockSource = class _CarBlockSource {
  label;
  path;
  roots;
  file;
  index;
  maxBlockBytes;
  constructor(path2, file, roots, index, maxBlockBytes) {
    this.maxBlockBytes = maxBlockBytes;
    this.path = path2;
    this.label = `CAR ${path2}`;
    this.file = file;
    this.roots = roots;
    this.index = index;
  }
  static async open(path2, options) {
    const file = await open5(path2, "r");
    try {
      const { size } = await file.stat();
      const reader = new FileReader(file, size);
      let header;
      try {
        header = await readHeader(reader);
      } catch (err) {
        throw new InputError(path2, `not a CAR file: ${err?.message ?? err}`, { cause: err });
      }
      const end = header.version === 2 ? header.dataOffset + header.dataSize : size;
      if (end > size) throw new InputError(path2, "CAR file is truncated");
      const index = /* @__PURE__ */ new Map();
      let count = 0;
      while (reader.pos < end) {
        if (++count % 4096 === 0) throwIfAborted(options?.signal);
        const first = await reader.upTo(1);
        if (first[0] === 0) break;
        let head;
        try {
          head = await readBlockHead(reader);
        } catch (err) {
          throw new InputError(path2, `bad block section at byte ${reader.pos}: ${err?.message ?? err}`, { cause: err });
        }
        const offset = reader.pos;
        if (offset + head.blockLength > end) throw new InputError(path2, "CAR file is truncated");
        const key = blockKey(head.cid);
        if (!index.has(key)) index.set(key, { cid: copyCid(head.cid), offset, length: head.blockLength });
        reader.seek(head.blockLength);
      }
      return new _CarBlockSource(path2, file, header.roots.map(copyCid), index, options?.maxBlockBytes ?? MAX_BLOCK_BYTES);
    } catch (err) {
      await file.close();
      throw err;
    }
  }
  get blockCount() {
    return this.index.size;
  }
  has(cid2) {
    return this.index.has(blockKey(cid2));
  }
  /** The CIDs of every block, in file order. */
  *cids() {
    for (const { cid: cid2 } of this.index.values()) yield cid2;
  }
  async get(cid2, options) {
    throwIfAborted(options?.signal);
    const location = this.index.get(blockKey(cid2));
    if (location == null) throw new BlockNotFoundError(`Block ${cid2} not found in ${this.label}`);
    if (location.length > this.maxBlockBytes) throw new InputError(this.path, `block ${cid2} is ${location.length} bytes, more than the ${this.maxBlockBytes} a block may have`);
    const bytes = options?.buffers?.take(location.length) ?? new Uint8Array(location.length);
    let done = 0;
    while (done < bytes.length) {
      const { bytesRead } = await this.file.read(bytes, done, bytes.length - done, location.offset + done);
      if (bytesRead === 0) throw new BlockNotFoundError(`Block ${cid2} is truncated in ${this.label}`);
      done += bytesRead;
    }
    verifyBlock(cid2, bytes);
    return bytes;
  }
  async close() {
    await this.file.close();
  }
};
function copyCid(cid2) {
  return CID.decode(cid2.bytes.slice());
}
var WINDOW2 = 64 * 1024;
var FileReader = class {
  pos = 0;
  buffer = new Uint8Array(0);
  window = new Uint8Array(0);
  windowStart = 0;
  file;
  size;
  constructor(file, size) {
    this.file = file;
    this.size = size;
  }
  async upTo(length3) {
    await this.fill(length3);
    const start = this.pos - this.windowStart;
    return this.window.subarray(start, start + length3);
  }
  async exactly(length3, seek = false) {
    const bytes = await this.upTo(length3);
    if (bytes.length < length3) throw new Error("Unexpected end of data");
    if (seek) this.pos += length3;
    return bytes;
  }
  seek(length3) {
    this.pos += length3;
  }
  async fill(length3) {
    const start = this.pos - this.windowStart;
    if (start >= 0 && start + length3 <= this.window.length) return;
    const want = Math.min(Math.max(length3, WINDOW2), Math.max(0, this.size - this.pos));
    if (this.buffer.length < want) this.buffer = new Uint8Array(Math.max(want, WINDOW2));
    const buffer2 = this.buffer;
    let done = 0;
    while (done < want) {
      const { bytesRead } = await this.file.read(buffer2, done, want - done, this.pos + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    this.window = buffer2.subarray(0, done);
    this.windowStart = this.pos;
  }
};

// src/core/http.ts
var DEFAULT_MAX_REDIRECTS = 3;
var REDIRECTS = /* @__PURE__ */ new Set([301, 302, 303, 307, 308]);
async function httpFetch(url, request) {
  const fetch = request.fetch ?? globalThis.fetch;
  const maxRedirects = request.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  let target = new URL(url);
  let method = request.method ?? "GET";
  let body = request.body;
  for (let redirects = 0; ; redirects++) {
    const response = await fetch(target, {
      method,
      headers: request.headers,
      body,
      signal: request.signal,
      redirect: "manual"
    });
    const next = redirectTarget(request.label, target, response.status, response.headers.get("location"), redirects, maxRedirects, request.anonymous === true);
    if (next == null) return response;
    await response.body?.cancel().catch(() => {
    });
    if (response.status === 303 || (response.status === 301 || response.status === 302) && method === "POST") {
      method = "GET";
      body = void 0;
    }
    target = next;
  }
}
function redirectTarget(label, from3, status, location, redirects, maxRedirects = DEFAULT_MAX_REDIRECTS, anonymous = false) {
  if (!REDIRECTS.has(status) || location == null || location === "") return null;
  let next;
  try {
    next = new URL(location, from3);
  } catch {
    throw new RedirectError(`${label}: answered HTTP ${status} with a redirect that is not a URL; not followed`);
  }
  const followable = anonymous && (next.protocol === "https:" || next.protocol === "http:" && from3.protocol === "http:");
  if (next.origin !== from3.origin && !followable || next.username !== "" || next.password !== "") {
    const where = next.origin === "null" ? next.protocol : next.origin;
    throw new RedirectError(`${label}: answered HTTP ${status} with a redirect to another origin (${where}); ipcr sends no request to another origin (check the URL)`);
  }
  if (redirects >= maxRedirects) {
    throw new RedirectError(`${label}: more than ${maxRedirects} redirects; not followed`);
  }
  return next;
}
async function readBody(response, max, what = "response") {
  const tooLarge = () => new ResponseTooLargeError(`${what} larger than ${max} bytes`);
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (declared > max) {
    await response.body?.cancel().catch(() => {
    });
    throw tooLarge();
  }
  if (response.body == null) return new Uint8Array(0);
  const chunks = [];
  let length3 = 0;
  const reader = response.body.getReader();
  for (; ; ) {
    const { done, value } = await reader.read();
    if (done) break;
    length3 += value.byteLength;
    if (length3 > max) {
      await reader.cancel().catch(() => {
      });
      throw tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  return Buffer.concat(chunks, length3);
}
var MAX_ERROR_BODY = 64 * 1024;
async function readText(response, max = MAX_ERROR_BODY) {
  if (response.body == null) return "";
  const chunks = [];
  let length3 = 0;
  const reader = response.body.getReader();
  try {
    while (length3 < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value.subarray(0, max - length3));
      length3 += Math.min(value.byteLength, max - length3);
    }
  } finally {
    await reader.cancel().catch(() => {
    });
  }
  return Buffer.concat(chunks, length3).toString("utf8");
}

// src/core/retry.ts
function backoffDelay(attempt, baseMs) {
  const cap = baseMs * 2 ** attempt;
  return cap / 2 + Math.random() * (cap / 2);
}
async function sleep(ms, signal) {
  throwIfAborted(signal);
  await new Promise((resolve2) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve2();
    }
  });
  throwIfAborted(signal);
}

// src/core/redact.ts
var MIN_SECRET_PREFIX = 8;
var MIN_SECRET_LENGTH = 4;
var REDACTED = "***";
var forms = /* @__PURE__ */ new Set();
var sorted = [];
function addForm(form) {
  if (form.length < MIN_SECRET_LENGTH || forms.has(form)) return;
  forms.add(form);
  sorted = [...forms].sort((a, b) => b.length - a.length);
}
function addBytes(bytes) {
  const buffer2 = Buffer.from(bytes);
  addForm(buffer2.toString("base64"));
  addForm(buffer2.toString("base64url"));
  const hex = buffer2.toString("hex");
  addForm(hex);
  addForm(hex.toUpperCase());
}
function addSecret(value) {
  if (typeof value !== "string") {
    addBytes(value);
    return;
  }
  const text2 = value.trim();
  if (text2.length < MIN_SECRET_LENGTH) return;
  addForm(text2);
  addForm(encodeURIComponent(text2));
  addForm(JSON.stringify(text2).slice(1, -1));
  addBytes(Buffer.from(text2));
}
function addHeaderSecret(value) {
  addSecret(value);
  const match = /^\s*([A-Za-z][\w-]*)\s+(\S+)\s*$/.exec(value);
  if (match == null) return;
  const token = match[2];
  addSecret(token);
  if (match[1]?.toLowerCase() === "basic") {
    const decoded = Buffer.from(token, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon >= 0) {
      addSecret(decoded);
      addSecret(decoded.slice(colon + 1));
    }
  }
}
function addUserinfoSecret(username, password) {
  const user = safeDecode(username);
  const pass = safeDecode(password);
  if (pass !== "") {
    addSecret(pass);
    addSecret(`${user}:${pass}`);
  } else if (user !== "") {
    addSecret(user);
  }
}
function safeDecode(text2) {
  try {
    return decodeURIComponent(text2);
  } catch {
    return text2;
  }
}
function redact(text2) {
  let out = text2;
  for (const form of sorted) {
    const head = form.slice(0, Math.min(MIN_SECRET_PREFIX, form.length));
    let from3 = 0;
    for (let at = out.indexOf(head, from3); at >= 0; at = out.indexOf(head, from3)) {
      let length3 = head.length;
      while (length3 < form.length && out[at + length3] === form[length3]) length3++;
      out = `${out.slice(0, at)}${REDACTED}${out.slice(at + length3)}`;
      from3 = at + REDACTED.length;
    }
  }
  return out;
}
var MAX_REMOTE_MESSAGE = 300;
function remoteMessage(text2, max = MAX_REMOTE_MESSAGE) {
  return redact(cutText(foldLine(redact(text2)), max));
}

// src/core/url.ts
function redactUrl(text2) {
  return text2.replace(/\/\/[^/@\s]*@/g, "//");
}
function multiaddrToUrl(value) {
  const parts = value.trim().replace(/\/+$/, "").split("/");
  if (parts[0] !== "" || parts.length < 5 || parts[3] !== "tcp") return void 0;
  const [, protocol, host = "", , port = ""] = parts;
  const rest = parts.slice(5).join("/");
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535 || host === "") return void 0;
  let hostname;
  if (protocol === "ip4" && /^\d{1,3}(\.\d{1,3}){3}$/.test(host)) hostname = host;
  else if (protocol === "ip6" && /^[0-9A-Fa-f:.]+$/.test(host) && host.includes(":")) hostname = `[${host}]`;
  else if ((protocol === "dns" || protocol === "dns4" || protocol === "dns6") && /^[A-Za-z0-9.-]+$/.test(host)) hostname = host;
  else return void 0;
  const scheme = rest === "" || rest === "http" ? "http" : rest === "https" || rest === "tls/http" ? "https" : void 0;
  if (scheme == null) return void 0;
  return `${scheme}://${hostname}:${port}`;
}
function parseServiceUrl(value, input) {
  let url;
  const text2 = value.trim();
  const fromMultiaddr = text2.startsWith("/") ? multiaddrToUrl(text2) : void 0;
  if (text2.startsWith("/") && fromMultiaddr == null) {
    throw new InputError(input, `'${redactUrl(value)}' is not a URL nor a multiaddr ipcr can reach (expected e.g. http://127.0.0.1:5001, /ip4/127.0.0.1/tcp/5001 or /dns4/host.example/tcp/443/https)`);
  }
  try {
    url = new URL(fromMultiaddr ?? text2);
  } catch {
    throw new InputError(input, `'${redactUrl(value)}' is not a URL (expected e.g. http://127.0.0.1:5001, /ip4/127.0.0.1/tcp/5001 or https://host.example)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InputError(input, `'${redactUrl(value)}' must be an http:// or https:// URL`);
  }
  let authorization;
  if (url.username !== "" || url.password !== "") {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    authorization = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
    addUserinfoSecret(url.username, url.password);
    addHeaderSecret(authorization);
    url.username = "";
    url.password = "";
  }
  url.hash = "";
  return { url, label: `${url.origin}${url.pathname.replace(/\/+$/, "")}`, authorization };
}

// src/core/blocks/gateway.ts
var GatewayBlockSource = class {
  label;
  gateways;
  fetch;
  timeoutMs;
  deadlineMs;
  retries;
  retryDelayMs;
  maxBlockBytes;
  maxConsecutiveFailures;
  logger;
  constructor(urls, options = {}) {
    if (urls.length === 0) throw new InputError("gateways", "at least one gateway URL is required");
    this.gateways = urls.map((url) => ({ ...parseServiceUrl(url, "gateways"), failures: 0, down: false }));
    this.label = `gateways ${this.gateways.map((g) => g.label).join(", ")}`;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.timeoutMs = options.timeoutMs ?? 3e4;
    this.deadlineMs = options.deadlineMs ?? 6e4;
    this.retries = options.retries ?? 2;
    this.retryDelayMs = options.retryDelayMs ?? 250;
    this.maxBlockBytes = options.maxBlockBytes ?? MAX_BLOCK_BYTES;
    this.maxConsecutiveFailures = options.maxConsecutiveFailures ?? 4;
    this.logger = options.logger ?? silentLogger;
  }
  async get(cid2, options) {
    const failures = [];
    const deadline = AbortSignal.timeout(this.deadlineMs);
    const signal = options?.signal == null ? deadline : AbortSignal.any([options.signal, deadline]);
    for (const gateway of this.gateways) {
      if (gateway.down) {
        failures.push(`${gateway.label} (not asked: ${gateway.failures} timeouts or network errors in a row)`);
        continue;
      }
      let result;
      try {
        result = await this.getFrom(gateway, cid2, signal, options?.signal);
      } catch (err) {
        if (deadline.aborted && options?.signal?.aborted !== true) {
          failures.push(`${gateway.label} (no block before the deadline)`);
          throw new BlockNotFoundError(`Block ${cid2} not fetched within ${this.deadlineMs / 1e3} s (the deadline per block) from gateways: ${failures.join(", ")}`, { cause: err });
        }
        throw err;
      }
      if (result instanceof Uint8Array) return result;
      failures.push(`${gateway.label} (${result})`);
      this.logger.debug(`block ${cid2} not fetched from ${gateway.label}: ${result}`);
    }
    throw new BlockNotFoundError(`Block ${cid2} not found on gateways: ${failures.join(", ")}`);
  }
  /** The verified block, or why this gateway failed. Throws only when `signal` aborts (the caller's or the deadline). */
  async getFrom(gateway, cid2, signal, callerSignal) {
    const url = new URL(gateway.url);
    url.pathname = `${url.pathname.replace(/\/+$/, "")}/ipfs/${cid2.toString()}`;
    url.searchParams.set("format", "raw");
    const headers = { accept: "application/vnd.ipld.raw" };
    if (gateway.authorization != null) headers.authorization = gateway.authorization;
    let reason = "";
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (gateway.down) return reason;
      if (attempt > 0) await sleep(backoffDelay(attempt - 1, this.retryDelayMs), signal);
      throwIfAborted(signal);
      const timeout = AbortSignal.timeout(this.timeoutMs);
      const requestSignal = AbortSignal.any([signal, timeout]);
      let retryable = false;
      try {
        const response = await httpFetch(url, { label: gateway.label, headers, signal: requestSignal, fetch: this.fetch, anonymous: gateway.authorization == null });
        gateway.failures = 0;
        if (response.ok) {
          const bytes = await readBody(response, this.maxBlockBytes, "block");
          verifyBlock(cid2, bytes);
          return bytes;
        }
        await response.body?.cancel().catch(() => {
        });
        reason = `HTTP ${response.status}`;
        retryable = response.status >= 500 || response.status === 429;
      } catch (err) {
        if (err instanceof DigestMismatchError) return "digest mismatch";
        if (err?.code === "ERR_UNSUPPORTED_HASH") throw err;
        if (err instanceof ResponseTooLargeError) return err.message;
        if (err instanceof RedirectError) return err.message.slice(gateway.label.length + 2);
        if (callerSignal?.aborted !== true) this.failed(gateway);
        throwIfAborted(signal);
        reason = timeout.aborted ? `timeout after ${this.timeoutMs} ms` : `network error: ${err?.cause?.code ?? err?.cause?.message ?? err?.message ?? err}`;
        retryable = true;
      }
      if (!retryable) break;
      if (attempt < this.retries) this.logger.debug(`${gateway.label}: ${reason} for ${cid2}, retrying`);
    }
    return reason;
  }
  failed(gateway) {
    gateway.failures++;
    if (!gateway.down && gateway.failures >= this.maxConsecutiveFailures) {
      gateway.down = true;
      this.logger.warn(`${gateway.label}: ${gateway.failures} timeouts or network errors in a row; not asking this gateway again in this run`);
    }
  }
};

// src/core/sources.ts
function validateGatewayUrl(value, input = "gateways") {
  parseServiceUrl(value, input);
  return value.trim().replace(/\/+$/, "");
}
async function openSources(config, logger, options = {}) {
  const sources = [];
  for (const path2 of config.cars) {
    try {
      sources.push(await CarBlockSource.open(path2, options));
    } catch (err) {
      await closeSources(sources);
      throwIfAborted(options.signal);
      throw new InputError(config.carsInput ?? "previous-car", `cannot read '${path2}' as a CAR file: ${err.message}`, { cause: err });
    }
  }
  if (config.gateways.length > 0) {
    sources.push(new GatewayBlockSource(config.gateways.map((g) => validateGatewayUrl(g)), { logger }));
  }
  return sources;
}
function resolvePreviousRoot(previousRoot, sources, names = {}) {
  const carInput = names.car ?? "previous-car";
  const rootInput = names.root ?? "previous-root";
  if (previousRoot != null) return previousRoot;
  const cars = sources.filter((s) => s instanceof CarBlockSource);
  if (cars.length === 0) return null;
  if (cars.length > 1) {
    throw new InputError(rootInput, `${cars.length} ${carInput} files are given (${cars.map((c) => `'${c.path}'`).join(", ")}) and no ${rootInput}: set ${rootInput} to say which root to update`);
  }
  const car = cars[0];
  if (car.roots.length !== 1) {
    throw new InputError(carInput, `'${car.path}' has ${car.roots.length === 0 ? "no root" : `${car.roots.length} roots (${car.roots.join(", ")})`} in its header; expected exactly one, the registry root to update (or set ${rootInput})`);
  }
  return car.roots[0];
}
async function closeSources(sources) {
  await Promise.all(sources.map(async (source) => {
    await source.close?.();
  }));
}

// src/core/sample.ts
var import_tar_stream = __toESM(require_tar_stream(), 1);
import { createCipheriv, createHash as createHash4 } from "node:crypto";
import { createWriteStream as createWriteStream2 } from "node:fs";
import { mkdir, rename as rename2, writeFile } from "node:fs/promises";
import { join as join4 } from "node:path";
import { PassThrough, Transform as Transform3 } from "node:stream";
import { pipeline as pipeline3 } from "node:stream/promises";
import { createGzip } from "node:zlib";
function randomStream(seed, size) {
  const key = createHash4("sha256").update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv("aes-128-ctr", key, Buffer.alloc(16));
  const out = new PassThrough();
  const zeros = Buffer.alloc(1 << 20);
  let left = size;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, zeros.length);
      left -= n;
      if (!out.write(cipher.update(zeros.subarray(0, n)))) {
        out.once("drain", pump);
        return;
      }
    }
    out.end();
  };
  process.nextTick(pump);
  return out;
}
function hashing(onDone) {
  const hash = createHash4("sha256");
  let size = 0;
  return new Transform3({
    transform(chunk, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
    flush(cb) {
      onDone(`sha256:${hash.digest("hex")}`, size);
      cb();
    }
  });
}
async function writeBlob(blobs, bytes) {
  const digest2 = sha256Digest(bytes);
  await writeFile(join4(blobs, digest2.slice("sha256:".length)), bytes);
  return { digest: digest2, size: bytes.length };
}
async function writeSampleImage(dir, options) {
  const blobs = join4(dir, "blobs", "sha256");
  await mkdir(blobs, { recursive: true });
  const seed = options.seed ?? "ipcr";
  const gzip = options.gzip ?? true;
  const layers = [];
  let bytes = 0;
  for (const [index2, files] of options.layers.entries()) {
    const tmp = join4(blobs, `.layer-${index2}.tmp`);
    const tar = (0, import_tar_stream.pack)();
    let diffId = "";
    let digest2 = "";
    let size = 0;
    const written = (async () => {
      const stages = [hashing((d) => {
        diffId = d;
      })];
      if (gzip) stages.push(createGzip({ level: 1 }));
      await pipeline3(tar, ...stages, hashing((d, s) => {
        digest2 = d;
        size = s;
      }), createWriteStream2(tmp));
    })();
    for (const file of files) {
      const mtime = /* @__PURE__ */ new Date(0);
      const mode = file.mode ?? 420;
      if (file.text != null || file.bytes != null) {
        tar.entry({ name: file.path, mtime, mode }, file.text ?? Buffer.from(file.bytes));
        continue;
      }
      const fileSize = file.size ?? 0;
      await new Promise((resolve2, reject) => {
        const entry = tar.entry({ name: file.path, size: fileSize, mtime, mode }, (err) => err != null ? reject(err) : resolve2());
        randomStream(`${seed}/${index2}/${file.path}`, fileSize).pipe(entry);
      });
    }
    tar.finalize();
    await written;
    await rename2(tmp, join4(blobs, digest2.slice("sha256:".length)));
    layers.push({ digest: digest2, size, diffId });
    bytes += size;
  }
  const config = {
    architecture: "amd64",
    os: "linux",
    config: { Labels: options.labels ?? {}, ...options.cmd != null ? { Cmd: options.cmd } : {} },
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
    history: layers.map(() => ({ created_by: "ipcr sample image", created: "1970-01-01T00:00:00Z" }))
  };
  const configBlob = await writeBlob(blobs, Buffer.from(JSON.stringify(config)));
  const layerType = gzip ? "application/vnd.oci.image.layer.v1.tar+gzip" : "application/vnd.oci.image.layer.v1.tar";
  const manifest = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...configBlob },
    layers: layers.map((l) => ({ mediaType: layerType, digest: l.digest, size: l.size }))
  };
  const manifestBlob = await writeBlob(blobs, Buffer.from(JSON.stringify(manifest)));
  const index = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [{
      mediaType: manifest.mediaType,
      ...manifestBlob,
      platform: { architecture: "amd64", os: "linux" },
      annotations: { "org.opencontainers.image.ref.name": options.tag ?? "latest" }
    }]
  };
  await writeFile(join4(dir, "index.json"), JSON.stringify(index));
  await writeFile(join4(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  return { dir, manifestDigest: manifestBlob.digest, configDigest: configBlob.digest, bytes: bytes + configBlob.size + manifestBlob.size };
}
function helloProgram(message2) {
  const text2 = Buffer.from(message2);
  const base3 = 4194304;
  const headers = 64 + 56;
  const code5 = Buffer.from([
    184,
    1,
    0,
    0,
    0,
    // mov eax, 1 (write)
    191,
    1,
    0,
    0,
    0,
    // mov edi, 1 (stdout)
    72,
    141,
    53,
    16,
    0,
    0,
    0,
    // lea rsi, [rip + 16] (the message, right after the code)
    186,
    0,
    0,
    0,
    0,
    // mov edx, length
    15,
    5,
    // syscall
    184,
    60,
    0,
    0,
    0,
    // mov eax, 60 (exit)
    49,
    255,
    // xor edi, edi
    15,
    5
    // syscall
  ]);
  code5.writeUInt32LE(text2.length, 18);
  const size = headers + code5.length + text2.length;
  const elf = Buffer.alloc(size);
  elf.set([127, 69, 76, 70, 2, 1, 1, 0]);
  elf.writeUInt16LE(2, 16);
  elf.writeUInt16LE(62, 18);
  elf.writeUInt32LE(1, 20);
  elf.writeBigUInt64LE(BigInt(base3 + headers), 24);
  elf.writeBigUInt64LE(64n, 32);
  elf.writeUInt16LE(64, 52);
  elf.writeUInt16LE(56, 54);
  elf.writeUInt16LE(1, 56);
  elf.writeUInt16LE(64, 58);
  elf.writeUInt32LE(1, 64);
  elf.writeUInt32LE(5, 68);
  elf.writeBigUInt64LE(0n, 72);
  elf.writeBigUInt64LE(BigInt(base3), 80);
  elf.writeBigUInt64LE(BigInt(base3), 88);
  elf.writeBigUInt64LE(BigInt(size), 96);
  elf.writeBigUInt64LE(BigInt(size), 104);
  elf.writeBigUInt64LE(0x1000n, 112);
  code5.copy(elf, headers);
  text2.copy(elf, headers + code5.length);
  return elf;
}
var DEMO_GREETING = "Hello from the InterPlanetary Container Registry.\n";
var demoImage = {
  labels: { "org.opencontainers.image.description": "ipcr demo image, built in-process without Docker" },
  cmd: ["/hello"],
  layers: [
    [
      { path: "hello", bytes: helloProgram(DEMO_GREETING), mode: 493 },
      { path: "etc/ipcr-release", text: "ipcr demo image\n" },
      { path: "hello.txt", text: DEMO_GREETING }
    ],
    [{ path: "data/random.bin", size: 3 * 1024 * 1024 + 17 }]
  ]
};

// src/core/commands.ts
function pullCommand(result) {
  const tag = result.tags[0]?.tag ?? "latest";
  const dir = `${result.name.replace(/\//g, "_")}_${tag}`;
  const path2 = ipfsPath(result.rootCid, registryPaths.tag(result.name, tag));
  return `ipfs get -o ${dir} ${path2} && tar -C ${dir} -cf - . | docker load`;
}
function isStored(result) {
  return (result.destinations ?? []).length > 0;
}
function shellWord(text2) {
  return /^[\w@%+=:,./-]+$/.test(text2) ? text2 : `'${text2.replace(/'/g, "'\\''")}'`;
}
function pullCommandFor(result) {
  const pull = pullCommand(result);
  return isStored(result) || result.car.path == null ? pull : `ipfs dag import ${shellWord(result.car.path)} && ${pull}`;
}

// src/core/store.ts
import { mkdir as mkdir3, readFile as readFile2, rename as rename4, writeFile as writeFile3 } from "node:fs/promises";
import { join as join6 } from "node:path";

// src/core/blocks/fs-store.ts
import { randomBytes as randomBytes2 } from "node:crypto";
import { access, mkdir as mkdir2, readFile, rename as rename3, writeFile as writeFile2 } from "node:fs/promises";
import { join as join5 } from "node:path";
var FsBlockStore = class {
  dir;
  label;
  madeDirs = /* @__PURE__ */ new Set();
  constructor(dir) {
    this.dir = dir;
    this.label = `local store ${dir}`;
  }
  /** The file that holds `cid`. */
  pathOf(cid2) {
    const name4 = cid2.toV1().toString();
    return join5(this.dir, name4.slice(-3, -1), name4);
  }
  async put(cid2, bytes, options) {
    throwIfAborted(options?.signal);
    const file = this.pathOf(cid2);
    if (await exists2(file)) {
      options?.onWritten?.();
      return;
    }
    const shard = join5(file, "..");
    if (!this.madeDirs.has(shard)) {
      await mkdir2(shard, { recursive: true });
      this.madeDirs.add(shard);
    }
    const temp = `${file}.${randomBytes2(6).toString("hex")}.tmp`;
    registerTemporary(temp);
    try {
      await writeFile2(temp, bytes, { signal: options?.signal });
      await rename3(temp, file);
      releaseTemporary(temp);
      options?.onWritten?.();
    } catch (err) {
      await removeTemporary(temp);
      throw err;
    }
  }
  async get(cid2, options) {
    throwIfAborted(options?.signal);
    let bytes;
    try {
      bytes = await readFile(this.pathOf(cid2), { signal: options?.signal });
    } catch (err) {
      if (err?.code === "ENOENT") throw new BlockNotFoundError(`Block ${cid2} not found in ${this.label}`);
      throw err;
    }
    verifyBlock(cid2, bytes);
    return bytes;
  }
  async has(cid2) {
    return exists2(this.pathOf(cid2));
  }
};
async function exists2(path2) {
  try {
    await access(path2);
    return true;
  } catch {
    return false;
  }
}

// src/core/store.ts
var LocalStore = class {
  constructor(dir) {
    this.dir = dir;
    this.blocks = new FsBlockStore(join6(dir, "blocks"));
  }
  dir;
  blocks;
  async readRoot() {
    try {
      const text2 = await readFile2(join6(this.dir, "root"), "utf8");
      return text2.trim() === "" ? null : parseCid(text2, "store");
    } catch (err) {
      if (err.code === "ENOENT") return null;
      throw err;
    }
  }
  async writeRoot(root) {
    await mkdir3(this.dir, { recursive: true });
    const tmp = join6(this.dir, "root.tmp");
    registerTemporary(tmp);
    try {
      await writeFile3(tmp, `${root.toString()}
`);
      await rename4(tmp, join6(this.dir, "root"));
      releaseTemporary(tmp);
    } finally {
      await removeTemporary(tmp);
    }
  }
};

// src/core/pipeline.ts
import { mkdtemp as mkdtemp3 } from "node:fs/promises";
import { join as join7 } from "node:path";
async function runPipeline(options) {
  const logger = options.logger ?? silentLogger;
  const { signal } = options;
  const destinations = options.destinations ?? [];
  const names = options.names ?? [];
  if (destinations.length + names.length > 0) {
    await logger.group("Check destinations", async () => {
      for (const d of destinations) await d.preflight({ signal, logger });
      for (const n of names) await n.preflight({ signal, logger });
    });
  }
  const explicit = options.sources ?? [];
  let previousRoot = options.previousRoot ?? null;
  if (previousRoot == null && explicit.length === 0) {
    for (const d of destinations) {
      previousRoot = await d.previousRoot?.({ signal, logger }) ?? null;
      if (previousRoot != null) break;
    }
  }
  const sources = [...explicit, ...destinations.flatMap((d) => d.sources?.() ?? [])];
  const temporary2 = options.carPath == null && destinations.some((d) => d.needsCar === true) ? await mkdtemp3(join7(options.tempDir, "ipcr-car-")) : void 0;
  if (temporary2 != null) registerTemporary(temporary2);
  try {
    const carPath = options.carPath ?? (temporary2 != null ? join7(temporary2, "registry.car") : void 0);
    const result = await publish({ ...options, ...carPath != null ? { carPath } : {}, previousRoot, sources });
    const context = { result, root: CID.parse(result.rootCid), previousRoot, signal, logger, ...carPath != null ? { carPath } : {} };
    const stored = [];
    for (const d of destinations) {
      stored.push(await logger.group(`Store in ${d.label}`, async () => await d.store(context)));
    }
    for (const d of destinations) await d.point?.(context);
    const published = [];
    for (const n of names) {
      published.push(await logger.group(`Publish ${n.label}`, async () => await n.publish(context)));
    }
    for (const d of destinations) await d.cleanup?.(context);
    if (temporary2 != null) {
      await removeTemporary(temporary2);
      logger.info("Removed the temporary CAR once stored (no CAR path was given, so none is kept)");
      const { path: _, ...car } = result.car;
      return { ...result, car, destinations: stored, names: published };
    }
    return { ...result, destinations: stored, names: published };
  } finally {
    if (temporary2 != null) await removeTemporary(temporary2);
  }
}

// src/core/kubo/rpc.ts
var KuboError = class extends IpcrError {
  status;
  constructor(message2, status, options) {
    super("ERR_KUBO", message2, options);
    this.status = status;
  }
};
var KuboStatusError = class extends Error {
  constructor(message2, status, fromKubo) {
    super(message2);
    this.status = status;
    this.fromKubo = fromKubo;
    this.name = "KuboStatusError";
  }
  status;
  fromKubo;
};
var MAX_RPC_JSON = 16 * 1024 * 1024;
var KuboRpc = class {
  constructor(config, logger = silentLogger) {
    this.config = config;
    this.logger = logger;
    this.label = `Kubo RPC ${config.label}`;
  }
  config;
  logger;
  label;
  /** The URL of a command, e.g. `key/import`, with its query. */
  commandUrl(command, args = [], params = {}) {
    const url = new URL(`${this.config.url.href.replace(/\/+$/, "")}/api/v0/${command}`);
    for (const arg of args) url.searchParams.append("arg", arg);
    for (const [name4, value] of Object.entries(params)) if (value !== void 0) url.searchParams.set(name4, String(value));
    return url;
  }
  /** POSTs one command; a non-2xx answer throws KuboStatusError. The caller reads the body. */
  async post(command, request) {
    const response = await httpFetch(this.commandUrl(command, request.args, request.params), {
      label: this.label,
      method: "POST",
      headers: this.config.headers,
      ...request.body != null ? { body: request.body } : {},
      signal: request.signal
    });
    if (response.ok) return response;
    const contentType = response.headers.get("content-type") ?? "";
    const text2 = await readText(response);
    let message2 = text2;
    if (contentType.startsWith("application/json")) {
      try {
        const parsed = JSON.parse(text2);
        message2 = String(parsed?.Message ?? parsed?.message ?? text2);
      } catch {
      }
    }
    throw new KuboStatusError(remoteMessage(message2 !== "" ? message2 : response.statusText), response.status, contentType.startsWith("application/json"));
  }
  /** One command whose answer is a JSON object (or nothing), with retries; `description` names it in errors (default: command and args). */
  async json(command, request = {}, options = {}) {
    const description = options.description ?? [command, ...request.args ?? []].join(" ");
    return await this.call(description, async (signal) => {
      const response = await this.post(command, { ...request, signal });
      const bytes = await readBody(response, MAX_RPC_JSON, `the answer to ${command}`);
      const text2 = new TextDecoder().decode(bytes).trim();
      return text2 === "" ? void 0 : JSON.parse(text2);
    }, options);
  }
  /**
   * Runs `fn` with retries. Every call is bounded: at most retries + 1 attempts of
   * timeoutMs each, plus backoff (defaults: 4 × 120 s); `deadlineMs` bounds it tighter
   * (block reads: 60 s per block).
   */
  async call(command, fn, options = {}) {
    const timeoutMs = options.timeoutMs ?? this.config.timeoutMs;
    const deadline = options.deadlineMs != null ? AbortSignal.timeout(options.deadlineMs) : void 0;
    const outer = [options.signal, deadline].filter((s) => s != null);
    const overall = outer.length === 0 ? void 0 : AbortSignal.any(outer);
    for (let attempt = 0; ; attempt++) {
      const fail = (reason, status, cause) => new KuboError(redact(redactUrl(`${this.label}: ${command} failed: ${reason}`)), status, { cause });
      try {
        throwIfAborted(overall);
        const timeout = AbortSignal.timeout(timeoutMs);
        const signal = overall == null ? timeout : AbortSignal.any([overall, timeout]);
        try {
          return await fn(signal);
        } catch (err) {
          throwIfAborted(overall);
          const failure = describe(err, timeout.aborted, timeoutMs, this.label);
          if (!failure.retryable || attempt >= this.config.retries) throw fail(failure.reason, failure.status, err);
          this.logger.warn(`${fail(failure.reason).message}; retrying (${attempt + 1} of ${this.config.retries})`);
        }
        await sleep(backoffDelay(attempt, this.config.retryDelayMs), overall);
      } catch (err) {
        if (deadline?.aborted === true && options.signal?.aborted !== true) {
          throw fail(`no answer within the overall deadline of ${duration(options.deadlineMs)}`, void 0, err);
        }
        throw err;
      }
    }
  }
};
function duration(ms) {
  return ms < 1e4 ? `${ms} ms` : `${Math.round(ms / 1e3)} s`;
}
function describe(err, timedOut, timeoutMs, label) {
  if (timedOut || err?.name === "TimeoutError") {
    return { reason: `no answer within ${duration(timeoutMs)}`, retryable: true };
  }
  if (err instanceof RedirectError || err instanceof ResponseTooLargeError) {
    const message2 = err.message.startsWith(`${label}: `) ? err.message.slice(label.length + 2) : err.message;
    return { reason: message2, retryable: false };
  }
  if (err instanceof KuboStatusError) {
    const status = err.status;
    if (status === 401 || status === 403) {
      return { reason: `HTTP ${status}: the endpoint refused the credentials (check kubo-rpc-headers)`, retryable: false, status };
    }
    if (status === 404) {
      return { reason: `HTTP 404${err.message !== "" ? ` (${err.message})` : ""}: this URL does not serve the Kubo RPC API; it looks like a gateway or another web server (the RPC API listens on port 5001 by default, see Addresses.API in the node's config)`, retryable: false, status };
    }
    const detail = err.message !== "" ? `: ${err.message}` : "";
    return { reason: `HTTP ${status}${detail}`, retryable: status === 429 || status >= 500 && !err.fromKubo, status };
  }
  if (err?.name === "TypeError" && err.message === "fetch failed") {
    const cause = err.cause;
    return { reason: `endpoint unreachable (${remoteMessage(String(cause?.code ?? cause?.message ?? "network error"), 100)})`, retryable: true };
  }
  return { reason: remoteMessage(String(err?.message ?? err)), retryable: false };
}

// src/core/kubo/block-source.ts
var KuboBlockSource = class {
  constructor(rpc, options = {}) {
    this.rpc = rpc;
    this.options = options;
    this.label = rpc.label;
  }
  rpc;
  options;
  label;
  async get(cid2, options = {}) {
    const max = this.options.maxBlockBytes ?? MAX_BLOCK_BYTES;
    let bytes;
    try {
      const params = this.options.offline === true ? { offline: true } : {};
      bytes = await this.rpc.call(`block/get ${cid2}`, async (signal) => {
        const response = await this.rpc.post("block/get", { args: [cid2.toString()], params, signal });
        return await readBody(response, max, `block ${cid2}`);
      }, {
        ...options,
        timeoutMs: this.options.timeoutMs ?? Math.min(3e4, this.rpc.config.timeoutMs),
        deadlineMs: this.options.deadlineMs ?? 6e4
      });
    } catch (err) {
      if (err instanceof KuboError && err.status != null && err.status !== 404 && err.status < 600) {
        throw new BlockNotFoundError(`${this.label} does not have block ${cid2}: ${err.message}`, { cause: err });
      }
      throw err;
    }
    verifyBlock(cid2, bytes);
    return bytes;
  }
};

// src/core/kubo/config.ts
var HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
function parseHeaderLines(text2, input = "kubo-rpc-headers") {
  const headers = {};
  for (const [index, raw] of text2.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === "") continue;
    const colon = line.indexOf(":");
    const name4 = colon > 0 ? line.slice(0, colon).trim() : "";
    if (!HEADER_NAME.test(name4)) {
      throw new InputError(input, `line ${index + 1} is not a header (expected 'Name: value', e.g. 'Authorization: Bearer \u2026')`);
    }
    headers[name4] = line.slice(colon + 1).trim();
    addHeaderSecret(headers[name4]);
  }
  return headers;
}
function kuboConfig(options, input = "kubo-rpc-url") {
  const service = parseServiceUrl(options.url, input);
  const headers = { ...options.headers ?? {} };
  for (const value of Object.values(headers)) addHeaderSecret(value);
  if (service.authorization != null && !Object.keys(headers).some((h) => h.toLowerCase() === "authorization")) {
    headers.Authorization = service.authorization;
    addHeaderSecret(service.authorization);
  }
  const timeoutMs = options.timeoutMs ?? 12e4;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new InputError("kubo-timeout", "expected a positive number of seconds");
  return { url: service.url, label: service.label, headers, timeoutMs, retries: options.retries ?? 3, retryDelayMs: options.retryDelayMs ?? 500 };
}

// node_modules/@libp2p/interface/dist/src/errors.js
var InvalidParametersError = class extends Error {
  static name = "InvalidParametersError";
  constructor(message2 = "Invalid parameters") {
    super(message2);
    this.name = "InvalidParametersError";
  }
};
var InvalidPublicKeyError = class extends Error {
  static name = "InvalidPublicKeyError";
  constructor(message2 = "Invalid public key") {
    super(message2);
    this.name = "InvalidPublicKeyError";
  }
};
var InvalidPrivateKeyError = class extends Error {
  static name = "InvalidPrivateKeyError";
  constructor(message2 = "Invalid private key") {
    super(message2);
    this.name = "InvalidPrivateKeyError";
  }
};
var InvalidCIDError = class extends Error {
  static name = "InvalidCIDError";
  constructor(message2 = "Invalid CID") {
    super(message2);
    this.name = "InvalidCIDError";
  }
};
var InvalidMultihashError = class extends Error {
  static name = "InvalidMultihashError";
  constructor(message2 = "Invalid Multihash") {
    super(message2);
    this.name = "InvalidMultihashError";
  }
};
var UnsupportedKeyTypeError = class extends Error {
  static name = "UnsupportedKeyTypeError";
  constructor(message2 = "Unsupported key type") {
    super(message2);
    this.name = "UnsupportedKeyTypeError";
  }
};

// node_modules/@libp2p/interface/dist/src/peer-id.js
var peerIdSymbol = /* @__PURE__ */ Symbol.for("@libp2p/peer-id");

// node_modules/@libp2p/crypto/dist/src/keys/ecdsa/index.js
async function hashAndSign(key, msg, options) {
  const privateKey = await crypto.subtle.importKey("jwk", key, {
    name: "ECDSA",
    namedCurve: key.crv ?? "P-256"
  }, false, ["sign"]);
  options?.signal?.throwIfAborted();
  const signature = await crypto.subtle.sign({
    name: "ECDSA",
    hash: {
      name: "SHA-256"
    }
  }, privateKey, withArrayBuffer(msg.subarray()));
  options?.signal?.throwIfAborted();
  return new Uint8Array(signature, 0, signature.byteLength);
}
async function hashAndVerify(key, sig, msg, options) {
  const publicKey = await crypto.subtle.importKey("jwk", key, {
    name: "ECDSA",
    namedCurve: key.crv ?? "P-256"
  }, false, ["verify"]);
  options?.signal?.throwIfAborted();
  const result = await crypto.subtle.verify({
    name: "ECDSA",
    hash: {
      name: "SHA-256"
    }
  }, publicKey, withArrayBuffer(sig), withArrayBuffer(msg.subarray()));
  options?.signal?.throwIfAborted();
  return result;
}

// node_modules/uint8arrays/dist/src/to-string.node.js
import { Buffer as Buffer5 } from "node:buffer";
function toString2(array2, encoding = "utf8") {
  const base3 = bases_default[encoding];
  if (base3 == null) {
    throw new Error(`Unsupported encoding "${encoding}"`);
  }
  if (encoding === "utf8" || encoding === "utf-8") {
    return Buffer5.from(array2.buffer, array2.byteOffset, array2.byteLength).toString("utf8");
  }
  return base3.encoder.encode(array2).substring(1);
}

// node_modules/@libp2p/crypto/dist/src/keys/rsa/der.js
var TAG_MASK = parseInt("11111", 2);
var LONG_LENGTH_MASK = parseInt("10000000", 2);
var LONG_LENGTH_BYTES_MASK = parseInt("01111111", 2);
var decoders = {
  0: readSequence,
  1: readSequence,
  2: readInteger,
  3: readBitString,
  4: readOctetString,
  5: readNull,
  6: readObjectIdentifier,
  16: readSequence,
  22: readSequence,
  48: readSequence
};
function decodeDer(buf, context = { offset: 0 }) {
  const tag = buf[context.offset] & TAG_MASK;
  context.offset++;
  if (decoders[tag] != null) {
    return decoders[tag](buf, context);
  }
  throw new Error("No decoder for tag " + tag);
}
function readLength(buf, context) {
  let length3 = 0;
  if ((buf[context.offset] & LONG_LENGTH_MASK) === LONG_LENGTH_MASK) {
    const count = buf[context.offset] & LONG_LENGTH_BYTES_MASK;
    let str2 = "0x";
    context.offset++;
    for (let i = 0; i < count; i++, context.offset++) {
      if (context.offset >= buf.byteLength) {
        throw new Error("invalid DER element length");
      }
      str2 += buf[context.offset].toString(16).padStart(2, "0");
    }
    length3 = parseInt(str2, 16);
  } else {
    length3 = buf[context.offset];
    context.offset++;
  }
  if (!Number.isInteger(length3) || length3 < 0 || length3 > buf.byteLength - context.offset) {
    throw new Error("invalid DER element length");
  }
  return length3;
}
function readSequence(buf, context) {
  readLength(buf, context);
  const entries = [];
  while (true) {
    if (context.offset >= buf.byteLength) {
      break;
    }
    const result = decodeDer(buf, context);
    if (result === null) {
      break;
    }
    entries.push(result);
  }
  return entries;
}
function readInteger(buf, context) {
  const length3 = readLength(buf, context);
  const start = context.offset;
  const end = context.offset + length3;
  const vals = [];
  for (let i = start; i < end; i++) {
    if (i === start && buf[i] === 0) {
      continue;
    }
    vals.push(buf[i]);
  }
  context.offset += length3;
  return Uint8Array.from(vals);
}
function readObjectIdentifier(buf, context) {
  const count = readLength(buf, context);
  const finalOffset = context.offset + count;
  const byte = buf[context.offset];
  context.offset++;
  let val1 = 0;
  let val2 = 0;
  if (byte < 40) {
    val1 = 0;
    val2 = byte;
  } else if (byte < 80) {
    val1 = 1;
    val2 = byte - 40;
  } else {
    val1 = 2;
    val2 = byte - 80;
  }
  let oid = `${val1}.${val2}`;
  let num = [];
  while (context.offset < finalOffset) {
    const byte2 = buf[context.offset];
    context.offset++;
    num.push(byte2 & 127);
    if (byte2 < 128) {
      num.reverse();
      let val = 0;
      for (let i = 0; i < num.length; i++) {
        val += num[i] << i * 7;
      }
      oid += `.${val}`;
      num = [];
    }
  }
  return oid;
}
function readNull(buf, context) {
  context.offset++;
  return null;
}
function readBitString(buf, context) {
  const length3 = readLength(buf, context);
  const unusedBits = buf[context.offset];
  context.offset++;
  const bytes = buf.subarray(context.offset, context.offset + length3 - 1);
  context.offset += length3;
  if (unusedBits !== 0) {
    throw new Error("Unused bits in bit string is unimplemented");
  }
  return bytes;
}
function readOctetString(buf, context) {
  const length3 = readLength(buf, context);
  const bytes = buf.subarray(context.offset, context.offset + length3);
  context.offset += length3;
  return bytes;
}
function encodeNumber(value) {
  let number = value.toString(16);
  if (number.length % 2 === 1) {
    number = "0" + number;
  }
  const array2 = new Uint8ArrayList();
  for (let i = 0; i < number.length; i += 2) {
    array2.append(Uint8Array.from([parseInt(`${number[i]}${number[i + 1]}`, 16)]));
  }
  return array2;
}
function encodeLength(bytes) {
  if (bytes.byteLength < 128) {
    return Uint8Array.from([bytes.byteLength]);
  }
  const length3 = encodeNumber(bytes.byteLength);
  return new Uint8ArrayList(Uint8Array.from([
    length3.byteLength | LONG_LENGTH_MASK
  ]), length3);
}
function encodeInteger(value) {
  const contents = new Uint8ArrayList();
  const mask = 128;
  const positive = (value.subarray()[0] & mask) === mask;
  if (positive) {
    contents.append(Uint8Array.from([0]));
  }
  contents.append(value);
  return new Uint8ArrayList(Uint8Array.from([2]), encodeLength(contents), contents);
}
function encodeBitString(value) {
  const unusedBits = Uint8Array.from([0]);
  const contents = new Uint8ArrayList(unusedBits, value);
  return new Uint8ArrayList(Uint8Array.from([3]), encodeLength(contents), contents);
}
function encodeOctetString(value) {
  return new Uint8ArrayList(Uint8Array.from([4]), encodeLength(value), value);
}
function encodeSequence(values, tag = 48) {
  const output = new Uint8ArrayList();
  for (const buf of values) {
    output.append(buf);
  }
  return new Uint8ArrayList(Uint8Array.from([tag]), encodeLength(output), output);
}

// node_modules/@libp2p/crypto/dist/src/keys/ecdsa/utils.js
var OID_256 = Uint8Array.from([6, 8, 42, 134, 72, 206, 61, 3, 1, 7]);
var OID_384 = Uint8Array.from([6, 5, 43, 129, 4, 0, 34]);
var OID_521 = Uint8Array.from([6, 5, 43, 129, 4, 0, 35]);
var P_256_KEY_JWK = {
  ext: true,
  kty: "EC",
  crv: "P-256"
};
var P_384_KEY_JWK = {
  ext: true,
  kty: "EC",
  crv: "P-384"
};
var P_521_KEY_JWK = {
  ext: true,
  kty: "EC",
  crv: "P-521"
};
var P_256_KEY_LENGTH = 32;
var P_384_KEY_LENGTH = 48;
var P_521_KEY_LENGTH = 66;
function unmarshalECDSAPrivateKey(bytes) {
  const message2 = decodeDer(bytes);
  return pkiMessageToECDSAPrivateKey(message2);
}
function pkiMessageToECDSAPrivateKey(message2) {
  const privateKey = message2[1];
  const d = toString2(privateKey, "base64url");
  const coordinates = message2[2][1][0];
  const offset = 1;
  let x;
  let y;
  if (privateKey.byteLength === P_256_KEY_LENGTH) {
    x = toString2(coordinates.subarray(offset, offset + P_256_KEY_LENGTH), "base64url");
    y = toString2(coordinates.subarray(offset + P_256_KEY_LENGTH), "base64url");
    return new ECDSAPrivateKey({
      ...P_256_KEY_JWK,
      key_ops: ["sign"],
      d,
      x,
      y
    });
  }
  if (privateKey.byteLength === P_384_KEY_LENGTH) {
    x = toString2(coordinates.subarray(offset, offset + P_384_KEY_LENGTH), "base64url");
    y = toString2(coordinates.subarray(offset + P_384_KEY_LENGTH), "base64url");
    return new ECDSAPrivateKey({
      ...P_384_KEY_JWK,
      key_ops: ["sign"],
      d,
      x,
      y
    });
  }
  if (privateKey.byteLength === P_521_KEY_LENGTH) {
    x = toString2(coordinates.subarray(offset, offset + P_521_KEY_LENGTH), "base64url");
    y = toString2(coordinates.subarray(offset + P_521_KEY_LENGTH), "base64url");
    return new ECDSAPrivateKey({
      ...P_521_KEY_JWK,
      key_ops: ["sign"],
      d,
      x,
      y
    });
  }
  throw new InvalidParametersError(`Private key length was wrong length, got ${privateKey.byteLength}, expected 32, 48 or 66`);
}
function unmarshalECDSAPublicKey(bytes) {
  const message2 = decodeDer(bytes);
  return pkiMessageToECDSAPublicKey(message2);
}
function pkiMessageToECDSAPublicKey(message2) {
  const coordinates = message2[1][1][0];
  const offset = 1;
  let x;
  let y;
  if (coordinates.byteLength === P_256_KEY_LENGTH * 2 + 1) {
    x = toString2(coordinates.subarray(offset, offset + P_256_KEY_LENGTH), "base64url");
    y = toString2(coordinates.subarray(offset + P_256_KEY_LENGTH), "base64url");
    return new ECDSAPublicKey({
      ...P_256_KEY_JWK,
      key_ops: ["verify"],
      x,
      y
    });
  }
  if (coordinates.byteLength === P_384_KEY_LENGTH * 2 + 1) {
    x = toString2(coordinates.subarray(offset, offset + P_384_KEY_LENGTH), "base64url");
    y = toString2(coordinates.subarray(offset + P_384_KEY_LENGTH), "base64url");
    return new ECDSAPublicKey({
      ...P_384_KEY_JWK,
      key_ops: ["verify"],
      x,
      y
    });
  }
  if (coordinates.byteLength === P_521_KEY_LENGTH * 2 + 1) {
    x = toString2(coordinates.subarray(offset, offset + P_521_KEY_LENGTH), "base64url");
    y = toString2(coordinates.subarray(offset + P_521_KEY_LENGTH), "base64url");
    return new ECDSAPublicKey({
      ...P_521_KEY_JWK,
      key_ops: ["verify"],
      x,
      y
    });
  }
  throw new InvalidParametersError(`coordinates were wrong length, got ${coordinates.byteLength}, expected 65, 97 or 133`);
}
function privateKeyToPKIMessage(privateKey) {
  return encodeSequence([
    encodeInteger(Uint8Array.from([1])),
    // header
    encodeOctetString(fromString2(privateKey.d ?? "", "base64url")),
    // body
    encodeSequence([
      getOID(privateKey.crv)
    ], 160),
    encodeSequence([
      encodeBitString(new Uint8ArrayList(Uint8Array.from([4]), fromString2(privateKey.x ?? "", "base64url"), fromString2(privateKey.y ?? "", "base64url")))
    ], 161)
  ]).subarray();
}
function publicKeyToPKIMessage(publicKey) {
  return encodeSequence([
    encodeInteger(Uint8Array.from([1])),
    // header
    encodeSequence([
      getOID(publicKey.crv)
    ], 160),
    encodeSequence([
      encodeBitString(new Uint8ArrayList(Uint8Array.from([4]), fromString2(publicKey.x ?? "", "base64url"), fromString2(publicKey.y ?? "", "base64url")))
    ], 161)
  ]).subarray();
}
function getOID(curve) {
  if (curve === "P-256") {
    return OID_256;
  }
  if (curve === "P-384") {
    return OID_384;
  }
  if (curve === "P-521") {
    return OID_521;
  }
  throw new InvalidParametersError(`Invalid curve ${curve}`);
}

// node_modules/@libp2p/crypto/dist/src/keys/ecdsa/ecdsa.js
var ECDSAPublicKey = class {
  type = "ECDSA";
  jwk;
  _raw;
  constructor(jwk) {
    this.jwk = jwk;
  }
  get raw() {
    if (this._raw == null) {
      this._raw = publicKeyToPKIMessage(this.jwk);
    }
    return this._raw;
  }
  toMultihash() {
    return identity2.digest(publicKeyToProtobuf(this));
  }
  toCID() {
    return CID.createV1(114, this.toMultihash());
  }
  toString() {
    return base58btc.encode(this.toMultihash().bytes).substring(1);
  }
  equals(key) {
    if (key == null || !(key.raw instanceof Uint8Array)) {
      return false;
    }
    return equals3(this.raw, key.raw);
  }
  async verify(data, sig, options) {
    return hashAndVerify(this.jwk, sig, data, options);
  }
};
var ECDSAPrivateKey = class {
  type = "ECDSA";
  jwk;
  publicKey;
  _raw;
  constructor(jwk) {
    this.jwk = jwk;
    this.publicKey = new ECDSAPublicKey({
      crv: jwk.crv,
      ext: jwk.ext,
      key_ops: ["verify"],
      kty: "EC",
      x: jwk.x,
      y: jwk.y
    });
  }
  get raw() {
    if (this._raw == null) {
      this._raw = privateKeyToPKIMessage(this.jwk);
    }
    return this._raw;
  }
  equals(key) {
    if (key == null || !(key.raw instanceof Uint8Array)) {
      return false;
    }
    return equals3(this.raw, key.raw);
  }
  async sign(message2, options) {
    return hashAndSign(this.jwk, message2, options);
  }
};

// node_modules/@libp2p/crypto/dist/src/keys/ed25519/index.js
import crypto3 from "crypto";

// node_modules/@noble/hashes/_u64.js
var U32_MASK64 = /* @__PURE__ */ (() => BigInt(2 ** 32 - 1))();
var _32n = /* @__PURE__ */ BigInt(32);
function fromBig(n, le = false) {
  if (le)
    return { h: Number(n & U32_MASK64), l: Number(n >> _32n & U32_MASK64) };
  return { h: Number(n >> _32n & U32_MASK64) | 0, l: Number(n & U32_MASK64) | 0 };
}
function split(lst, le = false) {
  const len = lst.length;
  let Ah = new Uint32Array(len);
  let Al = new Uint32Array(len);
  for (let i = 0; i < len; i++) {
    const { h, l } = fromBig(lst[i], le);
    [Ah[i], Al[i]] = [h, l];
  }
  return [Ah, Al];
}
var fromNumH = (n) => n / 2 ** 32 | 0;
var fromNumL = (n) => n >>> 0;
function setU64FromNum(view, byteOffset, n, isLE) {
  const h = fromNumH(n);
  const l = fromNumL(n);
  view.setUint32(byteOffset, isLE ? l : h, isLE);
  view.setUint32(byteOffset + 4, isLE ? h : l, isLE);
}
var shrSH = (h, _l, s) => h >>> s;
var shrSL = (h, l, s) => h << 32 - s | l >>> s;
var rotrSH = (h, l, s) => h >>> s | l << 32 - s;
var rotrSL = (h, l, s) => h << 32 - s | l >>> s;
var rotrBH = (h, l, s) => h << 64 - s | l >>> s - 32;
var rotrBL = (h, l, s) => h >>> s - 32 | l << 64 - s;
function add(Ah, Al, Bh, Bl2) {
  const l = (Al >>> 0) + (Bl2 >>> 0);
  return { h: Ah + Bh + (l / 2 ** 32 | 0) | 0, l: l | 0 };
}
var add3L = (Al, Bl2, Cl) => (Al >>> 0) + (Bl2 >>> 0) + (Cl >>> 0);
var add3H = (low, Ah, Bh, Ch) => Ah + Bh + Ch + (low / 2 ** 32 | 0) | 0;
var add4L = (Al, Bl2, Cl, Dl) => (Al >>> 0) + (Bl2 >>> 0) + (Cl >>> 0) + (Dl >>> 0);
var add4H = (low, Ah, Bh, Ch, Dh) => Ah + Bh + Ch + Dh + (low / 2 ** 32 | 0) | 0;
var add5L = (Al, Bl2, Cl, Dl, El) => (Al >>> 0) + (Bl2 >>> 0) + (Cl >>> 0) + (Dl >>> 0) + (El >>> 0);
var add5H = (low, Ah, Bh, Ch, Dh, Eh) => Ah + Bh + Ch + Dh + Eh + (low / 2 ** 32 | 0) | 0;

// node_modules/@noble/hashes/utils.js
function isBytes(a) {
  return a instanceof Uint8Array || ArrayBuffer.isView(a) && a.constructor.name === "Uint8Array" && "BYTES_PER_ELEMENT" in a && a.BYTES_PER_ELEMENT === 1;
}
var atitle = (title) => title ? `"${title}" ` : "";
function anumber(n, title = "") {
  if (typeof n !== "number")
    throw new TypeError(atitle(title) + "expected number, got " + typeof n);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RangeError(atitle(title) + "expected integer >= 0, got " + n);
  return n;
}
function abytes(value, length3, title = "") {
  if (isBytes(value) && (length3 === void 0 || value.length === length3))
    return value;
  if (length3 !== void 0)
    anumber(length3, "length");
  const bytes = isBytes(value);
  const ofLen = length3 !== void 0 ? ` of length ${length3}` : "";
  const got = bytes ? `length=${value.length}` : `type=${typeof value}`;
  const message2 = atitle(title) + "expected Uint8Array" + ofLen + ", got " + got;
  if (!bytes)
    throw new TypeError(message2);
  throw new RangeError(message2);
}
function ahash(h) {
  if (typeof h !== "function" || typeof h.create !== "function")
    throw new TypeError("expected hash wrapped by utils.createHasher");
  anumber(h.outputLen);
  anumber(h.blockLen);
  if (h.outputLen < 1 || h.blockLen < 1)
    throw new Error("hash blockLen / outputLen must be >= 1");
}
var aobject = (value, label) => {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new TypeError((label === "object" ? "" : `"${label}" `) + "expected object, got type=" + typeof value);
};
var aopts = (value, label) => {
  aobject(value, label);
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null)
    throw new TypeError(`"${label}" expected plain object`);
  if (Object.hasOwn(value, "__proto__"))
    throw new TypeError(`"${label}.__proto__" is not allowed`);
};
function aexists(instance, checkFinished = true) {
  if (instance.destroyed)
    throw new Error("hash was destroyed");
  if (checkFinished && instance.finished)
    throw new Error("digest() was already called");
}
function aoutput(out, instance) {
  abytes(out, void 0, "output");
  const min = instance.outputLen;
  if (!(out.length >= min)) {
    throw new RangeError('"output" expected length >= ' + min);
  }
}
function clean(...arrays) {
  for (let i = 0; i < arrays.length; i++) {
    arrays[i].fill(0);
  }
}
function createView(arr) {
  return new DataView(arr.buffer, arr.byteOffset, arr.byteLength);
}
function rotr(word, shift) {
  return word << 32 - shift | word >>> shift;
}
var hasHexBuiltin = /* @__PURE__ */ (() => (
  // @ts-ignore
  typeof Uint8Array.from([]).toHex === "function" && typeof Uint8Array.fromHex === "function"
))();
var hexes = /* @__PURE__ */ Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
function bytesToHex(bytes) {
  abytes(bytes);
  if (hasHexBuiltin)
    return bytes.toHex();
  let hex = "";
  for (let i = 0; i < bytes.length; i++) {
    hex += hexes[bytes[i]];
  }
  return hex;
}
function asciiToBase16(ch) {
  return ch >= 48 && ch <= 57 ? ch - 48 : ch >= 65 && ch <= 70 ? ch - (65 - 10) : ch >= 97 && ch <= 102 ? ch - (97 - 10) : void 0;
}
function hexToBytes(hex) {
  if (typeof hex !== "string")
    throw new TypeError("hex string expected, got " + typeof hex);
  if (hasHexBuiltin) {
    try {
      return Uint8Array.fromHex(hex);
    } catch (error) {
      if (error instanceof SyntaxError)
        throw new RangeError(error.message);
      throw error;
    }
  }
  const hl = hex.length;
  const al = hl / 2;
  if (hl % 2)
    throw new RangeError("hex string expected, got unpadded hex of length " + hl);
  const array2 = new Uint8Array(al);
  for (let ai = 0, hi = 0; ai < al; ai++, hi += 2) {
    const n1 = asciiToBase16(hex.charCodeAt(hi));
    const n2 = asciiToBase16(hex.charCodeAt(hi + 1));
    if (n1 === void 0 || n2 === void 0) {
      const char = hex[hi] + hex[hi + 1];
      throw new RangeError('hex string expected, got non-hex character "' + char + '" at index ' + hi);
    }
    array2[ai] = n1 * 16 + n2;
  }
  return array2;
}
function concatBytes(...arrays) {
  let sum = 0;
  for (let i = 0; i < arrays.length; i++) {
    const a = arrays[i];
    abytes(a);
    sum += a.length;
  }
  const res = new Uint8Array(sum);
  for (let i = 0, pad = 0; i < arrays.length; i++) {
    const a = arrays[i];
    res.set(a, pad);
    pad += a.length;
  }
  return res;
}
function checkOpts(defaults, opts, title = "opts") {
  aopts(defaults, "defaults");
  if (opts !== void 0)
    aopts(opts, title);
  const merged = Object.assign(/* @__PURE__ */ Object.create(null), defaults, opts);
  return merged;
}
function createHasher(hashCons, info = {}) {
  if (typeof hashCons !== "function")
    throw new TypeError('"hashCons" expected function, got type=' + typeof hashCons);
  info = checkOpts({}, info, "info");
  const hashC = (msg, opts) => hashCons(opts).update(msg).digest();
  const tmp = hashCons(void 0);
  hashC.outputLen = tmp.outputLen;
  hashC.blockLen = tmp.blockLen;
  hashC.canXOF = tmp.canXOF;
  hashC.create = (opts) => hashCons(opts);
  Object.assign(hashC, info);
  return Object.freeze(hashC);
}
function randomBytes3(bytesLength = 32) {
  anumber(bytesLength, "bytesLength");
  const cr = typeof globalThis === "object" ? globalThis.crypto : null;
  if (typeof cr?.getRandomValues !== "function")
    throw new Error("crypto.getRandomValues must be defined");
  if (bytesLength > 65536)
    throw new RangeError(`"bytesLength" expected <= 65536, got ${bytesLength}`);
  return cr.getRandomValues(new Uint8Array(bytesLength));
}
var oidNist = (suffix) => ({
  // Current NIST hashAlgs suffixes used here fit in one DER subidentifier octet.
  // Larger suffix values would need base-128 OID encoding and a different length byte.
  oid: Uint8Array.from([6, 9, 96, 134, 72, 1, 101, 3, 4, 2, suffix])
});

// node_modules/@noble/hashes/_md.js
function Chi(a, b, c) {
  return a & b ^ ~a & c;
}
function Maj(a, b, c) {
  return a & b ^ a & c ^ b & c;
}
var HashMD = class {
  blockLen;
  outputLen;
  canXOF = false;
  padOffset;
  isLE;
  // For partial updates less than block size
  buffer;
  view;
  finished = false;
  length = 0;
  pos = 0;
  destroyed = false;
  constructor(blockLen, outputLen, padOffset, isLE) {
    this.blockLen = blockLen;
    this.outputLen = outputLen;
    this.padOffset = padOffset;
    this.isLE = isLE;
    this.buffer = new Uint8Array(blockLen);
    this.view = createView(this.buffer);
  }
  update(data) {
    aexists(this);
    abytes(data);
    const { view, buffer: buffer2, blockLen } = this;
    const len = data.length;
    let processed = false;
    for (let pos = 0; pos < len; ) {
      const take = Math.min(blockLen - this.pos, len - pos);
      if (take === blockLen) {
        const dataView2 = createView(data);
        for (; blockLen <= len - pos; pos += blockLen)
          this.process(dataView2, pos);
        processed = true;
        continue;
      }
      buffer2.set(pos === 0 && take === len ? data : data.subarray(pos, pos + take), this.pos);
      this.pos += take;
      pos += take;
      if (this.pos === blockLen) {
        this.process(view, 0);
        this.pos = 0;
        processed = true;
      }
    }
    this.length += data.length;
    if (processed)
      this.roundClean();
    return this;
  }
  digestInto(out) {
    aexists(this);
    aoutput(out, this);
    this.finished = true;
    const { buffer: buffer2, view, blockLen, isLE } = this;
    let { pos } = this;
    buffer2[pos++] = 128;
    buffer2.fill(0, pos);
    if (this.padOffset > blockLen - pos) {
      this.process(view, 0);
      buffer2.fill(0);
    }
    setU64FromNum(view, blockLen - 8, this.length * 8, isLE);
    this.process(view, 0);
    this.roundClean();
    const oview = out === buffer2 ? view : createView(out);
    const len = this.outputLen;
    const outLen = len / 4;
    const state = this.get();
    if (len % 4 || outLen > state.length)
      throw new Error("invalid outputLen");
    for (let i = 0; i < outLen; i++)
      oview.setUint32(4 * i, state[i], isLE);
  }
  digest() {
    const { buffer: buffer2, outputLen } = this;
    this.digestInto(buffer2);
    const res = buffer2.slice(0, outputLen);
    this.destroy();
    return res;
  }
  _cloneIntoMeta(to) {
    const { buffer: buffer2, length: length3, finished, destroyed, pos } = this;
    to.destroyed = destroyed;
    to.finished = finished;
    to.length = length3;
    to.pos = pos;
    if (pos)
      to.buffer.set(buffer2);
    return to;
  }
  clone() {
    return this._cloneInto();
  }
};
var SHA256_IV = /* @__PURE__ */ Uint32Array.from([
  1779033703,
  3144134277,
  1013904242,
  2773480762,
  1359893119,
  2600822924,
  528734635,
  1541459225
]);
var SHA512_IV = /* @__PURE__ */ Uint32Array.from([
  1779033703,
  4089235720,
  3144134277,
  2227873595,
  1013904242,
  4271175723,
  2773480762,
  1595750129,
  1359893119,
  2917565137,
  2600822924,
  725511199,
  528734635,
  4215389547,
  1541459225,
  327033209
]);

// node_modules/@noble/hashes/sha2.js
var SHA256_K = /* @__PURE__ */ Uint32Array.from([
  1116352408,
  1899447441,
  3049323471,
  3921009573,
  961987163,
  1508970993,
  2453635748,
  2870763221,
  3624381080,
  310598401,
  607225278,
  1426881987,
  1925078388,
  2162078206,
  2614888103,
  3248222580,
  3835390401,
  4022224774,
  264347078,
  604807628,
  770255983,
  1249150122,
  1555081692,
  1996064986,
  2554220882,
  2821834349,
  2952996808,
  3210313671,
  3336571891,
  3584528711,
  113926993,
  338241895,
  666307205,
  773529912,
  1294757372,
  1396182291,
  1695183700,
  1986661051,
  2177026350,
  2456956037,
  2730485921,
  2820302411,
  3259730800,
  3345764771,
  3516065817,
  3600352804,
  4094571909,
  275423344,
  430227734,
  506948616,
  659060556,
  883997877,
  958139571,
  1322822218,
  1537002063,
  1747873779,
  1955562222,
  2024104815,
  2227730452,
  2361852424,
  2428436474,
  2756734187,
  3204031479,
  3329325298
]);
var SHA256_W = /* @__PURE__ */ new Uint32Array(64);
var SHA2_32B = class extends HashMD {
  // We cannot use array here since array allows indexing by variable
  // which means optimizer/compiler cannot use registers.
  // Numeric initializers matter: starting the fields as `undefined` changes
  // V8's field representation and makes sha256 3x slower (measured).
  A = 0;
  B = 0;
  C = 0;
  D = 0;
  E = 0;
  F = 0;
  G = 0;
  H = 0;
  constructor(outputLen, IV) {
    super(64, outputLen, 8, false);
    this.A = IV[0] | 0;
    this.B = IV[1] | 0;
    this.C = IV[2] | 0;
    this.D = IV[3] | 0;
    this.E = IV[4] | 0;
    this.F = IV[5] | 0;
    this.G = IV[6] | 0;
    this.H = IV[7] | 0;
  }
  get() {
    const { A, B, C, D, E, F, G, H } = this;
    return [A, B, C, D, E, F, G, H];
  }
  // prettier-ignore
  set(A, B, C, D, E, F, G, H) {
    this.A = A | 0;
    this.B = B | 0;
    this.C = C | 0;
    this.D = D | 0;
    this.E = E | 0;
    this.F = F | 0;
    this.G = G | 0;
    this.H = H | 0;
  }
  _cloneInto(to) {
    (to ||= new this.constructor()).set(...this.get());
    return this._cloneIntoMeta(to);
  }
  process(view, offset) {
    for (let i = 0; i < 16; i++, offset += 4)
      SHA256_W[i] = view.getUint32(offset, false);
    for (let i = 16; i < 64; i++) {
      const W15 = SHA256_W[i - 15];
      const W2 = SHA256_W[i - 2];
      const s0 = rotr(W15, 7) ^ rotr(W15, 18) ^ W15 >>> 3;
      const s1 = rotr(W2, 17) ^ rotr(W2, 19) ^ W2 >>> 10;
      SHA256_W[i] = s1 + SHA256_W[i - 7] + s0 + SHA256_W[i - 16] | 0;
    }
    let { A, B, C, D, E, F, G, H } = this;
    for (let i = 0; i < 64; i++) {
      const sigma1 = rotr(E, 6) ^ rotr(E, 11) ^ rotr(E, 25);
      const T1 = H + sigma1 + Chi(E, F, G) + SHA256_K[i] + SHA256_W[i] | 0;
      const sigma0 = rotr(A, 2) ^ rotr(A, 13) ^ rotr(A, 22);
      const T2 = sigma0 + Maj(A, B, C) | 0;
      H = G;
      G = F;
      F = E;
      E = D + T1 | 0;
      D = C;
      C = B;
      B = A;
      A = T1 + T2 | 0;
    }
    A = A + this.A | 0;
    B = B + this.B | 0;
    C = C + this.C | 0;
    D = D + this.D | 0;
    E = E + this.E | 0;
    F = F + this.F | 0;
    G = G + this.G | 0;
    H = H + this.H | 0;
    this.set(A, B, C, D, E, F, G, H);
  }
  roundClean() {
    clean(SHA256_W);
  }
  destroy() {
    this.destroyed = true;
    this.set(0, 0, 0, 0, 0, 0, 0, 0);
    clean(this.buffer);
  }
};
var _SHA256 = class extends SHA2_32B {
  constructor() {
    super(32, SHA256_IV);
  }
};
var K512 = /* @__PURE__ */ (() => split([
  "0x428a2f98d728ae22",
  "0x7137449123ef65cd",
  "0xb5c0fbcfec4d3b2f",
  "0xe9b5dba58189dbbc",
  "0x3956c25bf348b538",
  "0x59f111f1b605d019",
  "0x923f82a4af194f9b",
  "0xab1c5ed5da6d8118",
  "0xd807aa98a3030242",
  "0x12835b0145706fbe",
  "0x243185be4ee4b28c",
  "0x550c7dc3d5ffb4e2",
  "0x72be5d74f27b896f",
  "0x80deb1fe3b1696b1",
  "0x9bdc06a725c71235",
  "0xc19bf174cf692694",
  "0xe49b69c19ef14ad2",
  "0xefbe4786384f25e3",
  "0x0fc19dc68b8cd5b5",
  "0x240ca1cc77ac9c65",
  "0x2de92c6f592b0275",
  "0x4a7484aa6ea6e483",
  "0x5cb0a9dcbd41fbd4",
  "0x76f988da831153b5",
  "0x983e5152ee66dfab",
  "0xa831c66d2db43210",
  "0xb00327c898fb213f",
  "0xbf597fc7beef0ee4",
  "0xc6e00bf33da88fc2",
  "0xd5a79147930aa725",
  "0x06ca6351e003826f",
  "0x142929670a0e6e70",
  "0x27b70a8546d22ffc",
  "0x2e1b21385c26c926",
  "0x4d2c6dfc5ac42aed",
  "0x53380d139d95b3df",
  "0x650a73548baf63de",
  "0x766a0abb3c77b2a8",
  "0x81c2c92e47edaee6",
  "0x92722c851482353b",
  "0xa2bfe8a14cf10364",
  "0xa81a664bbc423001",
  "0xc24b8b70d0f89791",
  "0xc76c51a30654be30",
  "0xd192e819d6ef5218",
  "0xd69906245565a910",
  "0xf40e35855771202a",
  "0x106aa07032bbd1b8",
  "0x19a4c116b8d2d0c8",
  "0x1e376c085141ab53",
  "0x2748774cdf8eeb99",
  "0x34b0bcb5e19b48a8",
  "0x391c0cb3c5c95a63",
  "0x4ed8aa4ae3418acb",
  "0x5b9cca4f7763e373",
  "0x682e6ff3d6b2b8a3",
  "0x748f82ee5defb2fc",
  "0x78a5636f43172f60",
  "0x84c87814a1f0ab72",
  "0x8cc702081a6439ec",
  "0x90befffa23631e28",
  "0xa4506cebde82bde9",
  "0xbef9a3f7b2c67915",
  "0xc67178f2e372532b",
  "0xca273eceea26619c",
  "0xd186b8c721c0c207",
  "0xeada7dd6cde0eb1e",
  "0xf57d4f7fee6ed178",
  "0x06f067aa72176fba",
  "0x0a637dc5a2c898a6",
  "0x113f9804bef90dae",
  "0x1b710b35131c471b",
  "0x28db77f523047d84",
  "0x32caab7b40c72493",
  "0x3c9ebe0a15c9bebc",
  "0x431d67c49c100d4c",
  "0x4cc5d4becb3e42b6",
  "0x597f299cfc657e2a",
  "0x5fcb6fab3ad6faec",
  "0x6c44198c4a475817"
].map((n) => BigInt(n))))();
var SHA512_Kh = /* @__PURE__ */ (() => K512[0])();
var SHA512_Kl = /* @__PURE__ */ (() => K512[1])();
var SHA512_W_H = /* @__PURE__ */ new Uint32Array(80);
var SHA512_W_L = /* @__PURE__ */ new Uint32Array(80);
var SHA2_64B = class extends HashMD {
  // We cannot use array here since array allows indexing by variable
  // which means optimizer/compiler cannot use registers.
  // h -- high 32 bits, l -- low 32 bits
  // Numeric initializers matter: starting the fields as `undefined` changes
  // V8's field representation and slows hashing down (measured on sha256).
  Ah = 0;
  Al = 0;
  Bh = 0;
  Bl = 0;
  Ch = 0;
  Cl = 0;
  Dh = 0;
  Dl = 0;
  Eh = 0;
  El = 0;
  Fh = 0;
  Fl = 0;
  Gh = 0;
  Gl = 0;
  Hh = 0;
  Hl = 0;
  constructor(outputLen, IV) {
    super(128, outputLen, 16, false);
    this.Ah = IV[0] | 0;
    this.Al = IV[1] | 0;
    this.Bh = IV[2] | 0;
    this.Bl = IV[3] | 0;
    this.Ch = IV[4] | 0;
    this.Cl = IV[5] | 0;
    this.Dh = IV[6] | 0;
    this.Dl = IV[7] | 0;
    this.Eh = IV[8] | 0;
    this.El = IV[9] | 0;
    this.Fh = IV[10] | 0;
    this.Fl = IV[11] | 0;
    this.Gh = IV[12] | 0;
    this.Gl = IV[13] | 0;
    this.Hh = IV[14] | 0;
    this.Hl = IV[15] | 0;
  }
  // prettier-ignore
  get() {
    const { Ah, Al, Bh, Bl: Bl2, Ch, Cl, Dh, Dl, Eh, El, Fh, Fl, Gh, Gl, Hh, Hl } = this;
    return [Ah, Al, Bh, Bl2, Ch, Cl, Dh, Dl, Eh, El, Fh, Fl, Gh, Gl, Hh, Hl];
  }
  // prettier-ignore
  set(Ah, Al, Bh, Bl2, Ch, Cl, Dh, Dl, Eh, El, Fh, Fl, Gh, Gl, Hh, Hl) {
    this.Ah = Ah | 0;
    this.Al = Al | 0;
    this.Bh = Bh | 0;
    this.Bl = Bl2 | 0;
    this.Ch = Ch | 0;
    this.Cl = Cl | 0;
    this.Dh = Dh | 0;
    this.Dl = Dl | 0;
    this.Eh = Eh | 0;
    this.El = El | 0;
    this.Fh = Fh | 0;
    this.Fl = Fl | 0;
    this.Gh = Gh | 0;
    this.Gl = Gl | 0;
    this.Hh = Hh | 0;
    this.Hl = Hl | 0;
  }
  _cloneInto(to) {
    (to ||= new this.constructor()).set(...this.get());
    return this._cloneIntoMeta(to);
  }
  process(view, offset) {
    for (let i = 0; i < 16; i++, offset += 4) {
      SHA512_W_H[i] = view.getUint32(offset);
      SHA512_W_L[i] = view.getUint32(offset += 4);
    }
    for (let i = 16; i < 80; i++) {
      const W15h = SHA512_W_H[i - 15] | 0;
      const W15l = SHA512_W_L[i - 15] | 0;
      const s0h = rotrSH(W15h, W15l, 1) ^ rotrSH(W15h, W15l, 8) ^ shrSH(W15h, W15l, 7);
      const s0l = rotrSL(W15h, W15l, 1) ^ rotrSL(W15h, W15l, 8) ^ shrSL(W15h, W15l, 7);
      const W2h = SHA512_W_H[i - 2] | 0;
      const W2l = SHA512_W_L[i - 2] | 0;
      const s1h = rotrSH(W2h, W2l, 19) ^ rotrBH(W2h, W2l, 61) ^ shrSH(W2h, W2l, 6);
      const s1l = rotrSL(W2h, W2l, 19) ^ rotrBL(W2h, W2l, 61) ^ shrSL(W2h, W2l, 6);
      const SUMl = add4L(s0l, s1l, SHA512_W_L[i - 7], SHA512_W_L[i - 16]);
      const SUMh = add4H(SUMl, s0h, s1h, SHA512_W_H[i - 7], SHA512_W_H[i - 16]);
      SHA512_W_H[i] = SUMh | 0;
      SHA512_W_L[i] = SUMl | 0;
    }
    let { Ah, Al, Bh, Bl: Bl2, Ch, Cl, Dh, Dl, Eh, El, Fh, Fl, Gh, Gl, Hh, Hl } = this;
    for (let i = 0; i < 80; i++) {
      const sigma1h = rotrSH(Eh, El, 14) ^ rotrSH(Eh, El, 18) ^ rotrBH(Eh, El, 41);
      const sigma1l = rotrSL(Eh, El, 14) ^ rotrSL(Eh, El, 18) ^ rotrBL(Eh, El, 41);
      const CHIh = Eh & Fh ^ ~Eh & Gh;
      const CHIl = El & Fl ^ ~El & Gl;
      const T1ll = add5L(Hl, sigma1l, CHIl, SHA512_Kl[i], SHA512_W_L[i]);
      const T1h = add5H(T1ll, Hh, sigma1h, CHIh, SHA512_Kh[i], SHA512_W_H[i]);
      const T1l = T1ll | 0;
      const sigma0h = rotrSH(Ah, Al, 28) ^ rotrBH(Ah, Al, 34) ^ rotrBH(Ah, Al, 39);
      const sigma0l = rotrSL(Ah, Al, 28) ^ rotrBL(Ah, Al, 34) ^ rotrBL(Ah, Al, 39);
      const MAJh = Ah & Bh ^ Ah & Ch ^ Bh & Ch;
      const MAJl = Al & Bl2 ^ Al & Cl ^ Bl2 & Cl;
      Hh = Gh | 0;
      Hl = Gl | 0;
      Gh = Fh | 0;
      Gl = Fl | 0;
      Fh = Eh | 0;
      Fl = El | 0;
      ({ h: Eh, l: El } = add(Dh | 0, Dl | 0, T1h | 0, T1l | 0));
      Dh = Ch | 0;
      Dl = Cl | 0;
      Ch = Bh | 0;
      Cl = Bl2 | 0;
      Bh = Ah | 0;
      Bl2 = Al | 0;
      const All = add3L(T1l, sigma0l, MAJl);
      Ah = add3H(All, T1h, sigma0h, MAJh);
      Al = All | 0;
    }
    ({ h: Ah, l: Al } = add(this.Ah | 0, this.Al | 0, Ah | 0, Al | 0));
    ({ h: Bh, l: Bl2 } = add(this.Bh | 0, this.Bl | 0, Bh | 0, Bl2 | 0));
    ({ h: Ch, l: Cl } = add(this.Ch | 0, this.Cl | 0, Ch | 0, Cl | 0));
    ({ h: Dh, l: Dl } = add(this.Dh | 0, this.Dl | 0, Dh | 0, Dl | 0));
    ({ h: Eh, l: El } = add(this.Eh | 0, this.El | 0, Eh | 0, El | 0));
    ({ h: Fh, l: Fl } = add(this.Fh | 0, this.Fl | 0, Fh | 0, Fl | 0));
    ({ h: Gh, l: Gl } = add(this.Gh | 0, this.Gl | 0, Gh | 0, Gl | 0));
    ({ h: Hh, l: Hl } = add(this.Hh | 0, this.Hl | 0, Hh | 0, Hl | 0));
    this.set(Ah, Al, Bh, Bl2, Ch, Cl, Dh, Dl, Eh, El, Fh, Fl, Gh, Gl, Hh, Hl);
  }
  roundClean() {
    clean(SHA512_W_H, SHA512_W_L);
  }
  destroy() {
    this.destroyed = true;
    clean(this.buffer);
    this.set(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  }
};
var _SHA512 = class extends SHA2_64B {
  constructor() {
    super(64, SHA512_IV);
  }
};
var sha2562 = /* @__PURE__ */ createHasher(
  () => new _SHA256(),
  /* @__PURE__ */ oidNist(1)
);
var sha5122 = /* @__PURE__ */ createHasher(
  () => new _SHA512(),
  /* @__PURE__ */ oidNist(3)
);

// node_modules/@noble/curves/utils.js
function aarray(item, title, inner = () => {
}) {
  if (!Array.isArray(item))
    throw new TypeError(`"${title}" expected array, got type=${typeof item}`);
  for (let i = 0; i < item.length; i++)
    inner(item[i], `${title}[${i}]`);
  return item;
}
var abytes2 = (value, length3, title) => abytes(value, length3, title);
var anumber2 = anumber;
function astring(value, title = "") {
  if (typeof value !== "string") {
    const prefix = title && `"${title}" `;
    throw new TypeError(prefix + "expected string, got type=" + typeof value);
  }
  return value;
}
function aobject2(value, title = "object") {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new TypeError(title === "object" ? "expected valid options object" : `"${title}" expected object, got type=${typeof value}`);
  return value;
}
function afunction(value, title) {
  if (typeof value !== "function")
    throw new TypeError(`"${title}" is invalid: expected function, got ${typeof value}`);
  return value;
}
var bytesToHex2 = bytesToHex;
var concatBytes2 = (...arrays) => concatBytes(...arrays);
var hexToBytes2 = (hex) => hexToBytes(hex);
var isBytes2 = isBytes;
var randomBytes4 = (bytesLength) => randomBytes3(bytesLength);
var _0n = /* @__PURE__ */ BigInt(0);
var _1n = /* @__PURE__ */ BigInt(1);
var atitle2 = (title) => title ? `"${title}" ` : "";
function abool(value, title = "") {
  if (typeof value !== "boolean")
    throw new TypeError(atitle2(title) + "expected boolean, got type=" + typeof value);
  return value;
}
function abignumber(n) {
  if (typeof n === "bigint") {
    if (!isPosBig(n))
      throw new RangeError("positive bigint expected, got " + n);
  } else
    anumber2(n);
  return n;
}
function asafenumber(value, title = "") {
  if (typeof value !== "number") {
    const prefix = title && `"${title}" `;
    throw new TypeError(prefix + "expected number, got type=" + typeof value);
  }
  if (!Number.isSafeInteger(value)) {
    const prefix = title && `"${title}" `;
    throw new RangeError(prefix + "expected safe integer, got " + value);
  }
}
function numberToHexUnpadded(num) {
  const hex = abignumber(num).toString(16);
  return hex.length & 1 ? "0" + hex : hex;
}
function hexToNumber(hex) {
  if (typeof hex !== "string")
    throw new TypeError("hex string expected, got " + typeof hex);
  return hex === "" ? _0n : BigInt("0x" + hex);
}
function bytesToNumberBE(bytes) {
  return hexToNumber(bytesToHex(bytes));
}
function bytesToNumberLE(bytes) {
  return hexToNumber(bytesToHex(copyBytes(abytes(bytes)).reverse()));
}
function numberToBytesBE(n, len) {
  anumber(len);
  if (len === 0)
    throw new Error("zero output length is invalid");
  n = abignumber(n);
  const expectedLen = len * 2;
  const hex = n.toString(16);
  if (hex.length > expectedLen)
    throw new RangeError("number is too large");
  return hexToBytes(hex.padStart(expectedLen, "0"));
}
function numberToBytesLE(n, len) {
  return numberToBytesBE(n, len).reverse();
}
function copyBytes(bytes) {
  return Uint8Array.from(abytes2(bytes));
}
function isPosBig(n) {
  return typeof n === "bigint" && _0n <= n;
}
function inRange(n, min, max) {
  return isPosBig(n) && isPosBig(min) && isPosBig(max) && min <= n && n < max;
}
function aInRange(title, n, min, max) {
  if (!inRange(n, min, max))
    throw new RangeError("expected valid " + title + ": " + min + " <= n < " + max + ", got " + n);
}
function bitLen(n) {
  if (n < _0n)
    throw new Error("expected non-negative bigint, got " + n);
  return n === _0n ? 0 : n.toString(2).length;
}
var bitMask = (n) => {
  asafenumber(n, "n");
  return (_1n << BigInt(n)) - _1n;
};
function createHmacDrbg(hashLen, qByteLen, hmacFn) {
  anumber(hashLen, "hashLen");
  anumber(qByteLen, "qByteLen");
  if (typeof hmacFn !== "function")
    throw new TypeError("hmacFn must be a function");
  const u8n = (len) => new Uint8Array(len);
  const NULL = Uint8Array.of();
  const byte0 = Uint8Array.of(0);
  const byte1 = Uint8Array.of(1);
  const _maxDrbgIters = 1e3;
  let v = u8n(hashLen);
  let k = u8n(hashLen);
  let i = 0;
  const reset = () => {
    v.fill(1);
    k.fill(0);
    i = 0;
  };
  const h = (...msgs) => hmacFn(k, concatBytes2(v, ...msgs));
  const reseed = (seed = NULL) => {
    k = h(byte0, seed);
    v = h();
    if (seed.length === 0)
      return;
    k = h(byte1, seed);
    v = h();
  };
  const gen = () => {
    if (i++ >= _maxDrbgIters)
      throw new Error("drbg: tried max amount of iterations");
    let len = 0;
    const out = [];
    while (len < qByteLen) {
      v = h();
      const sl = v.slice();
      out.push(sl);
      len += v.length;
    }
    return concatBytes2(...out);
  };
  const genUntil = (seed, pred) => {
    reset();
    reseed(seed);
    let res = void 0;
    while ((res = pred(gen())) === void 0)
      reseed();
    reset();
    return res;
  };
  return genUntil;
}
function validateObject(object2, fields = {}, optFields = {}, title = "object") {
  aobject2(object2, title);
  aobject2(fields, "fields");
  aobject2(optFields, "optFields");
  function checkField(fieldName, expectedType, isOpt) {
    const label = title === "object" ? `param "${String(fieldName)}"` : `"${title}.${String(fieldName)}"`;
    const val = object2[fieldName];
    if (!Object.hasOwn(object2, fieldName) && (isOpt ? val !== void 0 : expectedType !== "function")) {
      throw new TypeError(`${label} is invalid: expected own property`);
    }
    if (isOpt && val === void 0)
      return;
    const current = typeof val;
    if (current !== expectedType || val === null)
      throw new TypeError(`${label} is invalid: expected ${expectedType}, got ${current}`);
  }
  const iter = (f, isOpt) => Object.entries(f).forEach(([k, v]) => checkField(k, v, isOpt));
  iter(fields, false);
  iter(optFields, true);
}

// node_modules/@noble/curves/abstract/modular.js
var _0n2 = /* @__PURE__ */ BigInt(0);
var _1n2 = /* @__PURE__ */ BigInt(1);
var _2n = /* @__PURE__ */ BigInt(2);
var _3n = /* @__PURE__ */ BigInt(3);
var _4n = /* @__PURE__ */ BigInt(4);
var _5n = /* @__PURE__ */ BigInt(5);
var _7n = /* @__PURE__ */ BigInt(7);
var _8n = /* @__PURE__ */ BigInt(8);
var _9n = /* @__PURE__ */ BigInt(9);
var _15n = /* @__PURE__ */ BigInt(15);
var _16n = /* @__PURE__ */ BigInt(16);
var POW_WINDOWED_MIN = /* @__PURE__ */ BigInt("0x10000000000000000");
function mod(a, b) {
  if (b <= _0n2)
    throw new Error("mod: expected positive modulus, got " + b);
  const result = a % b;
  return result >= _0n2 ? result : b + result;
}
function pow(num, power, modulo) {
  if (modulo <= _1n2)
    throw new Error("pow: expected modulus > 1, got " + modulo);
  if (typeof power !== "bigint")
    throw new TypeError("invalid exponent: expected bigint, got " + typeof power);
  if (power < _0n2)
    throw new Error("invalid exponent, negatives unsupported");
  if (power === _0n2)
    return _1n2;
  if (power === _1n2)
    return num;
  let d = num % modulo;
  if (d < _0n2)
    d += modulo;
  if (power < POW_WINDOWED_MIN) {
    let p2 = _1n2;
    while (power > _0n2) {
      if (power & _1n2)
        p2 = p2 * d % modulo;
      d = d * d % modulo;
      power >>= _1n2;
    }
    return p2;
  }
  const digits = [];
  while (power > _0n2) {
    digits.push(Number(power & _15n));
    power >>= _4n;
  }
  const table = new Array(16);
  table[0] = _1n2;
  table[1] = d;
  for (let i = 2; i < 16; i++)
    table[i] = table[i - 1] * d % modulo;
  let p = table[digits[digits.length - 1]];
  for (let w = digits.length - 2; w >= 0; w--) {
    p = p * p % modulo;
    p = p * p % modulo;
    p = p * p % modulo;
    p = p * p % modulo;
    const digit = digits[w];
    if (digit !== 0)
      p = p * table[digit] % modulo;
  }
  return p;
}
function pow2(x, power, modulo) {
  if (modulo <= _1n2)
    throw new Error("pow2: expected modulus > 1, got " + modulo);
  if (power < _0n2)
    throw new Error("pow2: expected non-negative exponent, got " + power);
  let res = x;
  while (power-- > _0n2) {
    res *= res;
    res %= modulo;
  }
  return res;
}
function invert(number, modulo) {
  if (number === _0n2)
    throw new Error("invert: expected non-zero number");
  if (modulo <= _1n2)
    throw new Error("invert: expected modulus > 1, got " + modulo);
  let a = mod(number, modulo);
  let b = modulo;
  let x = _0n2, u = _1n2;
  while (a !== _0n2) {
    const q = b / a;
    const r = b - a * q;
    const m = x - u * q;
    b = a, a = r, x = u, u = m;
  }
  const gcd = b;
  if (gcd !== _1n2)
    throw new Error("invert: does not exist");
  return mod(x, modulo);
}
function invertCt(a, prime) {
  if (prime <= _1n2)
    throw new Error("invertCt: expected prime modulus > 1, got " + prime);
  const an = mod(a, prime);
  if (an === _0n2)
    throw new Error("invertCt: expected non-zero number");
  const inverse = pow(an, prime - _2n, prime);
  if (mod(an * inverse, prime) !== _1n2)
    throw new Error("invertCt: does not exist");
  return inverse;
}
function assertIsSquare(Fp2, root, n) {
  const F = Fp2;
  if (!F.eql(F.sqr(root), n))
    throw new Error("Cannot find square root");
}
function aoddModulus(order, fnName) {
  if ((order & _1n2) === _0n2)
    throw new Error(fnName + ": expected odd modulus, got " + order);
}
function sqrt3mod4(Fp2, n) {
  const F = Fp2;
  const p1div4 = (F.ORDER + _1n2) / _4n;
  const root = F.pow(n, p1div4);
  assertIsSquare(F, root, n);
  return root;
}
function sqrt5mod8(Fp2, n) {
  const F = Fp2;
  const p5div8 = (F.ORDER - _5n) / _8n;
  const n2 = F.mul(n, _2n);
  const v = F.pow(n2, p5div8);
  const nv = F.mul(n, v);
  const i = F.mul(F.mul(nv, _2n), v);
  const root = F.mul(nv, F.sub(i, F.ONE));
  assertIsSquare(F, root, n);
  return root;
}
function sqrt9mod16(P) {
  const Fp_ = Field(P);
  const tn = tonelliShanks(P);
  const c1 = tn(Fp_, Fp_.neg(Fp_.ONE));
  const c2 = tn(Fp_, c1);
  const c3 = tn(Fp_, Fp_.neg(c1));
  const c4 = (P + _7n) / _16n;
  return ((Fp2, n) => {
    const F = Fp2;
    let tv1 = F.pow(n, c4);
    let tv2 = F.mul(tv1, c1);
    const tv3 = F.mul(tv1, c2);
    const tv4 = F.mul(tv1, c3);
    const e1 = F.eql(F.sqr(tv2), n);
    const e2 = F.eql(F.sqr(tv3), n);
    tv1 = F.cmov(tv1, tv2, e1);
    tv2 = F.cmov(tv4, tv3, e2);
    const e3 = F.eql(F.sqr(tv2), n);
    const root = F.cmov(tv1, tv2, e3);
    assertIsSquare(F, root, n);
    return root;
  });
}
function tonelliShanks(P) {
  if (P < _3n)
    throw new Error("sqrt is not defined for small field");
  aoddModulus(P, "tonelliShanks");
  let Q = P - _1n2;
  let S = 0;
  while (Q % _2n === _0n2) {
    Q /= _2n;
    S++;
  }
  let Z = _2n;
  const _Fp = Field(P);
  while (FpLegendre(_Fp, Z) === 1) {
    if (Z++ > 1e3)
      throw new Error("Cannot find square root: probably non-prime P");
  }
  if (S === 1)
    return sqrt3mod4;
  let cc = _Fp.pow(Z, Q);
  const Q1div2 = (Q + _1n2) / _2n;
  return function tonelliSlow(Fp2, n) {
    const F = Fp2;
    if (F.is0(n))
      return n;
    if (FpLegendre(F, n) !== 1)
      throw new Error("Cannot find square root");
    let M = S;
    let c = F.mul(F.ONE, cc);
    let t = F.pow(n, Q);
    let R = F.pow(n, Q1div2);
    while (!F.eql(t, F.ONE)) {
      if (F.is0(t))
        throw new Error("Cannot find square root: probably non-prime P");
      let i = 1;
      let t_tmp = F.sqr(t);
      while (!F.eql(t_tmp, F.ONE)) {
        i++;
        t_tmp = F.sqr(t_tmp);
        if (i === M)
          throw new Error("Cannot find square root");
      }
      const exponent = _1n2 << BigInt(M - i - 1);
      const b = F.pow(c, exponent);
      M = i;
      c = F.sqr(b);
      t = F.mul(t, c);
      R = F.mul(R, b);
    }
    return R;
  };
}
function FpSqrt(P) {
  aoddModulus(P, "Fp.sqrt");
  if (P % _4n === _3n)
    return sqrt3mod4;
  if (P % _8n === _5n)
    return sqrt5mod8;
  if (P % _16n === _9n)
    return sqrt9mod16(P);
  return tonelliShanks(P);
}
var isNegativeLE = (num, modulo) => (mod(num, modulo) & _1n2) === _1n2;
var FIELD_FIELDS = [
  "create",
  "isValid",
  "is0",
  "neg",
  "inv",
  "sqrt",
  "sqr",
  "eql",
  "add",
  "sub",
  "mul",
  "pow",
  "div",
  "addN",
  "subN",
  "mulN",
  "sqrN"
];
function validateField(field) {
  aobject2(field, "field");
  if (typeof field.ORDER !== "bigint")
    throw new TypeError('param "ORDER" is invalid: expected bigint, got ' + typeof field.ORDER);
  asafenumber(field.BYTES, "BYTES");
  asafenumber(field.BITS, "BITS");
  for (const name4 of FIELD_FIELDS)
    afunction(field[name4], "field." + name4);
  if (field.BYTES < 1 || field.BITS < 1)
    throw new Error("invalid field: expected BYTES/BITS > 0");
  if (field.ORDER <= _1n2)
    throw new Error("invalid field: expected ORDER > 1, got " + field.ORDER);
  return field;
}
function FpInvertBatch(Fp2, nums, passZero = false) {
  validateField(Fp2);
  aarray(nums, "nums");
  abool(passZero, "passZero");
  const F = Fp2;
  const inverted = new Array(nums.length).fill(passZero ? F.ZERO : void 0);
  const multipliedAcc = nums.reduce((acc, num, i) => {
    if (F.is0(num))
      return acc;
    inverted[i] = acc;
    return F.mul(acc, num);
  }, F.ONE);
  const invertedAcc = F.inv(multipliedAcc);
  nums.reduceRight((acc, num, i) => {
    if (F.is0(num))
      return acc;
    inverted[i] = F.mul(acc, inverted[i]);
    return F.mul(acc, num);
  }, invertedAcc);
  return inverted;
}
function FpLegendre(Fp2, n) {
  validateField(Fp2);
  const F = Fp2;
  aoddModulus(F.ORDER, "FpLegendre");
  const p1mod2 = (F.ORDER - _1n2) / _2n;
  const powered = F.pow(n, p1mod2);
  const yes = F.eql(powered, F.ONE);
  const zero2 = F.eql(powered, F.ZERO);
  const no = F.eql(powered, F.neg(F.ONE));
  if (!yes && !zero2 && !no)
    throw new Error("invalid Legendre symbol result");
  return yes ? 1 : zero2 ? 0 : -1;
}
function nLength(n, nBitLength) {
  if (nBitLength !== void 0)
    anumber2(nBitLength);
  if (n <= _0n2)
    throw new Error("invalid n length: expected positive n, got " + n);
  if (nBitLength !== void 0 && nBitLength < 1)
    throw new Error("invalid n length: expected positive bit length, got " + nBitLength);
  const bits = bitLen(n);
  if (nBitLength !== void 0 && nBitLength < bits)
    throw new Error(`invalid n length: expected nBitLength (${nBitLength}) >= bitLen(n) (${bits})`);
  const _nBitLength = nBitLength !== void 0 ? nBitLength : bits;
  const nByteLength = Math.ceil(_nBitLength / 8);
  return { nBitLength: _nBitLength, nByteLength };
}
var FIELD_SQRT = /* @__PURE__ */ new WeakMap();
var _Field = class {
  ORDER;
  BITS;
  BYTES;
  isLE;
  ZERO = _0n2;
  ONE = _1n2;
  _lengths;
  _mod;
  constructor(ORDER, opts = {}) {
    if (ORDER <= _1n2)
      throw new Error("invalid field: expected ORDER > 1, got " + ORDER);
    let _nbitLength = void 0;
    this.isLE = false;
    if (opts != null && typeof opts === "object") {
      if (typeof opts.BITS === "number")
        _nbitLength = opts.BITS;
      if (typeof opts.sqrt === "function")
        Object.defineProperty(this, "sqrt", { value: opts.sqrt, enumerable: true });
      if (typeof opts.isLE === "boolean")
        this.isLE = opts.isLE;
      if (opts.allowedLengths)
        this._lengths = Object.freeze(opts.allowedLengths.slice());
      if (typeof opts.modFromBytes === "boolean")
        this._mod = opts.modFromBytes;
    }
    const { nBitLength, nByteLength } = nLength(ORDER, _nbitLength);
    if (nByteLength > 2048)
      throw new Error("invalid field: expected ORDER of <= 2048 bytes");
    this.ORDER = ORDER;
    this.BITS = nBitLength;
    this.BYTES = nByteLength;
    Object.freeze(this);
  }
  create(num) {
    return mod(num, this.ORDER);
  }
  isValid(num) {
    if (typeof num !== "bigint")
      throw new TypeError("invalid field element: expected bigint, got " + typeof num);
    return _0n2 <= num && num < this.ORDER;
  }
  is0(num) {
    return num === _0n2;
  }
  // is valid and invertible
  isValidNot0(num) {
    return !this.is0(num) && this.isValid(num);
  }
  isOdd(num) {
    return (num & _1n2) === _1n2;
  }
  neg(num) {
    return mod(-num, this.ORDER);
  }
  eql(lhs, rhs) {
    return lhs === rhs;
  }
  sqr(num) {
    return mod(num * num, this.ORDER);
  }
  add(lhs, rhs) {
    return mod(lhs + rhs, this.ORDER);
  }
  sub(lhs, rhs) {
    return mod(lhs - rhs, this.ORDER);
  }
  mul(lhs, rhs) {
    return mod(lhs * rhs, this.ORDER);
  }
  pow(num, power) {
    return pow(num, power, this.ORDER);
  }
  div(lhs, rhs) {
    return mod(lhs * invert(rhs, this.ORDER), this.ORDER);
  }
  // Same as above, but doesn't normalize
  sqrN(num) {
    return num * num;
  }
  addN(lhs, rhs) {
    return lhs + rhs;
  }
  subN(lhs, rhs) {
    return lhs - rhs;
  }
  mulN(lhs, rhs) {
    return lhs * rhs;
  }
  inv(num) {
    return invert(num, this.ORDER);
  }
  sqrt(num) {
    let sqrt = FIELD_SQRT.get(this);
    if (!sqrt)
      FIELD_SQRT.set(this, sqrt = FpSqrt(this.ORDER));
    return sqrt(this, num);
  }
  toBytes(num) {
    return this.isLE ? numberToBytesLE(num, this.BYTES) : numberToBytesBE(num, this.BYTES);
  }
  fromBytes(bytes, skipValidation = false) {
    abytes2(bytes);
    const { _lengths: allowedLengths, BYTES, isLE, ORDER, _mod: modFromBytes } = this;
    if (allowedLengths) {
      if (bytes.length < 1 || !allowedLengths.includes(bytes.length) || bytes.length > BYTES) {
        throw new Error("Field.fromBytes: expected " + allowedLengths + " bytes, got " + bytes.length);
      }
      const padded = new Uint8Array(BYTES);
      padded.set(bytes, isLE ? 0 : padded.length - bytes.length);
      bytes = padded;
    }
    if (bytes.length !== BYTES)
      throw new Error("Field.fromBytes: expected " + BYTES + " bytes, got " + bytes.length);
    let scalar = isLE ? bytesToNumberLE(bytes) : bytesToNumberBE(bytes);
    if (modFromBytes)
      scalar = mod(scalar, ORDER);
    if (!skipValidation) {
      if (!this.isValid(scalar))
        throw new Error("invalid field element: outside of range 0..ORDER");
    }
    return scalar;
  }
  // TODO: we don't need it here, move out to separate fn
  invertBatch(lst) {
    return FpInvertBatch(this, lst, true);
  }
  // We can't move this out because Fp6, Fp12 implement it
  // and it's unclear what to return in there.
  cmov(a, b, condition) {
    abool(condition, "condition");
    return condition ? b : a;
  }
};
function Field(ORDER, opts = {}) {
  Object.freeze(_Field.prototype);
  return new _Field(ORDER, opts);
}
function getFieldBytesLength(fieldOrder) {
  if (typeof fieldOrder !== "bigint")
    throw new Error("field order must be bigint");
  if (fieldOrder <= _1n2)
    throw new Error("field order must be greater than 1");
  const bitLength = bitLen(fieldOrder - _1n2);
  return Math.ceil(bitLength / 8);
}
function getMinHashLength(fieldOrder) {
  const length3 = getFieldBytesLength(fieldOrder);
  return length3 + Math.ceil(length3 / 2);
}
function mapHashToField(key, fieldOrder, isLE = false) {
  abytes2(key);
  const len = key.length;
  const fieldLen = getFieldBytesLength(fieldOrder);
  const minLen = Math.max(getMinHashLength(fieldOrder), 16);
  if (len < minLen || len > 1024)
    throw new Error("expected " + minLen + "-1024 bytes of input, got " + len);
  const num = isLE ? bytesToNumberLE(key) : bytesToNumberBE(key);
  const reduced = mod(num, fieldOrder - _1n2) + _1n2;
  return isLE ? numberToBytesLE(reduced, fieldLen) : numberToBytesBE(reduced, fieldLen);
}

// node_modules/@noble/curves/abstract/curve.js
var _0n3 = /* @__PURE__ */ BigInt(0);
var _1n3 = /* @__PURE__ */ BigInt(1);
var _4n2 = /* @__PURE__ */ BigInt(4);
var BLIND_BYTES = 16;
var BLIND_BITS = 128;
var FW_WINDOW = 5;
var TABLE_BYTES_MAX = /* @__PURE__ */ (() => 2 ** 31)();
function validatePointCons(Point) {
  const pc = Point;
  if (typeof pc !== "function")
    throw new TypeError('"Point" expected constructor, got type=' + typeof Point);
  afunction(pc.fromAffine, "Point.fromAffine");
  afunction(pc.fromBytes, "Point.fromBytes");
  afunction(pc.fromHex, "Point.fromHex");
  aobject2(pc.BASE, "Point.BASE");
  aobject2(pc.ZERO, "Point.ZERO");
  validateField(pc.Fp);
  validateField(pc.Fn);
}
function normalizeZ(c, points) {
  validatePointCons(c);
  validateMSMPoints(points, c);
  const invertedZs = FpInvertBatch(c.Fp, points.map((p) => p.Z));
  return points.map((p, i) => c.fromAffine(p.toAffine(invertedZs[i])));
}
function validateW(W, bits, min = 1) {
  if (!Number.isSafeInteger(W) || W < min || W > bits)
    throw new Error("invalid window size, expected [" + min + ".." + bits + "], got W=" + W);
}
function validateTableBytes(numPoints, fpBytes) {
  const bytes = numPoints * (4 * fpBytes + 128);
  if (bytes > TABLE_BYTES_MAX)
    throw new Error("invalid window size: table would need ~" + Math.ceil(bytes / 2 ** 20) + " MiB, max " + TABLE_BYTES_MAX / 2 ** 20 + " MiB");
}
function probeRandomBytes(randomBytes7, length3) {
  if (randomBytes7 === void 0)
    return void 0;
  afunction(randomBytes7, "randomBytes");
  try {
    const probe = randomBytes7(length3);
    if (!isBytes2(probe) || probe.length !== length3)
      return void 0;
  } catch {
    return void 0;
  }
  return randomBytes7;
}
function validateMSMPoints(points, c) {
  aarray(points, "points");
  points.forEach((p, i) => {
    if (!(p instanceof c))
      throw new Error("invalid point at index " + i);
  });
}
function validateMSMScalars(scalars, field, maxScalar) {
  if (!Array.isArray(scalars))
    throw new Error("array of scalars expected");
  scalars.forEach((s, i) => {
    const ok = maxScalar === void 0 ? field.isValid(s) : isPosBig(s) && s < maxScalar;
    if (!ok)
      throw new Error("invalid scalar at index " + i);
  });
}
var pointWindowSizes = /* @__PURE__ */ new WeakMap();
function getWindowSize(P) {
  return pointWindowSizes.get(P) || 1;
}
function oddMultiples(p, size) {
  const dbl = p.double();
  const t = [p];
  for (let j = 1; j < size; j++)
    t.push(t[j - 1].add(dbl));
  return t;
}
function wnafDigits(n, W) {
  const size = 2 ** W;
  const half = size / 2;
  const mask = BigInt(size - 1);
  const d = [];
  while (n > _0n3) {
    let w = 0;
    if (n & _1n3) {
      w = Number(n & mask);
      if (w >= half)
        w -= size;
      n -= BigInt(w);
    }
    d.push(w);
    n >>= _1n3;
  }
  return d;
}
function signedWindowDigits(n, W, windows) {
  const size = 2 ** W;
  const half = size / 2;
  const mask = BigInt(size - 1);
  const shiftBy = BigInt(W);
  const d = [];
  for (let w = 0; w < windows; w++) {
    let v = Number(n & mask);
    n >>= shiftBy;
    if (v > half) {
      v -= size;
      n += _1n3;
    }
    d.push(v);
  }
  if (n !== _0n3)
    throw new Error("invalid wnaf");
  return d;
}
function wnafWalk(zero2, tables, digits) {
  let max = 0;
  for (const d of digits)
    max = Math.max(max, d.length);
  let acc = zero2;
  for (let bit = max - 1; bit >= 0; bit--) {
    if (bit !== max - 1)
      acc = acc.double();
    for (let i = 0; i < digits.length; i++) {
      const w = digits[i][bit];
      if (w) {
        const item = tables[i][Math.abs(w) - 1 >> 1];
        acc = acc.add(w < 0 ? item.negate() : item);
      }
    }
  }
  return acc;
}
var ScalarMultiplier = class {
  Point;
  BASE;
  ZERO;
  randomBytes;
  wnafPrecomputes = /* @__PURE__ */ new WeakMap();
  baseCanBeBlinded;
  bits;
  // Parametrized with a given Point class (not individual point)
  constructor(Point, randomBytes7) {
    validatePointCons(Point);
    this.randomBytes = probeRandomBytes(randomBytes7, BLIND_BYTES);
    this.Point = Point;
    this.BASE = Point.BASE;
    this.ZERO = Point.ZERO;
    this.bits = Point.Fn.BITS;
  }
  /**
   * Creates a signed fixed-window wNAF precomputation table: for every window w, the
   * multiples `[1..2^(W−1)]⋅2^(w⋅W)⋅P`, flattened. All doublings are baked into the table,
   * so cached multiplication is additions-only. `windows = ceil(bits/W) + 1`: the extra
   * window absorbs the final carry of signed-digit recoding.
   * For a 256-bit curve and W=6, the table is 44⋅32 = 1408 points.
   * @param point - Point instance
   * @param W - window size
   * @param bits - scalar bitlength the table must cover
   */
  buildWnafTable(point, W, bits) {
    const windows = Math.ceil(bits / W) + 1;
    const half = 2 ** (W - 1);
    const comp = [];
    let base3 = point;
    for (let w = 0; w < windows; w++) {
      let acc = base3;
      for (let i = 0; i < half; i++) {
        comp.push(acc);
        acc = acc.add(base3);
      }
      base3 = comp[comp.length - 1].double();
    }
    return { W, bits, windows, comp };
  }
  /**
   * Implements ec multiplication using precomputed signed fixed-window wNAF tables.
   * Constant-time: fixed window count with one table addition per window — zero digits feed
   * the fake accumulator — and no doublings; the lookup scans the whole window slice.
   * Scalar bounds are validated by the public entry points ({@link ScalarMultiplier.mulCT},
   * {@link ScalarMultiplier.mulCTBlinded}, {@link ScalarMultiplier.mulUnsafe});
   * signedWindowDigits throws if `n` exceeds the table.
   * @returns real and fake (for const-time) points
   */
  wnafCachedCT(precomputes, n) {
    const { W, windows, comp } = precomputes;
    const half = 2 ** (W - 1);
    const digits = signedWindowDigits(n, W, windows);
    let p = this.ZERO;
    let f = this.BASE;
    for (let w = 0; w < windows; w++) {
      const digit = digits[w];
      const start = w * half;
      const idx = Math.abs(digit) - 1;
      let sel = comp[start];
      for (let i = 1; i < half; i++)
        sel = i === idx ? comp[start + i] : sel;
      const neg = sel.negate();
      if (digit === 0)
        f = f.add(comp[start]);
      else
        p = p.add(digit < 0 ? neg : sel);
    }
    return { p, f };
  }
  // Cache key is point identity plus (W, bits); at most two entries exist per point (public-width
  // `Fn.BITS` and blinded `Fn.BITS + BLIND_BITS`). Callers must not reuse the same point with
  // incompatible `transform(...)` layouts and expect a separate cache entry.
  getWnafPrecomputes(W, point, bits, transform) {
    let entries = this.wnafPrecomputes.get(point);
    let comp = entries?.find((entry) => entry.W === W && entry.bits === bits);
    if (!comp) {
      comp = this.buildWnafTable(point, W, bits);
      if (typeof transform === "function")
        comp = { ...comp, comp: transform(comp.comp) };
      if (!entries) {
        entries = [];
        this.wnafPrecomputes.set(point, entries);
      }
      entries.push(comp);
    }
    return comp;
  }
  assertPoint(point) {
    if (!(point instanceof this.Point))
      throw new TypeError('"point" expected Point instance, got type=' + typeof point);
  }
  // Shared prologue of the constant-time entry points. Rejects scalar 0: in key/signature-style
  // callers a zero scalar means broken upstream plumbing, and concrete Points already reject it.
  // Uses inRange instead of Fn.isValidNot0: validateField() only certifies the arithmetic subset.
  validateMulInput(point, scalar) {
    this.assertPoint(point);
    if (!inRange(scalar, _1n3, this.Point.Fn.ORDER))
      throw new Error("invalid scalar");
  }
  // Constant-time dispatch shared by mulCT / mulCTBlinded. Un-precomputed points (W===1, e.g.
  // ECDH peer keys) skip building a throwaway cached table in favor of a small fixed-window
  // multiply. `n` must be < 2^bits.
  runCT(point, n, bits, transform) {
    const W = getWindowSize(point);
    if (W === 1)
      return this.fixedWindowCT(point, n, bits);
    return this.wnafCachedCT(this.getWnafPrecomputes(W, point, bits, transform), n);
  }
  mulCT(point, scalar, transform) {
    this.validateMulInput(point, scalar);
    return this.runCT(point, scalar, this.bits, transform);
  }
  mulCTBlinded(point, scalar, transform) {
    this.validateMulInput(point, scalar);
    if (this.randomBytes === void 0)
      throw new Error("randomBytes is required for scalar blinding");
    const bits = this.Point.Fn.BITS + BLIND_BITS;
    const blind = this.randomBytes(BLIND_BYTES);
    if (!isBytes2(blind) || blind.length !== BLIND_BYTES)
      throw new Error("randomBytes returned invalid byte array");
    blind[0] = blind[0] & 63 | 128;
    const n = scalar + bytesToNumberBE(blind) * this.Point.Fn.ORDER;
    return this.runCT(point, n, bits, transform);
  }
  /**
   * Constant-time multiplication `n*point` for an un-precomputed point, via a small fixed window.
   * A cached wNAF table only pays off when reused; a flat 2^FW_WINDOW table (`size-1` adds) is
   * far cheaper to build for a single use. The point-operation sequence is independent of `n`:
   * build the table, then per window exactly FW_WINDOW doublings, a data-oblivious scan over
   * every table entry, and one addition (adds the identity when the window digit is 0 — never
   * skipped).
   *
   * `n` must be `< 2^bits`. Assumes complete addition (adding the identity costs the same as any
   * add), which holds for the Weierstrass/Edwards point types used here. The table is left in
   * projective form (no normalizeZ): normalizing this small a table costs more than the
   * mixed-add savings it would buy for a single multiply.
   * @returns real point `p`; `f` duplicates it only to match {@link wnafCachedCT}'s return shape
   * (this path needs no fake accumulator — its op-count is already scalar-independent).
   */
  fixedWindowCT(point, n, bits) {
    const W = FW_WINDOW;
    const size = 1 << W;
    const mask = bitMask(W);
    const table = new Array(size);
    table[0] = this.ZERO;
    for (let i = 1; i < size; i++)
      table[i] = table[i - 1].add(point);
    const windows = Math.ceil(bits / W);
    let acc = this.ZERO;
    for (let window = windows - 1; window >= 0; window--) {
      if (window !== windows - 1)
        for (let d = 0; d < W; d++)
          acc = acc.double();
      const digit = Number(n >> BigInt(window * W) & mask);
      let sel = table[0];
      for (let i = 1; i < size; i++)
        sel = i === digit ? table[i] : sel;
      acc = acc.add(sel);
    }
    return { p: acc, f: acc };
  }
  shouldBlind(point, cofactor) {
    if (this.randomBytes === void 0)
      return false;
    if (cofactor === _1n3)
      return true;
    if (point !== this.BASE)
      return false;
    if (this.baseCanBeBlinded === void 0)
      this.baseCanBeBlinded = this.mulUnsafe(this.BASE, this.Point.Fn.ORDER).is0();
    return this.baseCanBeBlinded;
  }
  mulSecret(point, scalar, cofactor, transform) {
    return this.shouldBlind(point, cofactor) ? this.mulCTBlinded(point, scalar, transform) : this.mulCT(point, scalar, transform);
  }
  mulUnsafe(point, scalar, transform) {
    this.assertPoint(point);
    if (!isPosBig(scalar))
      throw new Error("invalid scalar");
    const W = getWindowSize(point);
    if (W === 1 || scalar >= this.Point.Fn.ORDER)
      return mulAddUnsafe(this.Point, [point], [scalar], true);
    const precomputes = this.getWnafPrecomputes(W, point, this.bits, transform);
    return this.wnafCachedCT(precomputes, scalar).p;
  }
  // Remembers the window size used for precomputed wNAF multiplication of the given point
  // and drops any previously built tables. Usually only the base point is precomputed.
  // W=1 resets the point to the un-precomputed (table-less) paths.
  // W is additionally capped so tables stay under ~2 GiB ({@link TABLE_BYTES_MAX}).
  setWindowSize(point, W) {
    this.assertPoint(point);
    validateW(W, this.bits);
    const windows = Math.ceil((this.bits + BLIND_BITS) / W) + 1;
    validateTableBytes(windows * 2 ** (W - 1), this.Point.Fp.BYTES);
    pointWindowSizes.set(point, W);
    this.wnafPrecomputes.delete(point);
  }
  // True when a window size is set: tables themselves are built lazily on first multiply.
  hasWindowSize(point) {
    return getWindowSize(point) !== 1;
  }
};
function mulAddUnsafe(c, points, scalars, allowOversized = false) {
  validatePointCons(c);
  validateMSMPoints(points, c);
  abool(allowOversized, "allowOversized");
  validateMSMScalars(scalars, c.Fn, allowOversized ? c.Fn.ORDER ** _4n2 : void 0);
  if (points.length !== scalars.length)
    throw new Error("arrays of points and scalars must have equal length");
  const tables = points.map((p) => oddMultiples(p, 4));
  const digits = scalars.map((n) => wnafDigits(n, 4));
  return wnafWalk(c.ZERO, tables, digits);
}
function createField(order, field, isLE) {
  if (field) {
    if (field.ORDER !== order)
      throw new Error("Field.ORDER must match order: Fp == p, Fn == n");
    validateField(field);
    return field;
  } else {
    return Field(order, { isLE });
  }
}
function createCurveFields(type, CURVE, curveOpts = {}, FpFnLE) {
  if (type !== "weierstrass" && type !== "edwards")
    throw new Error('expected curve type "weierstrass" or "edwards"');
  if (FpFnLE === void 0)
    FpFnLE = type === "edwards";
  if (!CURVE || typeof CURVE !== "object")
    throw new Error(`expected valid ${type} CURVE object`);
  validateObject(curveOpts);
  for (const p of ["p", "n", "h"]) {
    const val = CURVE[p];
    if (!(isPosBig(val) && val !== _0n3))
      throw new Error(`CURVE.${p} must be positive bigint`);
  }
  const Fp2 = createField(CURVE.p, curveOpts.Fp, FpFnLE);
  const Fn = createField(CURVE.n, curveOpts.Fn, FpFnLE);
  const _b = type === "weierstrass" ? "b" : "d";
  const params = ["Gx", "Gy", "a", _b];
  for (const p of params) {
    if (!Fp2.isValid(CURVE[p]))
      throw new Error(`CURVE.${p} must be valid field element of CURVE.Fp`);
  }
  CURVE = Object.freeze(Object.assign({}, CURVE));
  return { CURVE, Fp: Fp2, Fn };
}
function createKeygen(randomSecretKey, getPublicKey) {
  return function keygen(seed) {
    const secretKey = randomSecretKey(seed);
    return { secretKey, publicKey: getPublicKey(secretKey) };
  };
}

// node_modules/@noble/curves/abstract/edwards.js
var _0n4 = /* @__PURE__ */ BigInt(0);
var _1n4 = /* @__PURE__ */ BigInt(1);
var _2n2 = /* @__PURE__ */ BigInt(2);
var _4n3 = /* @__PURE__ */ BigInt(4);
var _8n2 = /* @__PURE__ */ BigInt(8);
function isEdValidXY(Fp2, CURVE, x, y) {
  const x2 = Fp2.sqr(x);
  const y2 = Fp2.sqr(y);
  const left = Fp2.add(Fp2.mul(CURVE.a, x2), y2);
  const right = Fp2.add(Fp2.ONE, Fp2.mul(CURVE.d, Fp2.mul(x2, y2)));
  return Fp2.eql(left, right);
}
function edwards(params, extraOpts = {}) {
  validateObject(extraOpts, {}, {}, "extraOpts");
  const opts = extraOpts;
  const validated = createCurveFields("edwards", params, opts, opts.FpFnLE);
  const { Fp: Fp2, Fn } = validated;
  let CURVE = validated.CURVE;
  const { h: cofactor } = CURVE;
  if (FpLegendre(Fp2, CURVE.a) !== 1)
    throw new Error("edwards: CURVE.a must be a square in Fp for complete addition formulas");
  if (FpLegendre(Fp2, CURVE.d) !== -1)
    throw new Error("edwards: CURVE.d must be a non-square in Fp for complete addition formulas");
  validateObject(opts, {}, { uvRatio: "function", randomBytes: "function" });
  const randomBytes7 = opts.randomBytes === void 0 ? randomBytes4 : opts.randomBytes;
  const MASK = _2n2 << BigInt(Fp2.BYTES * 8) - _1n4;
  function isOdd(n) {
    if (!Fp2.isOdd)
      throw new Error("Field does not have .isOdd()");
    return Fp2.isOdd(n);
  }
  const uvRatio2 = opts.uvRatio === void 0 ? (u, v) => {
    try {
      return { isValid: true, value: Fp2.sqrt(Fp2.div(u, v)) };
    } catch (e) {
      return { isValid: false, value: _0n4 };
    }
  } : opts.uvRatio;
  if (!isEdValidXY(Fp2, CURVE, CURVE.Gx, CURVE.Gy))
    throw new Error("bad curve params: generator point");
  const mulA = Fp2.eql(CURVE.a, Fp2.neg(Fp2.ONE)) ? (x) => Fp2.neg(x) : Fp2.eql(CURVE.a, Fp2.ONE) ? (x) => x : (x) => Fp2.mul(CURVE.a, x);
  function acoord(title, n, banZero = false) {
    const min = banZero ? _1n4 : _0n4;
    aInRange("coordinate " + title, n, min, MASK);
    return n;
  }
  function aedpoint(other) {
    if (!(other instanceof Point))
      throw new Error("EdwardsPoint expected");
  }
  class Point {
    static BASE = new Point(CURVE.Gx, CURVE.Gy, Fp2.ONE, Fp2.mul(CURVE.Gx, CURVE.Gy));
    static ZERO = new Point(Fp2.ZERO, Fp2.ONE, Fp2.ONE, Fp2.ZERO);
    static Fp = Fp2;
    static Fn = Fn;
    X;
    Y;
    Z;
    T;
    constructor(X, Y, Z, T) {
      this.X = acoord("x", X);
      this.Y = acoord("y", Y);
      this.Z = acoord("z", Z, true);
      this.T = acoord("t", T);
      Object.freeze(this);
    }
    static CURVE() {
      return CURVE;
    }
    /**
     * Create one extended Edwards point from affine coordinates.
     * Does NOT validate that the point is on-curve or torsion-free.
     * Use `.assertValidity()` on adversarial inputs.
     */
    static fromAffine(p) {
      if (p instanceof Point)
        throw new Error("extended point not allowed");
      const { x, y } = p || {};
      acoord("x", x);
      acoord("y", y);
      return new Point(x, y, Fp2.ONE, Fp2.mul(x, y));
    }
    // Uses algo from RFC8032 5.1.3.
    static fromBytes(bytes, zip215 = false) {
      const len = Fp2.BYTES;
      const { a, d } = CURVE;
      bytes = copyBytes(abytes2(bytes, len, "point"));
      abool(zip215, "zip215");
      const normed = copyBytes(bytes);
      const lastByte = bytes[len - 1];
      normed[len - 1] = lastByte & ~128;
      const y = bytesToNumberLE(normed);
      const max = zip215 ? MASK : Fp2.ORDER;
      aInRange("point.y", y, _0n4, max);
      const y2 = Fp2.sqr(y);
      const u = Fp2.sub(y2, Fp2.ONE);
      const v = Fp2.sub(Fp2.mulN(d, y2), a);
      let { isValid, value: x } = uvRatio2(u, v);
      if (!isValid)
        throw new Error("bad point: invalid y coordinate");
      const isXOdd = isOdd(x);
      const isLastByteOdd = (lastByte & 128) !== 0;
      if (!zip215 && Fp2.is0(x) && isLastByteOdd)
        throw new Error("bad point: x=0 and x_0=1");
      if (isLastByteOdd !== isXOdd)
        x = Fp2.neg(x);
      return Point.fromAffine({ x, y });
    }
    static fromHex(hex, zip215 = false) {
      return Point.fromBytes(hexToBytes2(hex), zip215);
    }
    get x() {
      return this.toAffine().x;
    }
    get y() {
      return this.toAffine().y;
    }
    precompute(windowSize = 6, isLazy = true) {
      wnaf.setWindowSize(this, windowSize);
      if (!isLazy)
        this.multiply(_2n2);
      return this;
    }
    // Useful in fromAffine() - not for fromBytes(), which always created valid points.
    assertValidity() {
      const p = this;
      const { a, d } = CURVE;
      if (p.is0())
        throw new Error("bad point: ZERO");
      const { X, Y, Z, T } = p;
      const X2 = Fp2.sqr(X);
      const Y2 = Fp2.sqr(Y);
      const Z2 = Fp2.sqr(Z);
      const Z4 = Fp2.sqr(Z2);
      const aX2 = Fp2.mul(X2, a);
      const left = Fp2.mul(Fp2.add(aX2, Y2), Z2);
      const right = Fp2.add(Z4, Fp2.mul(d, Fp2.mul(X2, Y2)));
      if (!Fp2.eql(left, right))
        throw new Error("bad point: equation left != right (1)");
      const XY = Fp2.mul(X, Y);
      const ZT = Fp2.mul(Z, T);
      if (!Fp2.eql(XY, ZT))
        throw new Error("bad point: equation left != right (2)");
    }
    // Compare one point to another.
    equals(other) {
      aedpoint(other);
      const { X: X1, Y: Y1, Z: Z1 } = this;
      const { X: X2, Y: Y2, Z: Z2 } = other;
      const X1Z2 = Fp2.mul(X1, Z2);
      const X2Z1 = Fp2.mul(X2, Z1);
      const Y1Z2 = Fp2.mul(Y1, Z2);
      const Y2Z1 = Fp2.mul(Y2, Z1);
      return Fp2.eql(X1Z2, X2Z1) && Fp2.eql(Y1Z2, Y2Z1);
    }
    is0() {
      return this.equals(Point.ZERO);
    }
    negate() {
      return new Point(Fp2.neg(this.X), this.Y, this.Z, Fp2.neg(this.T));
    }
    // Fast algo for doubling Extended Point.
    // https://hyperelliptic.org/EFD/g1p/auto-twisted-extended.html#doubling-dbl-2008-hwcd
    // Cost: 4M + 4S + 1*a + 6add + 1*2.
    double() {
      const { X: X1, Y: Y1, Z: Z1 } = this;
      const A = Fp2.sqr(X1);
      const B = Fp2.sqr(Y1);
      const C = Fp2.mul(Fp2.sqr(Z1), _2n2);
      const D = mulA(A);
      const x1y1 = Fp2.addN(X1, Y1);
      const E = Fp2.sub(Fp2.subN(Fp2.sqr(x1y1), A), B);
      const G = Fp2.addN(D, B);
      const F = Fp2.subN(G, C);
      const H = Fp2.subN(D, B);
      const X3 = Fp2.mul(E, F);
      const Y3 = Fp2.mul(G, H);
      const T3 = Fp2.mul(E, H);
      const Z3 = Fp2.mul(F, G);
      return new Point(X3, Y3, Z3, T3);
    }
    // Fast algo for adding 2 Extended Points.
    // https://hyperelliptic.org/EFD/g1p/auto-twisted-extended.html#addition-add-2008-hwcd
    // Cost: 9M + 1*a + 1*d + 7add.
    add(other) {
      aedpoint(other);
      const { d } = CURVE;
      const { X: X1, Y: Y1, Z: Z1, T: T1 } = this;
      const { X: X2, Y: Y2, Z: Z2, T: T2 } = other;
      const A = Fp2.mul(X1, X2);
      const B = Fp2.mul(Y1, Y2);
      const C = Fp2.mul(Fp2.mulN(T1, d), T2);
      const D = Fp2.mul(Z1, Z2);
      const E = Fp2.sub(Fp2.subN(Fp2.mulN(Fp2.addN(X1, Y1), Fp2.addN(X2, Y2)), A), B);
      const F = Fp2.subN(D, C);
      const G = Fp2.addN(D, C);
      const H = Fp2.sub(B, mulA(A));
      const X3 = Fp2.mul(E, F);
      const Y3 = Fp2.mul(G, H);
      const T3 = Fp2.mul(E, H);
      const Z3 = Fp2.mul(F, G);
      return new Point(X3, Y3, Z3, T3);
    }
    subtract(other) {
      aedpoint(other);
      return this.add(other.negate());
    }
    // Constant-time multiplication.
    multiply(scalar) {
      if (!Fn.isValidNot0(scalar))
        throw new RangeError("invalid scalar: expected 1 <= sc < curve.n");
      const { p, f } = wnaf.mulSecret(this, scalar, cofactor, normalize);
      return normalize([p, f])[0];
    }
    // Non-constant-time multiplication. Uses double-and-add algorithm.
    // It's faster, but should only be used when you don't care about
    // an exposed private key e.g. sig verification.
    // Keeps the same subgroup-scalar contract: 0 is allowed for public-scalar callers, but
    // n and larger values are rejected instead of being reduced mod n to the identity point.
    multiplyUnsafe(scalar) {
      if (!Fn.isValid(scalar))
        throw new RangeError("invalid scalar: expected 0 <= sc < curve.n");
      if (scalar === _0n4)
        return Point.ZERO;
      if (this.is0() || scalar === _1n4)
        return this;
      return wnaf.mulUnsafe(this, scalar, normalize);
    }
    // Checks if point is of small order.
    // If you add something to small order point, you will have "dirty"
    // point with torsion component.
    // Clears cofactor and checks if the result is 0.
    isSmallOrder() {
      return this.clearCofactor().is0();
    }
    // Multiplies point by curve order and checks if the result is 0.
    // Returns `false` is the point is dirty.
    isTorsionFree() {
      return wnaf.mulUnsafe(this, CURVE.n).is0();
    }
    // Converts Extended point to default (x, y) coordinates.
    // Can accept precomputed Z^-1 - for example, from invertBatch.
    toAffine(invertedZ) {
      const p = this;
      let iz = invertedZ;
      if (iz != null && typeof iz !== "bigint")
        throw new TypeError('"invertedZ" expected bigint, got type=' + typeof iz);
      const { X, Y, Z } = p;
      const is0 = p.is0();
      if (iz == null)
        iz = is0 ? Fp2.create(_8n2) : Fp2.inv(Z);
      const x = Fp2.mul(X, iz);
      const y = Fp2.mul(Y, iz);
      const zz = Fp2.mul(Z, iz);
      if (is0)
        return { x: Fp2.ZERO, y: Fp2.ONE };
      if (!Fp2.eql(zz, Fp2.ONE))
        throw new Error("invZ was invalid");
      return { x, y };
    }
    clearCofactor() {
      if (cofactor === _1n4)
        return this;
      if (cofactor === _2n2)
        return this.double();
      if (cofactor === _4n3)
        return this.double().double();
      if (cofactor === _8n2)
        return this.double().double().double();
      return this.multiplyUnsafe(cofactor);
    }
    toBytes() {
      const { x, y } = this.toAffine();
      const bytes = Fp2.toBytes(y);
      bytes[bytes.length - 1] |= isOdd(x) ? 128 : 0;
      return bytes;
    }
    toHex() {
      return bytesToHex2(this.toBytes());
    }
    toString() {
      return `<Point ${this.is0() ? "ZERO" : this.toHex()}>`;
    }
  }
  const normalize = (points) => normalizeZ(Point, points);
  const wnaf = new ScalarMultiplier(Point, randomBytes7);
  if (wnaf.bits >= 6)
    Point.BASE.precompute(6);
  Object.freeze(Point.prototype);
  Object.freeze(Point);
  return Point;
}
function eddsa(Point, cHash, eddsaOpts = {}) {
  validatePointCons(Point);
  if (typeof cHash !== "function")
    throw new Error('"hash" function param is required');
  const hash = cHash;
  const opts = eddsaOpts;
  validateObject(opts, {}, {
    adjustScalarBytes: "function",
    randomBytes: "function",
    domain: "function",
    prehash: "function",
    zip215: "boolean",
    mapToCurve: "function",
    toMontgomery: "function",
    toMontgomerySecret: "function"
  });
  const { prehash } = opts;
  const { BASE, Fp: Fp2, Fn } = Point;
  const outputLen = hash.outputLen;
  const expectedLen = 2 * Fp2.BYTES;
  if (outputLen !== void 0) {
    asafenumber(outputLen, "hash.outputLen");
    if (outputLen !== expectedLen)
      throw new Error(`hash.outputLen must be ${expectedLen}, got ${outputLen}`);
  }
  const randomBytes7 = opts.randomBytes === void 0 ? randomBytes4 : opts.randomBytes;
  const toMontgomery2 = opts.toMontgomery;
  const toMontgomerySecret2 = opts.toMontgomerySecret;
  const adjustScalarBytes2 = opts.adjustScalarBytes === void 0 ? (bytes) => bytes : opts.adjustScalarBytes;
  const domain = opts.domain === void 0 ? (data, ctx, phflag) => {
    abool(phflag, "phflag");
    if (ctx.length || phflag)
      throw new Error("Contexts/pre-hash are not supported");
    return data;
  } : opts.domain;
  function modN_LE(hash2) {
    return Fn.create(bytesToNumberLE(hash2));
  }
  function getPrivateScalar(key) {
    const len = lengths.secretKey;
    abytes2(key, lengths.secretKey, "secretKey");
    const hashed = abytes2(hash(key), 2 * len, "hashedSecretKey");
    const head = adjustScalarBytes2(hashed.slice(0, len));
    const prefix = hashed.slice(len, 2 * len);
    const scalar = modN_LE(head);
    return { head, prefix, scalar };
  }
  function getExtendedPublicKey(secretKey) {
    const { head, prefix, scalar } = getPrivateScalar(secretKey);
    const point = BASE.multiply(scalar);
    const pointBytes = point.toBytes();
    return { head, prefix, scalar, point, pointBytes };
  }
  function getPublicKey(secretKey) {
    return getExtendedPublicKey(secretKey).pointBytes;
  }
  function hashDomainToScalar(context = Uint8Array.of(), ...msgs) {
    const msg = concatBytes2(...msgs);
    return modN_LE(hash(domain(msg, abytes2(context, void 0, "context"), !!prehash)));
  }
  function sign(msg, secretKey, options = {}) {
    validateObject(options, {}, {}, "options");
    msg = copyBytes(abytes2(msg, void 0, "message"));
    if (prehash)
      msg = prehash(msg);
    const { prefix, scalar, pointBytes } = getExtendedPublicKey(secretKey);
    const r = hashDomainToScalar(options.context, prefix, msg);
    const R = BASE.multiply(r).toBytes();
    const k = hashDomainToScalar(options.context, R, pointBytes, msg);
    const s = Fn.create(r + k * scalar);
    if (!Fn.isValid(s))
      throw new Error("sign failed: invalid s");
    const rs = concatBytes2(R, Fn.toBytes(s));
    return abytes2(rs, lengths.signature, "result");
  }
  const verifyOpts = {
    zip215: opts.zip215
  };
  function verify(sig, msg, publicKey, options = verifyOpts) {
    validateObject(options);
    const { context } = options;
    const zip215 = options.zip215 === void 0 ? !!verifyOpts.zip215 : options.zip215;
    const len = lengths.signature;
    sig = abytes2(sig, len, "signature");
    msg = abytes2(msg, void 0, "message");
    publicKey = abytes2(publicKey, lengths.publicKey, "publicKey");
    if (zip215 !== void 0)
      abool(zip215, "zip215");
    if (prehash)
      msg = prehash(msg);
    const mid = len / 2;
    const r = sig.subarray(0, mid);
    const s = bytesToNumberLE(sig.subarray(mid, len));
    let A, R, SB;
    try {
      A = Point.fromBytes(publicKey, zip215);
      R = Point.fromBytes(r, zip215);
      SB = BASE.multiplyUnsafe(s);
    } catch (error) {
      return false;
    }
    if (!zip215 && A.isSmallOrder())
      return false;
    const k = hashDomainToScalar(context, r, publicKey, msg);
    const RkA = R.add(A.multiplyUnsafe(k));
    return RkA.subtract(SB).clearCofactor().is0();
  }
  const _size = Fp2.BYTES;
  const lengths = {
    secretKey: _size,
    publicKey: _size,
    signature: 2 * _size,
    seed: _size
  };
  function randomSecretKey(seed) {
    seed = seed === void 0 ? randomBytes7(lengths.seed) : seed;
    return abytes2(seed, lengths.seed, "seed");
  }
  function isValidSecretKey(key) {
    return isBytes2(key) && key.length === lengths.secretKey;
  }
  function isValidPublicKey(key, zip215) {
    try {
      return !!Point.fromBytes(key, zip215 === void 0 ? verifyOpts.zip215 : zip215);
    } catch (error) {
      return false;
    }
  }
  const utils = {
    getExtendedPublicKey,
    randomSecretKey,
    isValidSecretKey,
    isValidPublicKey,
    /** Converts an Edwards public key to a companion Montgomery public key. */
    toMontgomery(publicKey) {
      if (toMontgomery2 === void 0)
        throw new Error("Montgomery conversion is not supported for this curve");
      return toMontgomery2(Point.fromBytes(publicKey));
    },
    toMontgomerySecret(secretKey) {
      if (toMontgomerySecret2 === void 0)
        throw new Error("Montgomery conversion is not supported for this curve");
      return toMontgomerySecret2(secretKey);
    }
  };
  Object.freeze(lengths);
  Object.freeze(utils);
  return Object.freeze({
    keygen: createKeygen(randomSecretKey, getPublicKey),
    getPublicKey,
    sign,
    verify,
    utils,
    Point,
    lengths
  });
}

// node_modules/@noble/curves/ed25519.js
var _1n5 = /* @__PURE__ */ BigInt(1);
var _2n3 = /* @__PURE__ */ BigInt(2);
var _5n2 = /* @__PURE__ */ BigInt(5);
var _8n3 = /* @__PURE__ */ BigInt(8);
var ed25519_CURVE_p = /* @__PURE__ */ BigInt("0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed");
var ed25519_CURVE = /* @__PURE__ */ (() => ({
  p: ed25519_CURVE_p,
  n: BigInt("0x1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed"),
  h: _8n3,
  a: BigInt("0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffec"),
  d: BigInt("0x52036cee2b6ffe738cc740797779e89800700a4d4141d8ab75eb4dca135978a3"),
  Gx: BigInt("0x216936d3cd6e53fec0a4e231fdd6dc5c692cc7609525a7b2c9562d608f25d51a"),
  Gy: BigInt("0x6666666666666666666666666666666666666666666666666666666666666658")
}))();
function ed25519_pow_2_252_3(x) {
  const _10n = BigInt(10), _20n = BigInt(20), _40n = BigInt(40), _80n = BigInt(80);
  const P = ed25519_CURVE_p;
  const x2 = x * x % P;
  const b2 = x2 * x % P;
  const b4 = pow2(b2, _2n3, P) * b2 % P;
  const b5 = pow2(b4, _1n5, P) * x % P;
  const b10 = pow2(b5, _5n2, P) * b5 % P;
  const b20 = pow2(b10, _10n, P) * b10 % P;
  const b40 = pow2(b20, _20n, P) * b20 % P;
  const b80 = pow2(b40, _40n, P) * b40 % P;
  const b160 = pow2(b80, _80n, P) * b80 % P;
  const b240 = pow2(b160, _80n, P) * b80 % P;
  const b250 = pow2(b240, _10n, P) * b10 % P;
  const pow_p_5_8 = pow2(b250, _2n3, P) * x % P;
  return { pow_p_5_8, b2 };
}
function adjustScalarBytes(bytes) {
  bytes[0] &= 248;
  bytes[31] &= 127;
  bytes[31] |= 64;
  return bytes;
}
var ED25519_SQRT_M1 = /* @__PURE__ */ BigInt("19681161376707505956807079304988542015446066515923890162744021073123829784752");
function uvRatio(u, v) {
  const P = ed25519_CURVE_p;
  const v3 = mod(v * v * v, P);
  const v7 = mod(v3 * v3 * v, P);
  const pow3 = ed25519_pow_2_252_3(u * v7).pow_p_5_8;
  let x = mod(u * v3 * pow3, P);
  const vx2 = mod(v * x * x, P);
  const root1 = x;
  const root2 = mod(x * ED25519_SQRT_M1, P);
  const useRoot1 = vx2 === u;
  const useRoot2 = vx2 === mod(-u, P);
  const noRoot = vx2 === mod(-u * ED25519_SQRT_M1, P);
  if (useRoot1)
    x = root1;
  if (useRoot2 || noRoot)
    x = root2;
  if (isNegativeLE(x, P))
    x = mod(-x, P);
  return { isValid: useRoot1 || useRoot2, value: x };
}
var ed25519_Point = /* @__PURE__ */ edwards(ed25519_CURVE, { uvRatio });
var Fp = /* @__PURE__ */ (() => ed25519_Point.Fp)();
function toMontgomery(point) {
  const { y } = point;
  return Fp.toBytes(Fp.div(_1n5 + y, _1n5 - y));
}
function toMontgomerySecret(secretKey) {
  const size = ed25519_Point.Fp.BYTES;
  abytes(secretKey, size);
  return adjustScalarBytes(sha5122(secretKey.subarray(0, size))).subarray(0, size);
}
function ed(opts) {
  return eddsa(ed25519_Point, sha5122, Object.assign({ adjustScalarBytes, toMontgomery, toMontgomerySecret, zip215: true }, opts));
}
var ed25519 = /* @__PURE__ */ ed({});

// node_modules/@libp2p/crypto/dist/src/keys/ed25519/index.js
var keypair = crypto3.generateKeyPairSync;
var PUBLIC_KEY_BYTE_LENGTH = 32;
var PRIVATE_KEY_BYTE_LENGTH = 64;
var KEYS_BYTE_LENGTH = 32;
var SIGNATURE_BYTE_LENGTH = 64;
function derivePublicKey(privateKey) {
  return ed25519.getPublicKey(privateKey);
}
function hashAndSign2(key, msg) {
  if (!(key instanceof Uint8Array)) {
    throw new TypeError('"key" must be a node.js Buffer, or Uint8Array.');
  }
  let privateKey;
  let publicKey;
  if (key.byteLength === PRIVATE_KEY_BYTE_LENGTH) {
    privateKey = key.subarray(0, 32);
    publicKey = key.subarray(32);
  } else if (key.byteLength === KEYS_BYTE_LENGTH) {
    privateKey = key.subarray(0, 32);
    publicKey = derivePublicKey(privateKey);
  } else {
    throw new TypeError('"key" must be 64 or 32 bytes in length.');
  }
  const obj = crypto3.createPrivateKey({
    format: "jwk",
    key: {
      crv: "Ed25519",
      d: toString2(privateKey, "base64url"),
      x: toString2(publicKey, "base64url"),
      kty: "OKP"
    }
  });
  return crypto3.sign(null, msg instanceof Uint8Array ? msg : msg.subarray(), obj);
}
function hashAndVerify2(key, sig, msg) {
  if (key.byteLength !== PUBLIC_KEY_BYTE_LENGTH) {
    throw new TypeError('"key" must be 32 bytes in length.');
  } else if (!(key instanceof Uint8Array)) {
    throw new TypeError('"key" must be a node.js Buffer, or Uint8Array.');
  }
  if (sig.byteLength !== SIGNATURE_BYTE_LENGTH) {
    throw new TypeError('"sig" must be 64 bytes in length.');
  } else if (!(sig instanceof Uint8Array)) {
    throw new TypeError('"sig" must be a node.js Buffer, or Uint8Array.');
  }
  const obj = crypto3.createPublicKey({
    format: "jwk",
    key: {
      crv: "Ed25519",
      x: toString2(key, "base64url"),
      kty: "OKP"
    }
  });
  return crypto3.verify(null, msg instanceof Uint8Array ? msg : msg.subarray(), obj, sig);
}

// node_modules/@libp2p/crypto/dist/src/util.js
function isPromise(thing) {
  if (thing == null) {
    return false;
  }
  return typeof thing.then === "function" && typeof thing.catch === "function" && typeof thing.finally === "function";
}

// node_modules/@libp2p/crypto/dist/src/keys/ed25519/ed25519.js
var Ed25519PublicKey = class {
  type = "Ed25519";
  raw;
  constructor(key) {
    this.raw = ensureEd25519Key(key, PUBLIC_KEY_BYTE_LENGTH);
  }
  toMultihash() {
    return identity2.digest(publicKeyToProtobuf(this));
  }
  toCID() {
    return CID.createV1(114, this.toMultihash());
  }
  toString() {
    return base58btc.encode(this.toMultihash().bytes).substring(1);
  }
  equals(key) {
    if (key == null || !(key.raw instanceof Uint8Array)) {
      return false;
    }
    return equals3(this.raw, key.raw);
  }
  verify(data, sig, options) {
    options?.signal?.throwIfAborted();
    const result = hashAndVerify2(this.raw, sig, data);
    if (isPromise(result)) {
      return result.then((res) => {
        options?.signal?.throwIfAborted();
        return res;
      });
    }
    return result;
  }
};
var Ed25519PrivateKey = class {
  type = "Ed25519";
  raw;
  publicKey;
  // key       - 64 byte Uint8Array containing private key
  // publicKey - 32 byte Uint8Array containing public key
  constructor(key, publicKey) {
    this.raw = ensureEd25519Key(key, PRIVATE_KEY_BYTE_LENGTH);
    this.publicKey = new Ed25519PublicKey(publicKey);
  }
  equals(key) {
    if (key == null || !(key.raw instanceof Uint8Array)) {
      return false;
    }
    return equals3(this.raw, key.raw);
  }
  sign(message2, options) {
    options?.signal?.throwIfAborted();
    const sig = hashAndSign2(this.raw, message2);
    if (isPromise(sig)) {
      return sig.then((res) => {
        options?.signal?.throwIfAborted();
        return res;
      });
    }
    options?.signal?.throwIfAborted();
    return sig;
  }
};

// node_modules/@libp2p/crypto/dist/src/keys/ed25519/utils.js
function unmarshalEd25519PrivateKey(bytes) {
  if (bytes.length > PRIVATE_KEY_BYTE_LENGTH) {
    bytes = ensureEd25519Key(bytes, PRIVATE_KEY_BYTE_LENGTH + PUBLIC_KEY_BYTE_LENGTH);
    const privateKeyBytes2 = bytes.subarray(0, PRIVATE_KEY_BYTE_LENGTH);
    const publicKeyBytes2 = bytes.subarray(PRIVATE_KEY_BYTE_LENGTH, bytes.length);
    return new Ed25519PrivateKey(privateKeyBytes2, publicKeyBytes2);
  }
  bytes = ensureEd25519Key(bytes, PRIVATE_KEY_BYTE_LENGTH);
  const privateKeyBytes = bytes.subarray(0, PRIVATE_KEY_BYTE_LENGTH);
  const publicKeyBytes = bytes.subarray(PUBLIC_KEY_BYTE_LENGTH);
  return new Ed25519PrivateKey(privateKeyBytes, publicKeyBytes);
}
function unmarshalEd25519PublicKey(bytes) {
  bytes = ensureEd25519Key(bytes, PUBLIC_KEY_BYTE_LENGTH);
  return new Ed25519PublicKey(bytes);
}
function ensureEd25519Key(key, length3) {
  key = Uint8Array.from(key ?? []);
  if (key.length !== length3) {
    throw new InvalidParametersError(`Key must be a Uint8Array of length ${length3}, got ${key.length}`);
  }
  return key;
}

// node_modules/@libp2p/crypto/dist/src/keys/keys.js
var KeyType;
(function(KeyType2) {
  KeyType2["RSA"] = "RSA";
  KeyType2["Ed25519"] = "Ed25519";
  KeyType2["secp256k1"] = "secp256k1";
  KeyType2["ECDSA"] = "ECDSA";
})(KeyType || (KeyType = {}));
var __KeyTypeValues;
(function(__KeyTypeValues2) {
  __KeyTypeValues2[__KeyTypeValues2["RSA"] = 0] = "RSA";
  __KeyTypeValues2[__KeyTypeValues2["Ed25519"] = 1] = "Ed25519";
  __KeyTypeValues2[__KeyTypeValues2["secp256k1"] = 2] = "secp256k1";
  __KeyTypeValues2[__KeyTypeValues2["ECDSA"] = 3] = "ECDSA";
})(__KeyTypeValues || (__KeyTypeValues = {}));
(function(KeyType2) {
  KeyType2.codec = () => {
    return enumeration(__KeyTypeValues);
  };
})(KeyType || (KeyType = {}));
var PublicKey;
(function(PublicKey2) {
  let _codec;
  PublicKey2.codec = () => {
    if (_codec == null) {
      _codec = message((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork();
        }
        if (obj.Type != null) {
          w.uint32(8);
          KeyType.codec().encode(obj.Type, w);
        }
        if (obj.Data != null) {
          w.uint32(18);
          w.bytes(obj.Data);
        }
        if (opts.lengthDelimited !== false) {
          w.ldelim();
        }
      }, (reader, length3, opts = {}) => {
        const obj = {};
        const end = length3 == null ? reader.len : reader.pos + length3;
        while (reader.pos < end) {
          const tag = reader.uint32();
          switch (tag >>> 3) {
            case 1: {
              obj.Type = KeyType.codec().decode(reader);
              break;
            }
            case 2: {
              obj.Data = reader.bytes();
              break;
            }
            default: {
              reader.skipType(tag & 7);
              break;
            }
          }
        }
        return obj;
      }, function* (reader, length3, prefix, opts = {}) {
        const end = length3 == null ? reader.len : reader.pos + length3;
        while (reader.pos < end) {
          const tag = reader.uint32();
          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.Type`,
                value: KeyType.codec().decode(reader)
              };
              break;
            }
            case 2: {
              yield {
                field: `${prefix}.Data`,
                value: reader.bytes()
              };
              break;
            }
            default: {
              reader.skipType(tag & 7);
              break;
            }
          }
        }
      });
    }
    return _codec;
  };
  function encode8(obj) {
    return encodeMessage(obj, PublicKey2.codec());
  }
  PublicKey2.encode = encode8;
  function decode10(buf, opts) {
    return decodeMessage(buf, PublicKey2.codec(), opts);
  }
  PublicKey2.decode = decode10;
  function stream(buf, opts) {
    return streamMessage(buf, PublicKey2.codec(), opts);
  }
  PublicKey2.stream = stream;
})(PublicKey || (PublicKey = {}));
var PrivateKey;
(function(PrivateKey2) {
  let _codec;
  PrivateKey2.codec = () => {
    if (_codec == null) {
      _codec = message((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork();
        }
        if (obj.Type != null) {
          w.uint32(8);
          KeyType.codec().encode(obj.Type, w);
        }
        if (obj.Data != null) {
          w.uint32(18);
          w.bytes(obj.Data);
        }
        if (opts.lengthDelimited !== false) {
          w.ldelim();
        }
      }, (reader, length3, opts = {}) => {
        const obj = {};
        const end = length3 == null ? reader.len : reader.pos + length3;
        while (reader.pos < end) {
          const tag = reader.uint32();
          switch (tag >>> 3) {
            case 1: {
              obj.Type = KeyType.codec().decode(reader);
              break;
            }
            case 2: {
              obj.Data = reader.bytes();
              break;
            }
            default: {
              reader.skipType(tag & 7);
              break;
            }
          }
        }
        return obj;
      }, function* (reader, length3, prefix, opts = {}) {
        const end = length3 == null ? reader.len : reader.pos + length3;
        while (reader.pos < end) {
          const tag = reader.uint32();
          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.Type`,
                value: KeyType.codec().decode(reader)
              };
              break;
            }
            case 2: {
              yield {
                field: `${prefix}.Data`,
                value: reader.bytes()
              };
              break;
            }
            default: {
              reader.skipType(tag & 7);
              break;
            }
          }
        }
      });
    }
    return _codec;
  };
  function encode8(obj) {
    return encodeMessage(obj, PrivateKey2.codec());
  }
  PrivateKey2.encode = encode8;
  function decode10(buf, opts) {
    return decodeMessage(buf, PrivateKey2.codec(), opts);
  }
  PrivateKey2.decode = decode10;
  function stream(buf, opts) {
    return streamMessage(buf, PrivateKey2.codec(), opts);
  }
  PrivateKey2.stream = stream;
})(PrivateKey || (PrivateKey = {}));

// node_modules/@libp2p/crypto/dist/src/keys/rsa/index.js
import crypto4 from "node:crypto";
import { promisify } from "node:util";

// node_modules/@libp2p/crypto/dist/src/keys/rsa/utils.js
var utils_exports = {};
__export(utils_exports, {
  MAX_RSA_KEY_SIZE: () => MAX_RSA_KEY_SIZE,
  generateRSAKeyPair: () => generateRSAKeyPair,
  jwkToJWKKeyPair: () => jwkToJWKKeyPair,
  jwkToPkcs1: () => jwkToPkcs1,
  jwkToPkix: () => jwkToPkix,
  jwkToRSAPrivateKey: () => jwkToRSAPrivateKey,
  pkcs1MessageToJwk: () => pkcs1MessageToJwk,
  pkcs1MessageToRSAPrivateKey: () => pkcs1MessageToRSAPrivateKey,
  pkcs1ToJwk: () => pkcs1ToJwk,
  pkcs1ToRSAPrivateKey: () => pkcs1ToRSAPrivateKey,
  pkixMessageToJwk: () => pkixMessageToJwk,
  pkixMessageToRSAPublicKey: () => pkixMessageToRSAPublicKey,
  pkixToJwk: () => pkixToJwk,
  pkixToRSAPublicKey: () => pkixToRSAPublicKey
});

// node_modules/@libp2p/crypto/dist/src/keys/rsa/rsa.js
var RSAPublicKey = class {
  type = "RSA";
  jwk;
  _raw;
  _multihash;
  constructor(jwk, digest2) {
    this.jwk = jwk;
    this._multihash = digest2;
  }
  get raw() {
    if (this._raw == null) {
      this._raw = utils_exports.jwkToPkix(this.jwk);
    }
    return this._raw;
  }
  toMultihash() {
    return this._multihash;
  }
  toCID() {
    return CID.createV1(114, this._multihash);
  }
  toString() {
    return base58btc.encode(this.toMultihash().bytes).substring(1);
  }
  equals(key) {
    if (key == null || !(key.raw instanceof Uint8Array)) {
      return false;
    }
    return equals3(this.raw, key.raw);
  }
  verify(data, sig, options) {
    return hashAndVerify3(this.jwk, sig, data, options);
  }
};
var RSAPrivateKey = class {
  type = "RSA";
  jwk;
  _raw;
  publicKey;
  constructor(jwk, publicKey) {
    this.jwk = jwk;
    this.publicKey = publicKey;
  }
  get raw() {
    if (this._raw == null) {
      this._raw = utils_exports.jwkToPkcs1(this.jwk);
    }
    return this._raw;
  }
  equals(key) {
    if (key == null || !(key.raw instanceof Uint8Array)) {
      return false;
    }
    return equals3(this.raw, key.raw);
  }
  sign(message2, options) {
    return hashAndSign3(this.jwk, message2, options);
  }
};

// node_modules/@libp2p/crypto/dist/src/keys/rsa/utils.js
var MAX_RSA_KEY_SIZE = 8192;
var SHA2_256_CODE = 18;
var MAX_RSA_JWK_SIZE = 1062;
var RSA_ALGORITHM_IDENTIFIER = Uint8Array.from([
  48,
  13,
  6,
  9,
  42,
  134,
  72,
  134,
  247,
  13,
  1,
  1,
  1,
  5,
  0
]);
function pkcs1ToJwk(bytes) {
  const message2 = decodeDer(bytes);
  return pkcs1MessageToJwk(message2);
}
function pkcs1MessageToJwk(message2) {
  return {
    n: toString2(message2[1], "base64url"),
    e: toString2(message2[2], "base64url"),
    d: toString2(message2[3], "base64url"),
    p: toString2(message2[4], "base64url"),
    q: toString2(message2[5], "base64url"),
    dp: toString2(message2[6], "base64url"),
    dq: toString2(message2[7], "base64url"),
    qi: toString2(message2[8], "base64url"),
    kty: "RSA"
  };
}
function jwkToPkcs1(jwk) {
  if (jwk.n == null || jwk.e == null || jwk.d == null || jwk.p == null || jwk.q == null || jwk.dp == null || jwk.dq == null || jwk.qi == null) {
    throw new InvalidParametersError("JWK was missing components");
  }
  return encodeSequence([
    encodeInteger(Uint8Array.from([0])),
    encodeInteger(fromString2(jwk.n, "base64url")),
    encodeInteger(fromString2(jwk.e, "base64url")),
    encodeInteger(fromString2(jwk.d, "base64url")),
    encodeInteger(fromString2(jwk.p, "base64url")),
    encodeInteger(fromString2(jwk.q, "base64url")),
    encodeInteger(fromString2(jwk.dp, "base64url")),
    encodeInteger(fromString2(jwk.dq, "base64url")),
    encodeInteger(fromString2(jwk.qi, "base64url"))
  ]).subarray();
}
function pkixToJwk(bytes) {
  const message2 = decodeDer(bytes, {
    offset: 0
  });
  return pkixMessageToJwk(message2);
}
function pkixMessageToJwk(message2) {
  const keys = decodeDer(message2[1], {
    offset: 0
  });
  return {
    kty: "RSA",
    n: toString2(keys[0], "base64url"),
    e: toString2(keys[1], "base64url")
  };
}
function jwkToPkix(jwk) {
  if (jwk.n == null || jwk.e == null) {
    throw new InvalidParametersError("JWK was missing components");
  }
  const subjectPublicKeyInfo = encodeSequence([
    RSA_ALGORITHM_IDENTIFIER,
    encodeBitString(encodeSequence([
      encodeInteger(fromString2(jwk.n, "base64url")),
      encodeInteger(fromString2(jwk.e, "base64url"))
    ]))
  ]);
  return subjectPublicKeyInfo.subarray();
}
function pkcs1ToRSAPrivateKey(bytes) {
  const message2 = decodeDer(bytes);
  return pkcs1MessageToRSAPrivateKey(message2);
}
function pkcs1MessageToRSAPrivateKey(message2) {
  const jwk = pkcs1MessageToJwk(message2);
  return jwkToRSAPrivateKey(jwk);
}
function pkixToRSAPublicKey(bytes, digest2) {
  if (bytes.byteLength >= MAX_RSA_JWK_SIZE) {
    throw new InvalidPublicKeyError("Key size is too large");
  }
  const message2 = decodeDer(bytes, {
    offset: 0
  });
  return pkixMessageToRSAPublicKey(message2, bytes, digest2);
}
function pkixMessageToRSAPublicKey(message2, bytes, digest2) {
  const jwk = pkixMessageToJwk(message2);
  if (digest2 == null) {
    const hash = sha2562(PublicKey.encode({
      Type: KeyType.RSA,
      Data: bytes
    }));
    digest2 = create(SHA2_256_CODE, hash);
  }
  return new RSAPublicKey(jwk, digest2);
}
function jwkToRSAPrivateKey(jwk) {
  if (rsaKeySize(jwk) > MAX_RSA_KEY_SIZE) {
    throw new InvalidParametersError("Key size is too large");
  }
  const keys = jwkToJWKKeyPair(jwk);
  const hash = sha2562(PublicKey.encode({
    Type: KeyType.RSA,
    Data: jwkToPkix(keys.publicKey)
  }));
  const digest2 = create(SHA2_256_CODE, hash);
  return new RSAPrivateKey(keys.privateKey, new RSAPublicKey(keys.publicKey, digest2));
}
async function generateRSAKeyPair(bits) {
  if (bits > MAX_RSA_KEY_SIZE) {
    throw new InvalidParametersError("Key size is too large");
  }
  const keys = await generateRSAKey(bits);
  const hash = sha2562(PublicKey.encode({
    Type: KeyType.RSA,
    Data: jwkToPkix(keys.publicKey)
  }));
  const digest2 = create(SHA2_256_CODE, hash);
  return new RSAPrivateKey(keys.privateKey, new RSAPublicKey(keys.publicKey, digest2));
}
function jwkToJWKKeyPair(key) {
  if (key == null) {
    throw new InvalidParametersError("Missing key parameter");
  }
  return {
    privateKey: key,
    publicKey: {
      kty: key.kty,
      n: key.n,
      e: key.e
    }
  };
}

// node_modules/@libp2p/crypto/dist/src/keys/rsa/index.js
var keypair2 = promisify(crypto4.generateKeyPair);
async function generateRSAKey(bits, options) {
  const key = await keypair2("rsa", {
    modulusLength: bits,
    publicKeyEncoding: { type: "pkcs1", format: "jwk" },
    privateKeyEncoding: { type: "pkcs1", format: "jwk" }
  });
  options?.signal?.throwIfAborted();
  return {
    // @ts-expect-error node types are missing jwk as a format
    privateKey: key.privateKey,
    // @ts-expect-error node types are missing jwk as a format
    publicKey: key.publicKey
  };
}
function hashAndSign3(key, msg, options) {
  options?.signal?.throwIfAborted();
  const hash = crypto4.createSign("RSA-SHA256");
  if (msg instanceof Uint8Array) {
    hash.update(msg);
  } else {
    for (const buf of msg) {
      hash.update(buf);
    }
  }
  return hash.sign({ format: "jwk", key });
}
function hashAndVerify3(key, sig, msg, options) {
  options?.signal?.throwIfAborted();
  const hash = crypto4.createVerify("RSA-SHA256");
  if (msg instanceof Uint8Array) {
    hash.update(msg);
  } else {
    for (const buf of msg) {
      hash.update(buf);
    }
  }
  return hash.verify({ format: "jwk", key }, sig);
}
function rsaKeySize(jwk) {
  if (jwk.kty !== "RSA") {
    throw new InvalidParametersError("Invalid key type");
  } else if (jwk.n == null) {
    throw new InvalidParametersError("Invalid key modulus");
  }
  const modulus = fromString2(jwk.n, "base64url");
  return modulus.length * 8;
}

// node_modules/@libp2p/crypto/dist/src/keys/secp256k1/index.js
import crypto5 from "node:crypto";

// node_modules/@noble/hashes/hmac.js
var _HMAC = class {
  oHash;
  iHash;
  blockLen;
  outputLen;
  canXOF = false;
  finished = false;
  destroyed = false;
  constructor(hash, key) {
    ahash(hash);
    abytes(key, void 0, "key");
    this.iHash = hash.create();
    if (typeof this.iHash.update !== "function")
      throw new Error("expected Hash instance");
    this.blockLen = this.iHash.blockLen;
    this.outputLen = this.iHash.outputLen;
    const blockLen = this.blockLen;
    const pad = new Uint8Array(blockLen);
    pad.set(key.length > blockLen ? hash.create().update(key).digest() : key);
    for (let i = 0; i < pad.length; i++)
      pad[i] ^= 54;
    this.iHash.update(pad);
    this.oHash = hash.create();
    for (let i = 0; i < pad.length; i++)
      pad[i] ^= 54 ^ 92;
    this.oHash.update(pad);
    clean(pad);
  }
  update(buf) {
    aexists(this);
    this.iHash.update(buf);
    return this;
  }
  digestInto(out) {
    aexists(this);
    aoutput(out, this);
    this.finished = true;
    const buf = out.subarray(0, this.outputLen);
    this.iHash.digestInto(buf);
    this.oHash.update(buf);
    this.oHash.digestInto(buf);
    this.destroy();
  }
  digest() {
    const out = new Uint8Array(this.oHash.outputLen);
    this.digestInto(out);
    return out;
  }
  _cloneInto(to) {
    to ||= Object.create(Object.getPrototypeOf(this), {});
    const { oHash, iHash, finished, destroyed, blockLen, outputLen, canXOF } = this;
    to = to;
    to.finished = finished;
    to.destroyed = destroyed;
    to.blockLen = blockLen;
    to.outputLen = outputLen;
    to.canXOF = canXOF;
    to.oHash = oHash._cloneInto(to.oHash);
    to.iHash = iHash._cloneInto(to.iHash);
    return to;
  }
  clone() {
    return this._cloneInto();
  }
  destroy() {
    this.destroyed = true;
    this.oHash.destroy();
    this.iHash.destroy();
  }
};
var hmac = /* @__PURE__ */ (() => {
  const hmac_ = ((hash, key, message2) => new _HMAC(hash, key).update(message2).digest());
  hmac_.create = (hash, key) => new _HMAC(hash, key);
  return hmac_;
})();

// node_modules/@noble/curves/abstract/der.js
var _0n5 = /* @__PURE__ */ BigInt(0);
var DERErr = class extends Error {
  constructor(m = "") {
    super(m);
  }
};
var _DER = {
  // asn.1 DER encoding utils
  Err: DERErr,
  // Basic building block is TLV (Tag-Length-Value)
  _tlv: {
    encode: (tag, data) => {
      const { Err: E } = _DER;
      asafenumber(tag, "tag");
      if (tag < 0 || tag > 255)
        throw new E("tlv.encode: wrong tag");
      astring(data, "data");
      if (data.length & 1)
        throw new E("tlv.encode: unpadded data");
      const dataLen = data.length / 2;
      const len = numberToHexUnpadded(dataLen);
      if (len.length / 2 & 128)
        throw new E("tlv.encode: long form length too big");
      const lenLen = dataLen > 127 ? numberToHexUnpadded(len.length / 2 | 128) : "";
      const t = numberToHexUnpadded(tag);
      return t + lenLen + len + data;
    },
    // v - value, l - left bytes (unparsed)
    decode(tag, data) {
      const { Err: E } = _DER;
      data = abytes2(data, void 0, "DER data");
      let pos = 0;
      if (tag < 0 || tag > 255)
        throw new E("tlv.decode: wrong tag");
      if (data.length < 2 || data[pos++] !== tag)
        throw new E("tlv.decode: wrong tlv");
      const first = data[pos++];
      const isLong = !!(first & 128);
      let length3 = 0;
      if (!isLong)
        length3 = first;
      else {
        const lenLen = first & 127;
        if (!lenLen)
          throw new E("tlv.decode(long): indefinite length not supported");
        if (lenLen > 4)
          throw new E("tlv.decode(long): byte length is too big");
        const lengthBytes = data.subarray(pos, pos + lenLen);
        if (lengthBytes.length !== lenLen)
          throw new E("tlv.decode: length bytes not complete");
        if (lengthBytes[0] === 0)
          throw new E("tlv.decode(long): zero leftmost byte");
        for (const b of lengthBytes)
          length3 = length3 << 8 | b;
        pos += lenLen;
        if (length3 < 128)
          throw new E("tlv.decode(long): not minimal encoding");
      }
      const v = data.subarray(pos, pos + length3);
      if (v.length !== length3)
        throw new E("tlv.decode: wrong value length");
      return { v, l: data.subarray(pos + length3) };
    }
  },
  // https://crypto.stackexchange.com/a/57734 Leftmost bit of first byte is 'negative' flag,
  // since we always use positive integers here. It must always be empty:
  // - add zero byte if exists
  // - if next byte doesn't have a flag, leading zero is not allowed (minimal encoding)
  _int: {
    encode(num) {
      const { Err: E } = _DER;
      abignumber(num);
      if (num < _0n5)
        throw new E("integer: negative integers are not allowed");
      let hex = numberToHexUnpadded(num);
      if (Number.parseInt(hex[0], 16) & 8)
        hex = "00" + hex;
      if (hex.length & 1)
        throw new E("unexpected DER parsing assertion: unpadded hex");
      return hex;
    },
    decode(data) {
      const { Err: E } = _DER;
      if (data.length < 1)
        throw new E("invalid signature integer: empty");
      if (data[0] & 128)
        throw new E("invalid signature integer: negative");
      if (data.length > 1 && data[0] === 0 && !(data[1] & 128))
        throw new E("invalid signature integer: unnecessary leading zero");
      return bytesToNumberBE(data);
    }
  },
  toSig(bytes, maxScalarBytes) {
    const { Err: E, _int: int, _tlv: tlv } = _DER;
    if (maxScalarBytes !== void 0) {
      asafenumber(maxScalarBytes, "maxScalarBytes");
      if (maxScalarBytes < 1)
        throw new E("invalid signature: maxScalarBytes must be positive");
    }
    const data = abytes2(bytes, void 0, "signature");
    const { v: seqBytes, l: seqLeftBytes } = tlv.decode(48, data);
    if (seqLeftBytes.length)
      throw new E("invalid signature: left bytes after parsing");
    const { v: rBytes, l: rLeftBytes } = tlv.decode(2, seqBytes);
    const { v: sBytes, l: sLeftBytes } = tlv.decode(2, rLeftBytes);
    if (sLeftBytes.length)
      throw new E("invalid signature: left bytes after parsing");
    if (maxScalarBytes !== void 0 && (rBytes.length > maxScalarBytes || sBytes.length > maxScalarBytes))
      throw new E("invalid signature: integer too large");
    return { r: int.decode(rBytes), s: int.decode(sBytes) };
  },
  hexFromSig(sig) {
    const { _tlv: tlv, _int: int } = _DER;
    validateObject(sig, { r: "bigint", s: "bigint" }, {}, "sig");
    const rs = tlv.encode(2, int.encode(sig.r));
    const ss = tlv.encode(2, int.encode(sig.s));
    const seq = rs + ss;
    return tlv.encode(48, seq);
  }
};
var DER = /* @__PURE__ */ (() => {
  Object.freeze(_DER._tlv);
  Object.freeze(_DER._int);
  return Object.freeze(_DER);
})();

// node_modules/@noble/curves/abstract/weierstrass.js
var divNearest = (num, den) => (num + (num >= 0 ? den : -den) / _2n4) / den;
function _splitEndoScalar(k, basis, n) {
  aInRange("scalar", k, _0n6, n);
  const [[a1, b1], [a2, b2]] = basis;
  const c1 = divNearest(b2 * k, n);
  const c2 = divNearest(-b1 * k, n);
  let k1 = k - c1 * a1 - c2 * a2;
  let k2 = -c1 * b1 - c2 * b2;
  const k1neg = k1 < _0n6;
  const k2neg = k2 < _0n6;
  if (k1neg)
    k1 = -k1;
  if (k2neg)
    k2 = -k2;
  const MAX_NUM = bitMask(Math.ceil(bitLen(n) / 2)) + _1n6;
  if (k1 < _0n6 || k1 >= MAX_NUM || k2 < _0n6 || k2 >= MAX_NUM) {
    throw new Error("splitScalar (endomorphism): failed for k");
  }
  return { k1neg, k1, k2neg, k2 };
}
function validateSigFormat(format2) {
  if (!["compact", "recovered", "der"].includes(format2))
    throw new Error('Signature format must be "compact", "recovered", or "der"');
  return format2;
}
function validateSigOpts(opts, def) {
  validateObject(opts);
  const optsn = {};
  for (let optName of Object.keys(def)) {
    optsn[optName] = opts[optName] === void 0 ? def[optName] : opts[optName];
  }
  abool(optsn.lowS, "lowS");
  abool(optsn.prehash, "prehash");
  if (optsn.format !== void 0)
    validateSigFormat(optsn.format);
  return optsn;
}
var _0n6 = /* @__PURE__ */ BigInt(0);
var _1n6 = /* @__PURE__ */ BigInt(1);
var _2n4 = /* @__PURE__ */ BigInt(2);
var _3n2 = /* @__PURE__ */ BigInt(3);
var _4n4 = /* @__PURE__ */ BigInt(4);
function weierstrass(params, extraOpts = {}) {
  const validated = createCurveFields("weierstrass", params, extraOpts);
  const Fp2 = validated.Fp;
  const Fn = validated.Fn;
  let CURVE = validated.CURVE;
  const { h: cofactor, n: CURVE_ORDER } = CURVE;
  validateObject(extraOpts, {}, {
    allowInfinityPoint: "boolean",
    clearCofactor: "function",
    isTorsionFree: "function",
    fromBytes: "function",
    toBytes: "function",
    endo: "object",
    randomBytes: "function"
  });
  const { endo: endoOpts, allowInfinityPoint, clearCofactor, isTorsionFree, fromBytes, toBytes } = extraOpts;
  const randomBytes7 = extraOpts.randomBytes === void 0 ? randomBytes4 : extraOpts.randomBytes;
  if (endoOpts) {
    if (!Fp2.is0(CURVE.a) || typeof endoOpts.beta !== "bigint" || !Array.isArray(endoOpts.basises)) {
      throw new Error('invalid endo: expected "beta": bigint and "basises": array');
    }
  }
  const endo = endoOpts ? {
    beta: endoOpts.beta,
    basises: endoOpts.basises.map((basis) => [...basis])
  } : void 0;
  const lengths = getWLengths(Fp2, Fn);
  function assertCompressionIsSupported() {
    if (!Fp2.isOdd)
      throw new Error("compression is not supported: Field does not have .isOdd()");
  }
  function pointToBytes(_c, point, isCompressed) {
    if (point.is0()) {
      if (!allowInfinityPoint)
        throw new Error("bad point: ZERO");
      return Uint8Array.of(0);
    }
    const { x, y } = point.toAffine();
    const bx = Fp2.toBytes(x);
    abool(isCompressed, "isCompressed");
    if (isCompressed) {
      assertCompressionIsSupported();
      const hasEvenY = !Fp2.isOdd(y);
      return concatBytes2(pprefix(hasEvenY), bx);
    } else {
      return concatBytes2(Uint8Array.of(4), bx, Fp2.toBytes(y));
    }
  }
  function pointFromBytes(bytes) {
    abytes2(bytes, void 0, "Point");
    const { publicKey: comp, publicKeyUncompressed: uncomp } = lengths;
    const length3 = bytes.length;
    const head = bytes[0];
    const tail = bytes.subarray(1);
    if (allowInfinityPoint && length3 === 1 && head === 0)
      return { x: Fp2.ZERO, y: Fp2.ZERO };
    if (length3 === comp && (head === 2 || head === 3)) {
      const x = Fp2.fromBytes(tail);
      if (!Fp2.isValid(x))
        throw new Error("bad point: is not on curve, wrong x");
      const y2 = weierstrassEquation(x);
      let y;
      try {
        y = Fp2.sqrt(y2);
      } catch (sqrtError) {
        const err = sqrtError instanceof Error ? ": " + sqrtError.message : "";
        throw new Error("bad point: is not on curve, sqrt error" + err);
      }
      assertCompressionIsSupported();
      const evenY = Fp2.isOdd(y);
      const evenH = (head & 1) === 1;
      if (evenH !== evenY)
        y = Fp2.neg(y);
      return { x, y };
    } else if (length3 === uncomp && head === 4) {
      const L = Fp2.BYTES;
      const x = Fp2.fromBytes(tail.subarray(0, L));
      const y = Fp2.fromBytes(tail.subarray(L, L * 2));
      if (!isValidXY(x, y))
        throw new Error("bad point: is not on curve");
      return { x, y };
    } else {
      throw new Error(`bad point: got length ${length3}, expected compressed=${comp} or uncompressed=${uncomp}`);
    }
  }
  const encodePoint = toBytes === void 0 ? pointToBytes : toBytes;
  const decodePoint = fromBytes === void 0 ? pointFromBytes : fromBytes;
  const b3 = Fp2.mul(CURVE.b, _3n2);
  const mulA = Fp2.is0(CURVE.a) ? (_) => Fp2.ZERO : (x) => Fp2.mul(CURVE.a, x);
  function weierstrassEquation(x) {
    const x2 = Fp2.sqr(x);
    const x3 = Fp2.mul(x2, x);
    return Fp2.add(Fp2.add(x3, Fp2.mul(x, CURVE.a)), CURVE.b);
  }
  function isValidXY(x, y) {
    const left = Fp2.sqr(y);
    const right = weierstrassEquation(x);
    return Fp2.eql(left, right);
  }
  if (!isValidXY(CURVE.Gx, CURVE.Gy))
    throw new Error("bad curve params: generator point");
  const _4a3 = Fp2.mul(Fp2.pow(CURVE.a, _3n2), _4n4);
  const _27b2 = Fp2.mul(Fp2.sqr(CURVE.b), BigInt(27));
  if (Fp2.is0(Fp2.add(_4a3, _27b2)))
    throw new Error("bad curve params: a or b");
  function acoord(title, n, banZero = false) {
    if (!Fp2.isValid(n) || banZero && Fp2.is0(n))
      throw new Error(`bad point coordinate ${title}`);
    return typeof n === "object" && n !== null ? Fp2.create(n) : n;
  }
  function aprjpoint(other) {
    if (!(other instanceof Point))
      throw new Error("Weierstrass Point expected");
  }
  function splitEndoScalarN(k) {
    if (!endo || !endo.basises)
      throw new Error("no endo");
    return _splitEndoScalar(k, endo.basises, Fn.ORDER);
  }
  function pushWnafPair(points, scalars, p, k) {
    if (!Fn.isValid(k))
      throw new RangeError("invalid scalar: out of range");
    if (endo) {
      const { k1neg, k1, k2neg, k2 } = splitEndoScalarN(k);
      const psi = new Point(Fp2.mul(p.X, endo.beta), p.Y, p.Z);
      points.push(k1neg ? p.negate() : p, k2neg ? psi.negate() : psi);
      scalars.push(k1, k2);
    } else {
      points.push(p);
      scalars.push(k);
    }
  }
  const validityCache = /* @__PURE__ */ new WeakSet();
  class Point {
    static BASE = new Point(CURVE.Gx, CURVE.Gy, Fp2.ONE);
    static ZERO = new Point(Fp2.ZERO, Fp2.ONE, Fp2.ZERO);
    static Fp = Fp2;
    static Fn = Fn;
    X;
    Y;
    Z;
    /** Does NOT validate if the point is valid. Use `.assertValidity()`. */
    constructor(X, Y, Z) {
      this.X = acoord("x", X);
      this.Y = acoord("y", Y, true);
      this.Z = acoord("z", Z);
      Object.freeze(this);
    }
    static CURVE() {
      return CURVE;
    }
    /** Does NOT validate if the point is valid. Use `.assertValidity()`. */
    static fromAffine(p) {
      const { x, y } = p || {};
      if (!p || !Fp2.isValid(x) || !Fp2.isValid(y))
        throw new Error("invalid affine point");
      if (p instanceof Point)
        throw new Error("projective point not allowed");
      if (Fp2.is0(x) && Fp2.is0(y))
        return Point.ZERO;
      return new Point(x, y, Fp2.ONE);
    }
    static fromBytes(bytes) {
      const P = Point.fromAffine(decodePoint(abytes2(bytes, void 0, "point")));
      P.assertValidity();
      return P;
    }
    static fromHex(hex) {
      return Point.fromBytes(hexToBytes2(hex));
    }
    get x() {
      return this.toAffine().x;
    }
    get y() {
      return this.toAffine().y;
    }
    /**
     * @param isLazy - true will defer table computation until the first multiplication
     */
    precompute(windowSize = 6, isLazy = true) {
      wnaf.setWindowSize(this, windowSize);
      if (!isLazy)
        this.multiply(_3n2);
      return this;
    }
    // TODO: return `this`
    /** A point on curve is valid if it conforms to equation. */
    assertValidity() {
      const p = this;
      if (p.is0()) {
        if (allowInfinityPoint && Fp2.is0(p.X) && Fp2.eql(p.Y, Fp2.ONE) && Fp2.is0(p.Z))
          return;
        throw new Error("bad point: ZERO");
      }
      if (validityCache.has(p))
        return;
      const { x, y } = p.toAffine();
      if (!Fp2.isValid(x) || !Fp2.isValid(y))
        throw new Error("bad point: x or y not field elements");
      if (!isValidXY(x, y))
        throw new Error("bad point: equation left != right");
      if (!p.isTorsionFree())
        throw new Error("bad point: not in prime-order subgroup");
      validityCache.add(p);
    }
    hasEvenY() {
      const { y } = this.toAffine();
      if (!Fp2.isOdd)
        throw new Error("Field doesn't support isOdd");
      return !Fp2.isOdd(y);
    }
    /** Compare one point to another. */
    equals(other) {
      aprjpoint(other);
      const { X: X1, Y: Y1, Z: Z1 } = this;
      const { X: X2, Y: Y2, Z: Z2 } = other;
      const U1 = Fp2.eql(Fp2.mul(X1, Z2), Fp2.mul(X2, Z1));
      const U2 = Fp2.eql(Fp2.mul(Y1, Z2), Fp2.mul(Y2, Z1));
      return U1 && U2;
    }
    /** Flips point to one corresponding to (x, -y) in Affine coordinates. */
    negate() {
      return new Point(this.X, Fp2.neg(this.Y), this.Z);
    }
    // Renes-Costello-Batina exception-free doubling formula.
    // There is 30% faster Jacobian formula, but it is not complete.
    // https://eprint.iacr.org/2015/1060, algorithm 3
    // Cost: 8M + 3S + 3*a + 2*b3 + 15add.
    double() {
      const { X: X1, Y: Y1, Z: Z1 } = this;
      let X3 = Fp2.ZERO, Y3 = Fp2.ZERO, Z3 = Fp2.ZERO;
      let t0 = Fp2.mul(X1, X1);
      let t1 = Fp2.mul(Y1, Y1);
      let t2 = Fp2.mul(Z1, Z1);
      let t3 = Fp2.mul(X1, Y1);
      t3 = Fp2.add(t3, t3);
      Z3 = Fp2.mul(X1, Z1);
      Z3 = Fp2.add(Z3, Z3);
      X3 = mulA(Z3);
      Y3 = Fp2.mul(b3, t2);
      Y3 = Fp2.add(X3, Y3);
      X3 = Fp2.sub(t1, Y3);
      Y3 = Fp2.add(t1, Y3);
      Y3 = Fp2.mul(X3, Y3);
      X3 = Fp2.mul(t3, X3);
      Z3 = Fp2.mul(b3, Z3);
      t2 = mulA(t2);
      t3 = Fp2.sub(t0, t2);
      t3 = mulA(t3);
      t3 = Fp2.add(t3, Z3);
      Z3 = Fp2.add(t0, t0);
      t0 = Fp2.add(Z3, t0);
      t0 = Fp2.add(t0, t2);
      t0 = Fp2.mul(t0, t3);
      Y3 = Fp2.add(Y3, t0);
      t2 = Fp2.mul(Y1, Z1);
      t2 = Fp2.add(t2, t2);
      t0 = Fp2.mul(t2, t3);
      X3 = Fp2.sub(X3, t0);
      Z3 = Fp2.mul(t2, t1);
      Z3 = Fp2.add(Z3, Z3);
      Z3 = Fp2.add(Z3, Z3);
      return new Point(X3, Y3, Z3);
    }
    // Renes-Costello-Batina exception-free addition formula.
    // There is 30% faster Jacobian formula, but it is not complete.
    // https://eprint.iacr.org/2015/1060, algorithm 1
    // Cost: 12M + 0S + 3*a + 3*b3 + 23add.
    add(other) {
      aprjpoint(other);
      const { X: X1, Y: Y1, Z: Z1 } = this;
      const { X: X2, Y: Y2, Z: Z2 } = other;
      let X3 = Fp2.ZERO, Y3 = Fp2.ZERO, Z3 = Fp2.ZERO;
      let t0 = Fp2.mul(X1, X2);
      let t1 = Fp2.mul(Y1, Y2);
      let t2 = Fp2.mul(Z1, Z2);
      let t3 = Fp2.add(X1, Y1);
      let t4 = Fp2.add(X2, Y2);
      t3 = Fp2.mul(t3, t4);
      t4 = Fp2.add(t0, t1);
      t3 = Fp2.sub(t3, t4);
      t4 = Fp2.add(X1, Z1);
      let t5 = Fp2.add(X2, Z2);
      t4 = Fp2.mul(t4, t5);
      t5 = Fp2.add(t0, t2);
      t4 = Fp2.sub(t4, t5);
      t5 = Fp2.add(Y1, Z1);
      X3 = Fp2.add(Y2, Z2);
      t5 = Fp2.mul(t5, X3);
      X3 = Fp2.add(t1, t2);
      t5 = Fp2.sub(t5, X3);
      Z3 = mulA(t4);
      X3 = Fp2.mul(b3, t2);
      Z3 = Fp2.add(X3, Z3);
      X3 = Fp2.sub(t1, Z3);
      Z3 = Fp2.add(t1, Z3);
      Y3 = Fp2.mul(X3, Z3);
      t1 = Fp2.add(t0, t0);
      t1 = Fp2.add(t1, t0);
      t2 = mulA(t2);
      t4 = Fp2.mul(b3, t4);
      t1 = Fp2.add(t1, t2);
      t2 = Fp2.sub(t0, t2);
      t2 = mulA(t2);
      t4 = Fp2.add(t4, t2);
      t0 = Fp2.mul(t1, t4);
      Y3 = Fp2.add(Y3, t0);
      t0 = Fp2.mul(t5, t4);
      X3 = Fp2.mul(t3, X3);
      X3 = Fp2.sub(X3, t0);
      t0 = Fp2.mul(t3, t1);
      Z3 = Fp2.mul(t5, Z3);
      Z3 = Fp2.add(Z3, t0);
      return new Point(X3, Y3, Z3);
    }
    subtract(other) {
      aprjpoint(other);
      return this.add(other.negate());
    }
    is0() {
      return this.equals(Point.ZERO);
    }
    /**
     * Constant time multiplication.
     * Uses precomputed tables (signed fixed-window wNAF) when available.
     * Uses scalar blinding and avoids endomorphism splitting in the secret-scalar path.
     * @param scalar - by which the point would be multiplied
     * @returns New point
     */
    multiply(scalar) {
      if (!Fn.isValidNot0(scalar))
        throw new RangeError("invalid scalar: out of range");
      const { p, f } = wnaf.mulSecret(this, scalar, cofactor, normalize);
      return normalize([p, f])[0];
    }
    /**
     * Non-constant-time multiplication. Uses width-4 wNAF with GLV endomorphism splitting
     * when available (two half-width scalars sharing one halved doubling chain).
     * It's faster, but should only be used when you don't care about
     * an exposed secret key e.g. sig verification, which works over *public* keys.
     */
    multiplyUnsafe(scalar) {
      const p = this;
      const sc = scalar;
      if (!Fn.isValid(sc))
        throw new RangeError("invalid scalar: out of range");
      if (sc === _0n6 || p.is0())
        return Point.ZERO;
      if (sc === _1n6)
        return p;
      if (wnaf.hasWindowSize(this))
        return wnaf.mulUnsafe(p, sc, normalize);
      const points = [];
      const scalars = [];
      pushWnafPair(points, scalars, p, sc);
      return mulAddUnsafe(Point, points, scalars);
    }
    /**
     * Non-constant-time double-scalar multiplication `a⋅this + b⋅other` (Strauss–Shamir).
     * Both walks share one doubling chain via {@link mulAddUnsafe}, and GLV endomorphism
     * (when available) halves the chain again by splitting each scalar into two half-width
     * parts. Used by ECDSA verification and public-key recovery for `R = u1⋅G + u2⋅P`.
     * Only for public scalars.
     */
    mulAddUnsafe(a, other, b) {
      aprjpoint(other);
      const points = [];
      const scalars = [];
      pushWnafPair(points, scalars, this, a);
      pushWnafPair(points, scalars, other, b);
      return mulAddUnsafe(Point, points, scalars);
    }
    /**
     * Converts Projective point to affine (x, y) coordinates.
     * (X, Y, Z) ∋ (x=X/Z, y=Y/Z).
     * @param invertedZ - Z^-1 (inverted zero) - optional, precomputation is useful for invertBatch
     */
    toAffine(invertedZ) {
      const p = this;
      let iz = invertedZ;
      if (iz != null && !Fp2.isValid(iz))
        throw new RangeError('"invertedZ" expected valid field element');
      const { X, Y, Z } = p;
      if (Fp2.eql(Z, Fp2.ONE))
        return { x: X, y: Y };
      const is0 = p.is0();
      if (iz == null)
        iz = is0 ? Fp2.ONE : Fp2.inv(Z);
      const x = Fp2.mul(X, iz);
      const y = Fp2.mul(Y, iz);
      const zz = Fp2.mul(Z, iz);
      if (is0)
        return { x: Fp2.ZERO, y: Fp2.ZERO };
      if (!Fp2.eql(zz, Fp2.ONE))
        throw new Error("invZ was invalid");
      return { x, y };
    }
    /**
     * Checks whether Point is free of torsion elements (is in prime subgroup).
     * Always torsion-free for cofactor=1 curves.
     */
    isTorsionFree() {
      if (cofactor === _1n6)
        return true;
      if (isTorsionFree)
        return isTorsionFree(Point, this);
      return wnaf.mulUnsafe(this, CURVE_ORDER).is0();
    }
    clearCofactor() {
      if (cofactor === _1n6)
        return this;
      if (clearCofactor)
        return clearCofactor(Point, this);
      return this.multiplyUnsafe(cofactor);
    }
    isSmallOrder() {
      if (cofactor === _1n6)
        return this.is0();
      return this.clearCofactor().is0();
    }
    toBytes(isCompressed = true) {
      abool(isCompressed, "isCompressed");
      this.assertValidity();
      return encodePoint(Point, this, isCompressed);
    }
    toHex(isCompressed = true) {
      return bytesToHex2(this.toBytes(isCompressed));
    }
    toString() {
      return `<Point ${this.is0() ? "ZERO" : this.toHex()}>`;
    }
  }
  const normalize = (points) => normalizeZ(Point, points);
  const wnaf = new ScalarMultiplier(Point, randomBytes7);
  if (wnaf.bits >= 6)
    Point.BASE.precompute(6);
  Object.freeze(Point.prototype);
  Object.freeze(Point);
  return Point;
}
function pprefix(hasEvenY) {
  return Uint8Array.of(hasEvenY ? 2 : 3);
}
function getWLengths(Fp2, Fn) {
  return {
    secretKey: Fn.BYTES,
    publicKey: 1 + Fp2.BYTES,
    publicKeyUncompressed: 1 + 2 * Fp2.BYTES,
    publicKeyHasPrefix: true,
    // Raw compact `(r || s)` signature width; DER and recovered signatures use
    // different lengths outside this helper.
    signature: 2 * Fn.BYTES
  };
}
function ecdh(Point, ecdhOpts = {}) {
  validatePointCons(Point);
  const { Fn } = Point;
  const randomBytes_ = ecdhOpts.randomBytes === void 0 ? randomBytes4 : ecdhOpts.randomBytes;
  const lengths = Object.assign(getWLengths(Point.Fp, Fn), {
    seed: Math.max(getMinHashLength(Fn.ORDER), 16)
  });
  function isValidSecretKey(secretKey) {
    try {
      const num = Fn.fromBytes(secretKey);
      return Fn.isValidNot0(num);
    } catch (error) {
      return false;
    }
  }
  function isValidPublicKey(publicKey, isCompressed) {
    const { publicKey: comp, publicKeyUncompressed } = lengths;
    try {
      const l = publicKey.length;
      if (isCompressed === true && l !== comp)
        return false;
      if (isCompressed === false && l !== publicKeyUncompressed)
        return false;
      return !Point.fromBytes(publicKey).is0();
    } catch (error) {
      return false;
    }
  }
  function randomSecretKey(seed) {
    seed = seed === void 0 ? randomBytes_(lengths.seed) : seed;
    return mapHashToField(abytes2(seed, lengths.seed, "seed"), Fn.ORDER);
  }
  function getPublicKey(secretKey, isCompressed = true) {
    return Point.BASE.multiply(Fn.fromBytes(secretKey)).toBytes(isCompressed);
  }
  function isProbPub(item) {
    const { secretKey, publicKey, publicKeyUncompressed } = lengths;
    const allowedLengths = Fn._lengths;
    if (!isBytes2(item))
      return void 0;
    const l = abytes2(item, void 0, "key").length;
    const isPub = l === publicKey || l === publicKeyUncompressed;
    const isSec = l === secretKey || !!allowedLengths?.includes(l);
    if (isPub && isSec)
      return void 0;
    return isPub;
  }
  function getSharedSecret(secretKeyA, publicKeyB, isCompressed = true) {
    if (isProbPub(secretKeyA) === true)
      throw new Error("first arg must be private key");
    if (isProbPub(publicKeyB) === false)
      throw new Error("second arg must be public key");
    const s = Fn.fromBytes(secretKeyA);
    const b = Point.fromBytes(publicKeyB);
    if (b.is0())
      throw new Error("invalid public key: point at infinity");
    return b.multiply(s).toBytes(isCompressed);
  }
  const utils = {
    isValidSecretKey,
    isValidPublicKey,
    randomSecretKey
  };
  const keygen = createKeygen(randomSecretKey, getPublicKey);
  Object.freeze(utils);
  Object.freeze(lengths);
  return Object.freeze({ getPublicKey, getSharedSecret, keygen, Point, utils, lengths });
}
function ecdsa(Point, hash, ecdsaOpts = {}) {
  validatePointCons(Point);
  const hash_ = hash;
  ahash(hash_);
  validateObject(ecdsaOpts, {}, {
    hmac: "function",
    lowS: "boolean",
    randomBytes: "function",
    bits2int: "function",
    bits2int_modN: "function"
  });
  const opts = Object.assign({}, ecdsaOpts);
  const randomBytes7 = opts.randomBytes === void 0 ? randomBytes4 : opts.randomBytes;
  const hmac2 = opts.hmac === void 0 ? (key, msg) => hmac(hash_, key, msg) : opts.hmac;
  const { Fp: Fp2, Fn } = Point;
  const { ORDER: CURVE_ORDER, BITS: fnBits } = Fn;
  const blindLength = getMinHashLength(CURVE_ORDER);
  const csprng = probeRandomBytes(randomBytes7, blindLength);
  const { keygen, getPublicKey, getSharedSecret, utils, lengths } = ecdh(Point, opts);
  const defaultSigOpts = {
    prehash: true,
    lowS: typeof opts.lowS === "boolean" ? opts.lowS : true,
    format: "compact",
    extraEntropy: false
  };
  const hasLargeRecoveryLifts = CURVE_ORDER * _2n4 + _1n6 < Fp2.ORDER;
  function isBiggerThanHalfOrder(number) {
    const HALF = CURVE_ORDER >> _1n6;
    return number > HALF;
  }
  function validateRS(title, num) {
    if (!Fn.isValidNot0(num))
      throw new Error(`invalid signature ${title}: out of range 1..Point.Fn.ORDER`);
    return num;
  }
  function assertFieldSignIsSupported() {
    if (!Fp2.isOdd)
      throw new Error("Field doesn't support isOdd");
  }
  function getRecoveryBit(x, y, r) {
    assertFieldSignIsSupported();
    return (x === r ? 0 : 2) | Number(Fp2.isOdd(y));
  }
  function assertRecoverableCurve() {
    if (hasLargeRecoveryLifts)
      throw new Error('"recovered" sig type is not supported for cofactor >2 curves');
  }
  function validateSigLength(bytes, format2) {
    validateSigFormat(format2);
    const size = lengths.signature;
    const sizer = format2 === "compact" ? size : format2 === "recovered" ? size + 1 : void 0;
    return abytes2(bytes, sizer);
  }
  class Signature {
    r;
    s;
    recovery;
    constructor(r, s, recovery) {
      this.r = validateRS("r", r);
      this.s = validateRS("s", s);
      if (recovery != null) {
        assertRecoverableCurve();
        if (![0, 1, 2, 3].includes(recovery))
          throw new Error("invalid recovery id");
        this.recovery = recovery;
      }
      Object.freeze(this);
    }
    static fromBytes(bytes, format2 = defaultSigOpts.format) {
      validateSigLength(bytes, format2);
      let recid;
      if (format2 === "der") {
        if (bytes.length > 2 * Fn.BYTES + 16)
          throw new DER.Err("invalid signature: DER signature too long");
        const { r: r2, s: s2 } = DER.toSig(abytes2(bytes), Fn.BYTES + 1);
        return new Signature(r2, s2);
      }
      if (format2 === "recovered") {
        recid = bytes[0];
        format2 = "compact";
        bytes = bytes.subarray(1);
      }
      const L = lengths.signature / 2;
      const r = bytes.subarray(0, L);
      const s = bytes.subarray(L, L * 2);
      return new Signature(Fn.fromBytes(r), Fn.fromBytes(s), recid);
    }
    static fromHex(hex, format2) {
      return this.fromBytes(hexToBytes2(hex), format2);
    }
    assertRecovery() {
      const { recovery } = this;
      if (recovery == null)
        throw new Error("invalid recovery id: must be present");
      return recovery;
    }
    addRecoveryBit(recovery) {
      return new Signature(this.r, this.s, recovery);
    }
    // Unlike the top-level helper below, this method expects a digest that has
    // already been hashed to the curve's message representative.
    recoverPublicKey(messageHash) {
      const { r, s } = this;
      const recovery = this.assertRecovery();
      const radj = recovery === 2 || recovery === 3 ? r + CURVE_ORDER : r;
      if (!Fp2.isValid(radj))
        throw new Error("invalid recovery id: sig.r+curve.n != R.x");
      const x = Fp2.toBytes(radj);
      const R = Point.fromBytes(concatBytes2(pprefix((recovery & 1) === 0), x));
      const ir = Fn.inv(radj);
      const h = bits2int_modN(abytes2(messageHash, void 0, "msgHash"));
      const u1 = Fn.create(-h * ir);
      const u2 = Fn.create(s * ir);
      const Q = Point.BASE.mulAddUnsafe(u1, R, u2);
      if (Q.is0())
        throw new Error("invalid recovery: point at infinify");
      Q.assertValidity();
      return Q;
    }
    // Signatures should be low-s, to prevent malleability.
    hasHighS() {
      return isBiggerThanHalfOrder(this.s);
    }
    toBytes(format2 = defaultSigOpts.format) {
      validateSigFormat(format2);
      if (format2 === "der")
        return hexToBytes2(DER.hexFromSig(this));
      const { r, s } = this;
      const rb = Fn.toBytes(r);
      const sb = Fn.toBytes(s);
      if (format2 === "recovered") {
        assertRecoverableCurve();
        return concatBytes2(Uint8Array.of(this.assertRecovery()), rb, sb);
      }
      return concatBytes2(rb, sb);
    }
    toHex(format2) {
      return bytesToHex2(this.toBytes(format2));
    }
  }
  Object.freeze(Signature.prototype);
  Object.freeze(Signature);
  const bits2int = opts.bits2int === void 0 ? function bits2int_def(bytes) {
    if (bytes.length > 8192)
      throw new Error("input is too large");
    const num = bytesToNumberBE(bytes);
    const delta = bytes.length * 8 - fnBits;
    return delta > 0 ? num >> BigInt(delta) : num;
  } : opts.bits2int;
  const bits2int_modN = opts.bits2int_modN === void 0 ? function bits2int_modN_def(bytes) {
    return Fn.create(bits2int(bytes));
  } : opts.bits2int_modN;
  const ORDER_MASK = bitMask(fnBits);
  function int2octets(num) {
    aInRange("num < 2^" + fnBits, num, _0n6, ORDER_MASK);
    return Fn.toBytes(num);
  }
  function validateMsgAndHash(message2, prehash) {
    abytes2(message2, void 0, "message");
    return prehash ? abytes2(hash_(message2), void 0, "prehashed message") : message2;
  }
  function prepSig(message2, secretKey, opts2) {
    const { lowS, prehash, extraEntropy } = validateSigOpts(opts2, defaultSigOpts);
    message2 = validateMsgAndHash(message2, prehash);
    const h1int = bits2int_modN(message2);
    const d = Fn.fromBytes(secretKey);
    if (!Fn.isValidNot0(d))
      throw new Error("invalid private key");
    const seedArgs = [int2octets(d), int2octets(h1int)];
    if (extraEntropy != null && extraEntropy !== false) {
      const e = extraEntropy === true ? randomBytes7(lengths.secretKey) : extraEntropy;
      seedArgs.push(abytes2(e, void 0, "extraEntropy"));
    }
    const seed = concatBytes2(...seedArgs);
    const m = h1int;
    function k2sig(kBytes) {
      const k = bits2int(kBytes);
      if (!Fn.isValidNot0(k))
        return;
      const q = Point.BASE.multiply(k).toAffine();
      const r = Fn.create(q.x);
      if (r === _0n6)
        return;
      let s;
      if (csprng !== void 0) {
        const b = bytesToNumberBE(mapHashToField(csprng(blindLength), CURVE_ORDER));
        const ibk = Fn.inv(Fn.mul(b, k));
        const bm = Fn.mul(b, m);
        const bd = Fn.mul(b, d);
        s = Fn.create(ibk * Fn.create(bm + bd * r));
      } else {
        const ik = invertCt(k, CURVE_ORDER);
        s = Fn.create(ik * Fn.create(m + r * d));
      }
      if (s === _0n6)
        return;
      let recovery = getRecoveryBit(q.x, q.y, r);
      let normS = s;
      if (lowS && isBiggerThanHalfOrder(s)) {
        normS = Fn.neg(s);
        recovery ^= 1;
      }
      return new Signature(r, normS, hasLargeRecoveryLifts ? void 0 : recovery);
    }
    return { seed, k2sig };
  }
  function sign(message2, secretKey, opts2 = {}) {
    const { seed, k2sig } = prepSig(message2, secretKey, opts2);
    const drbg = createHmacDrbg(hash_.outputLen, Fn.BYTES, hmac2);
    const sig = drbg(seed, k2sig);
    return sig.toBytes(opts2.format);
  }
  function verify(signature, message2, publicKey, opts2 = {}) {
    const { lowS, prehash, format: format2 } = validateSigOpts(opts2, defaultSigOpts);
    publicKey = abytes2(publicKey, void 0, "publicKey");
    message2 = validateMsgAndHash(message2, prehash);
    if (!isBytes2(signature)) {
      const end = signature instanceof Signature ? ", use sig.toBytes()" : "";
      throw new Error("verify expects Uint8Array signature" + end);
    }
    validateSigLength(signature, format2);
    try {
      const sig = Signature.fromBytes(signature, format2);
      const P = Point.fromBytes(publicKey);
      if (P.is0())
        return false;
      if (lowS && sig.hasHighS())
        return false;
      const { r, s } = sig;
      const h = bits2int_modN(message2);
      const is2 = Fn.inv(s);
      const u1 = Fn.create(h * is2);
      const u2 = Fn.create(r * is2);
      const R = Point.BASE.mulAddUnsafe(u1, P, u2);
      if (R.is0())
        return false;
      const q = R.toAffine();
      const v = Fn.create(q.x);
      if (v !== r)
        return false;
      if (format2 === "recovered" && sig.recovery !== getRecoveryBit(q.x, q.y, r))
        return false;
      return true;
    } catch (e) {
      return false;
    }
  }
  function recoverPublicKey(signature, message2, opts2 = {}) {
    const { prehash } = validateSigOpts(opts2, defaultSigOpts);
    message2 = validateMsgAndHash(message2, prehash);
    return Signature.fromBytes(signature, "recovered").recoverPublicKey(message2).toBytes();
  }
  return Object.freeze({
    keygen,
    getPublicKey,
    getSharedSecret,
    utils,
    lengths,
    Point,
    sign,
    verify,
    recoverPublicKey,
    Signature,
    hash: hash_
  });
}

// node_modules/@noble/curves/secp256k1.js
var secp256k1_CURVE = {
  p: BigInt("0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f"),
  n: BigInt("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"),
  h: BigInt(1),
  a: BigInt(0),
  b: BigInt(7),
  Gx: BigInt("0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"),
  Gy: BigInt("0x483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8")
};
var secp256k1_ENDO = {
  beta: BigInt("0x7ae96a2b657c07106e64479eac3434e99cf0497512f58995c1396c28719501ee"),
  basises: [
    [BigInt("0x3086d221a7d46bcde86c90e49284eb15"), -BigInt("0xe4437ed6010e88286f547fa90abfe4c3")],
    [BigInt("0x114ca50f7a8e2f3f657c1108d9d44cfd8"), BigInt("0x3086d221a7d46bcde86c90e49284eb15")]
  ]
};
var _2n5 = /* @__PURE__ */ BigInt(2);
function sqrtMod(y) {
  const P = secp256k1_CURVE.p;
  const _3n3 = BigInt(3), _6n = BigInt(6), _11n = BigInt(11), _22n = BigInt(22);
  const _23n = BigInt(23), _44n = BigInt(44), _88n = BigInt(88);
  const b2 = y * y * y % P;
  const b3 = b2 * b2 * y % P;
  const b6 = pow2(b3, _3n3, P) * b3 % P;
  const b9 = pow2(b6, _3n3, P) * b3 % P;
  const b11 = pow2(b9, _2n5, P) * b2 % P;
  const b22 = pow2(b11, _11n, P) * b11 % P;
  const b44 = pow2(b22, _22n, P) * b22 % P;
  const b88 = pow2(b44, _44n, P) * b44 % P;
  const b176 = pow2(b88, _88n, P) * b88 % P;
  const b220 = pow2(b176, _44n, P) * b44 % P;
  const b223 = pow2(b220, _3n3, P) * b3 % P;
  const t1 = pow2(b223, _23n, P) * b22 % P;
  const t2 = pow2(t1, _6n, P) * b2 % P;
  const root = pow2(t2, _2n5, P);
  if (!Fpk1.eql(Fpk1.sqr(root), y))
    throw new Error("Cannot find square root");
  return root;
}
var Fpk1 = /* @__PURE__ */ Field(secp256k1_CURVE.p, { sqrt: sqrtMod });
var Pointk1 = /* @__PURE__ */ weierstrass(secp256k1_CURVE, {
  Fp: Fpk1,
  endo: secp256k1_ENDO
});
var secp256k1 = /* @__PURE__ */ ecdsa(Pointk1, sha2562);

// node_modules/@libp2p/crypto/dist/src/errors.js
var SigningError = class extends Error {
  constructor(message2 = "An error occurred while signing a message") {
    super(message2);
    this.name = "SigningError";
  }
};
var VerificationError = class extends Error {
  constructor(message2 = "An error occurred while verifying a message") {
    super(message2);
    this.name = "VerificationError";
  }
};

// node_modules/@libp2p/crypto/dist/src/keys/secp256k1/index.js
function hashAndSign4(key, msg, options) {
  options?.signal?.throwIfAborted();
  const hash = crypto5.createHash("sha256");
  if (msg instanceof Uint8Array) {
    hash.update(msg);
  } else {
    for (const buf of msg) {
      hash.update(buf);
    }
  }
  const digest2 = hash.digest();
  try {
    return secp256k1.sign(digest2, key, {
      prehash: false,
      format: "der"
    });
  } catch (err) {
    throw new SigningError(String(err));
  }
}
function hashAndVerify4(key, sig, msg, options) {
  options?.signal?.throwIfAborted();
  const hash = crypto5.createHash("sha256");
  if (msg instanceof Uint8Array) {
    hash.update(msg);
  } else {
    for (const buf of msg) {
      hash.update(buf);
    }
  }
  const digest2 = hash.digest();
  try {
    return secp256k1.verify(sig, digest2, key, {
      prehash: false,
      format: "der"
    });
  } catch (err) {
    throw new VerificationError(String(err));
  }
}

// node_modules/@libp2p/crypto/dist/src/keys/secp256k1/secp256k1.js
var Secp256k1PublicKey = class {
  type = "secp256k1";
  raw;
  _key;
  constructor(key) {
    this._key = validateSecp256k1PublicKey(key);
    this.raw = compressSecp256k1PublicKey(this._key);
  }
  toMultihash() {
    return identity2.digest(publicKeyToProtobuf(this));
  }
  toCID() {
    return CID.createV1(114, this.toMultihash());
  }
  toString() {
    return base58btc.encode(this.toMultihash().bytes).substring(1);
  }
  equals(key) {
    if (key == null || !(key.raw instanceof Uint8Array)) {
      return false;
    }
    return equals3(this.raw, key.raw);
  }
  verify(data, sig, options) {
    return hashAndVerify4(this._key, sig, data, options);
  }
};
var Secp256k1PrivateKey = class {
  type = "secp256k1";
  raw;
  publicKey;
  constructor(key, publicKey) {
    this.raw = validateSecp256k1PrivateKey(key);
    this.publicKey = new Secp256k1PublicKey(publicKey ?? computeSecp256k1PublicKey(key));
  }
  equals(key) {
    if (key == null || !(key.raw instanceof Uint8Array)) {
      return false;
    }
    return equals3(this.raw, key.raw);
  }
  sign(message2, options) {
    return hashAndSign4(this.raw, message2, options);
  }
};

// node_modules/@libp2p/crypto/dist/src/keys/secp256k1/utils.js
function unmarshalSecp256k1PrivateKey(bytes) {
  return new Secp256k1PrivateKey(bytes);
}
function unmarshalSecp256k1PublicKey(bytes) {
  return new Secp256k1PublicKey(bytes);
}
function compressSecp256k1PublicKey(key) {
  return secp256k1.Point.fromBytes(key).toBytes();
}
function validateSecp256k1PrivateKey(key) {
  try {
    secp256k1.getPublicKey(key, true);
    return key;
  } catch (err) {
    throw new InvalidPrivateKeyError(String(err));
  }
}
function validateSecp256k1PublicKey(key) {
  try {
    secp256k1.Point.fromBytes(key);
    return key;
  } catch (err) {
    throw new InvalidPublicKeyError(String(err));
  }
}
function computeSecp256k1PublicKey(privateKey) {
  try {
    return secp256k1.getPublicKey(privateKey, true);
  } catch (err) {
    throw new InvalidPrivateKeyError(String(err));
  }
}

// node_modules/@libp2p/crypto/dist/src/keys/index.js
function publicKeyFromMultihash(digest2) {
  const { Type: Type2, Data } = PublicKey.decode(digest2.digest);
  const data = Data ?? new Uint8Array();
  switch (Type2) {
    case KeyType.Ed25519:
      return unmarshalEd25519PublicKey(data);
    case KeyType.secp256k1:
      return unmarshalSecp256k1PublicKey(data);
    case KeyType.ECDSA:
      return unmarshalECDSAPublicKey(data);
    default:
      throw new UnsupportedKeyTypeError();
  }
}
function publicKeyToProtobuf(key) {
  return PublicKey.encode({
    Type: KeyType[key.type],
    Data: key.raw
  });
}
function privateKeyFromProtobuf(buf) {
  const decoded = PrivateKey.decode(buf);
  const data = decoded.Data ?? new Uint8Array();
  switch (decoded.Type) {
    case KeyType.RSA:
      return pkcs1ToRSAPrivateKey(data);
    case KeyType.Ed25519:
      return unmarshalEd25519PrivateKey(data);
    case KeyType.secp256k1:
      return unmarshalSecp256k1PrivateKey(data);
    case KeyType.ECDSA:
      return unmarshalECDSAPrivateKey(data);
    default:
      throw new UnsupportedKeyTypeError();
  }
}

// node_modules/@libp2p/peer-id/dist/src/peer-id.js
var inspect = /* @__PURE__ */ Symbol.for("nodejs.util.inspect.custom");
var LIBP2P_KEY_CODE = 114;
var PeerIdImpl = class {
  type;
  multihash;
  publicKey;
  string;
  constructor(init) {
    this.type = init.type;
    this.multihash = init.multihash;
    Object.defineProperty(this, "string", {
      enumerable: false,
      writable: true
    });
  }
  get [Symbol.toStringTag]() {
    return `PeerId(${this.toString()})`;
  }
  [peerIdSymbol] = true;
  toString() {
    if (this.string == null) {
      this.string = base58btc.encode(this.multihash.bytes).slice(1);
    }
    return this.string;
  }
  toMultihash() {
    return this.multihash;
  }
  // return self-describing String representation
  // in default format from RFC 0001: https://github.com/libp2p/specs/pull/209
  toCID() {
    return CID.createV1(LIBP2P_KEY_CODE, this.multihash);
  }
  toJSON() {
    return this.toString();
  }
  /**
   * Checks the equality of `this` peer against a given PeerId
   */
  equals(id) {
    if (id == null) {
      return false;
    }
    if (id instanceof Uint8Array) {
      return equals3(this.multihash.bytes, id);
    } else if (typeof id === "string") {
      return this.toString() === id;
    } else if (id?.toMultihash()?.bytes != null) {
      return equals3(this.multihash.bytes, id.toMultihash().bytes);
    } else {
      throw new Error("not valid Id");
    }
  }
  /**
   * Returns PeerId as a human-readable string
   * https://nodejs.org/api/util.html#utilinspectcustom
   *
   * @example
   * ```TypeScript
   * import { peerIdFromString } from '@libp2p/peer-id'
   *
   * console.info(peerIdFromString('QmFoo'))
   * // 'PeerId(QmFoo)'
   * ```
   */
  [inspect]() {
    return `PeerId(${this.toString()})`;
  }
};
var RSAPeerId = class extends PeerIdImpl {
  type = "RSA";
  publicKey;
  constructor(init) {
    super({ ...init, type: "RSA" });
    this.publicKey = init.publicKey;
  }
};
var Ed25519PeerId = class extends PeerIdImpl {
  type = "Ed25519";
  publicKey;
  constructor(init) {
    super({ ...init, type: "Ed25519" });
    this.publicKey = init.publicKey;
  }
};
var Secp256k1PeerId = class extends PeerIdImpl {
  type = "secp256k1";
  publicKey;
  constructor(init) {
    super({ ...init, type: "secp256k1" });
    this.publicKey = init.publicKey;
  }
};
var TRANSPORT_IPFS_GATEWAY_HTTP_CODE = 2336;
var URLPeerId = class {
  type = "url";
  multihash;
  publicKey;
  url;
  constructor(url) {
    this.url = url.toString();
    this.multihash = identity2.digest(fromString2(this.url));
  }
  [inspect]() {
    return `PeerId(${this.url})`;
  }
  [peerIdSymbol] = true;
  toString() {
    return this.toCID().toString();
  }
  toMultihash() {
    return this.multihash;
  }
  toCID() {
    return CID.createV1(TRANSPORT_IPFS_GATEWAY_HTTP_CODE, this.toMultihash());
  }
  toJSON() {
    return this.toString();
  }
  equals(other) {
    if (other == null) {
      return false;
    }
    if (other instanceof Uint8Array) {
      other = toString2(other);
    }
    return other.toString() === this.toString();
  }
};

// node_modules/@libp2p/peer-id/dist/src/index.js
var LIBP2P_KEY_CODE2 = 114;
var TRANSPORT_IPFS_GATEWAY_HTTP_CODE2 = 2336;
function peerIdFromString(str2, decoder) {
  let multihash;
  if (str2.charAt(0) === "1" || str2.charAt(0) === "Q") {
    multihash = decode4(base58btc.decode(`z${str2}`));
  } else if (str2.startsWith("k51qzi5uqu5") || str2.startsWith("kzwfwjn5ji4") || str2.startsWith("k2k4r8") || str2.startsWith("bafz")) {
    return peerIdFromCID(CID.parse(str2));
  } else {
    if (decoder == null) {
      throw new InvalidParametersError('Please pass a multibase decoder for strings that do not start with "1" or "Q"');
    }
    multihash = decode4(decoder.decode(str2));
  }
  return peerIdFromMultihash(multihash);
}
function peerIdFromMultihash(multihash) {
  if (isSha256Multihash(multihash)) {
    return new RSAPeerId({ multihash });
  } else if (isIdentityMultihash(multihash)) {
    try {
      const publicKey = publicKeyFromMultihash(multihash);
      if (publicKey.type === "Ed25519") {
        return new Ed25519PeerId({ multihash, publicKey });
      } else if (publicKey.type === "secp256k1") {
        return new Secp256k1PeerId({ multihash, publicKey });
      }
    } catch (err) {
      const url = toString2(multihash.digest);
      return new URLPeerId(new URL(url));
    }
  }
  throw new InvalidMultihashError("Supplied PeerID Multihash is invalid");
}
function peerIdFromCID(cid2) {
  if (cid2?.multihash == null || cid2.version == null || cid2.version === 1 && cid2.code !== LIBP2P_KEY_CODE2 && cid2.code !== TRANSPORT_IPFS_GATEWAY_HTTP_CODE2) {
    throw new InvalidCIDError("Supplied PeerID CID is invalid");
  }
  if (cid2.code === TRANSPORT_IPFS_GATEWAY_HTTP_CODE2) {
    const url = toString2(cid2.multihash.digest);
    return new URLPeerId(new URL(url));
  }
  return peerIdFromMultihash(cid2.multihash);
}
function isIdentityMultihash(multihash) {
  return multihash.code === identity2.code;
}
function isSha256Multihash(multihash) {
  return multihash.code === sha256.code;
}

// src/core/kubo/ipns.ts
import { createHash as createHash5, createPrivateKey, createPublicKey } from "node:crypto";
function parsePrivateKey(secret, input = "ipns-private-key") {
  if (typeof secret !== "string") {
    addSecret(secret);
    try {
      privateKeyFromProtobuf(secret);
      return { bytes: secret, format: "libp2p-protobuf-cleartext" };
    } catch {
      return parsePrivateKey(Buffer.from(secret).toString("utf8"), input);
    }
  }
  const text2 = secret.trim();
  addSecret(text2);
  for (const line of text2.split(/\r?\n/)) if (!line.startsWith("-----")) addSecret(line);
  if (text2.startsWith("-----BEGIN PRIVATE KEY-----")) {
    pemPrivateKey(text2, input);
    return { bytes: new TextEncoder().encode(`${text2}
`), format: "pem-pkcs8-cleartext" };
  }
  const block = /^-----BEGIN ([A-Z0-9 ]+)-----/.exec(text2)?.[1];
  if (block != null) {
    throw new InputError(input, `a PEM '${block}' block is not a PKCS#8 private key ('BEGIN PRIVATE KEY', unencrypted); convert it with 'openssl pkcs8 -topk8 -nocrypt -in KEY.pem'`);
  }
  if (!/^[A-Za-z0-9+/=_-]+$/.test(text2)) throw new InputError(input, "expected a PEM PKCS#8 private key or base64 of a libp2p protobuf private key");
  const bytes = Buffer.from(text2, "base64");
  try {
    privateKeyFromProtobuf(bytes);
  } catch {
    throw new InputError(input, "expected a PEM PKCS#8 private key or base64 of a libp2p protobuf private key (the base64 does not decode to a libp2p key)");
  }
  addSecret(bytes);
  return { bytes, format: "libp2p-protobuf-cleartext" };
}
function pemPrivateKey(text2, input = "ipns-private-key") {
  const expected = "expected a PEM PKCS#8 private key (Ed25519, RSA or ECDSA; e.g. from `openssl genpkey -algorithm ed25519`) or base64 of a libp2p protobuf private key";
  let key;
  try {
    key = createPrivateKey({ key: text2, format: "pem" });
  } catch {
    throw new InputError(input, `the PEM block is not a readable private key (${expected})`);
  }
  if (!["ed25519", "rsa", "ec"].includes(key.asymmetricKeyType ?? "")) {
    throw new InputError(input, `a ${key.asymmetricKeyType ?? "unknown"} key cannot be an IPNS key (${expected})`);
  }
  return key;
}
function publicKeyProtobuf(key) {
  const publicKey = key.type === "public" ? key : createPublicKey(key);
  const [type, data] = publicKey.asymmetricKeyType === "ed25519" ? [1, Buffer.from(String(publicKey.export({ format: "jwk" }).x), "base64url")] : [publicKey.asymmetricKeyType === "rsa" ? 0 : 3, publicKey.export({ type: "spki", format: "der" })];
  const length3 = [];
  for (let n = data.length; ; n >>>= 7) {
    if (n < 128) {
      length3.push(n);
      break;
    }
    length3.push(n & 127 | 128);
  }
  return Buffer.concat([Uint8Array.from([8, type, 18, ...length3]), data]);
}
function ipnsNameOf(key) {
  let proto;
  if (key.format === "libp2p-protobuf-cleartext") {
    const privateKey = privateKeyFromProtobuf(key.bytes);
    proto = privateKey.type === "ECDSA" ? publicKeyProtobuf(createPublicKey({ key: privateKey.publicKey.jwk, format: "jwk" })) : publicKeyToProtobuf(privateKey.publicKey);
  } else {
    proto = publicKeyProtobuf(pemPrivateKey(new TextDecoder().decode(key.bytes)));
  }
  const digest2 = proto.length <= 42 ? create(0, proto) : create(18, createHash5("sha256").update(proto).digest());
  return CID.createV1(114, digest2).toString(base36);
}
function sameName(a, b) {
  try {
    return peerIdFromString(a).equals(peerIdFromString(b));
  } catch {
    return a === b;
  }
}
async function findKey(rpc, name4, options = {}) {
  const answer = await rpc.json("key/list", {}, options);
  const key = (answer?.Keys ?? []).find((k) => k?.Name === name4);
  return key != null ? String(key.Id) : void 0;
}
async function ensureKey(rpc, name4, key, options = {}) {
  const expected = ipnsNameOf(key);
  const existing = await findKey(rpc, name4, options);
  if (existing != null) {
    if (!sameName(existing, expected)) {
      throw new KuboError(`${rpc.label}: the keystore already has a different key named '${name4}' (${existing}); remove it or choose another ipns-key`);
    }
    return existing;
  }
  const form = new FormData();
  form.append("file", new Blob([key.bytes]), "key");
  const result = await rpc.json("key/import", {
    args: [name4],
    params: { format: key.format, "allow-any-key-type": true },
    body: form
  }, { ...options, description: "key/import" });
  return String(result?.Id);
}
var DURATION_UNITS = { ns: 1e-6, us: 1e-3, "\xB5s": 1e-3, "\u03BCs": 1e-3, ms: 1, s: 1e3, m: 6e4, h: 36e5 };
var MAX_DURATION_MS = 9223372036854;
function parseLifetime(value, input = "ipns-lifetime") {
  const text2 = value.trim();
  const expected = "expected a Go duration such as '48h', '1h30m' or '90s' (units ns, us, ms, s, m, h; 2 days is '48h')";
  if (!/^(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.test(text2)) throw new InputError(input, `${quote(value, 40)} is not a duration (${expected})`);
  let ms = 0;
  for (const [, number, unit] of text2.matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) ms += Number(number) * DURATION_UNITS[unit];
  if (!(ms > 0)) throw new InputError(input, `${quote(value, 40)} is zero: a record with no lifetime is expired when published (${expected})`);
  if (ms > MAX_DURATION_MS) throw new InputError(input, `${quote(value, 40)} is longer than Kubo can take (at most about 2562047h)`);
  return ms;
}
async function publishName(rpc, key, root, options = {}) {
  const result = await rpc.json("name/publish", {
    args: [`/ipfs/${root}`],
    params: { key, resolve: false, "allow-offline": true, lifetime: options.lifetime }
  }, { ...options, description: `name/publish --key=${key}` });
  const name4 = String(result?.Name);
  if (!/^[A-Za-z0-9]{1,128}$/.test(name4)) throw new KuboError(`${rpc.label}: name/publish answered with something that is not an IPNS name: ${remoteMessage(name4, 80)}`);
  return name4;
}

// src/core/kubo/mfs.ts
function validateMfsPath(path2, input = "kubo-mfs-path") {
  if (!path2.startsWith("/") || path2 === "/" || path2.split("/").some((p) => p === "." || p === "..")) {
    throw new InputError(input, `'${path2}' is not an MFS folder path (expected an absolute path such as /ipcr, not /)`);
  }
  return path2.replace(/\/+$/, "");
}
async function readMfsRoot(rpc, path2, options = {}) {
  try {
    const stat6 = await rpc.json("files/stat", { args: [path2] }, options);
    return CID.parse(String(stat6.Hash));
  } catch (err) {
    if (err instanceof KuboError && err.status !== 404 && /does not exist|not found/i.test(err.message)) return null;
    throw err;
  }
}
async function writeMfsRoot(rpc, path2, cid2, options = {}) {
  const staging = `${path2}.ipcr-new`;
  await removeMfs(rpc, staging, options);
  await rpc.json("files/cp", { args: [`/ipfs/${cid2}`, staging], params: { parents: true } }, options);
  await removeMfs(rpc, path2, options);
  await rpc.json("files/mv", { args: [staging, path2] }, options);
}
async function removeMfs(rpc, path2, options) {
  await rpc.json("files/rm", { args: [path2], params: { recursive: true, force: true } }, options);
}

// src/core/kubo/pins.ts
import { randomBytes as randomBytes5 } from "node:crypto";
import { createReadStream as createReadStream2 } from "node:fs";
import { stat as stat5 } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { Readable as Readable3 } from "node:stream";
import { pipeline as pipeline4 } from "node:stream/promises";
async function importCar(rpc, path2, options = {}) {
  const { size } = await stat5(path2);
  return await rpc.call("dag/import", async (signal) => {
    const progress = options.logger != null ? new Progress(options.logger, `sent to ${rpc.label}`, size) : void 0;
    return await postCar(rpc, path2, size, signal, options.pinRoots ?? true, progress);
  }, options);
}
async function postCar(rpc, path2, size, signal, pinRoots, progress) {
  let url = rpc.commandUrl("dag/import", [], { "pin-roots": pinRoots });
  for (let redirects = 0; ; redirects++) {
    const answer = await sendCar(rpc, url, path2, size, signal, progress);
    const next = redirectTarget(rpc.label, url, answer.status, answer.location, redirects);
    if (next == null) return parseImport(answer);
    url = next;
  }
}
var MAX_IMPORT_ANSWER = 1024 * 1024;
async function sendCar(rpc, url, path2, size, signal, progress) {
  const boundary = `ipcr-${randomBytes5(12).toString("hex")}`;
  const head = Buffer.from(`--${boundary}\r
Content-Disposition: form-data; name="file"; filename="registry.car"\r
Content-Type: application/octet-stream\r
\r
`);
  const tail = Buffer.from(`\r
--${boundary}--\r
`);
  const request = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, {
    method: "POST",
    signal,
    headers: { ...rpc.config.headers, "Content-Type": `multipart/form-data; boundary=${boundary}`, "Content-Length": String(head.length + size + tail.length) }
  });
  const body = Readable3.from((async function* () {
    yield head;
    for await (const chunk of createReadStream2(path2, { highWaterMark: 1024 * 1024 })) {
      progress?.add(chunk.byteLength);
      yield chunk;
    }
    progress?.finish();
    yield tail;
  })());
  const sent = pipeline4(body, request);
  sent.catch(() => {
  });
  let response;
  try {
    response = await new Promise((resolve2, reject) => {
      request.once("response", resolve2);
      request.once("error", reject);
    });
  } catch (err) {
    throw signal.aborted || err?.name === "AbortError" ? err : new TypeError("fetch failed", { cause: err });
  }
  let text2 = "";
  try {
    response.setEncoding("utf8");
    for await (const chunk of response) {
      text2 += chunk;
      if (text2.length > MAX_IMPORT_ANSWER) {
        response.destroy();
        if (response.statusCode !== 200) break;
        throw new ResponseTooLargeError(`the answer to dag/import is larger than ${MAX_IMPORT_ANSWER} bytes`);
      }
    }
    if (response.statusCode === 200) await sent;
  } catch (err) {
    throw signal.aborted || err?.name === "AbortError" || err instanceof ResponseTooLargeError ? err : new TypeError("fetch failed", { cause: err });
  }
  request.destroy();
  const location = response.headers.location;
  return {
    status: response.statusCode ?? 0,
    ...location != null ? { location } : {},
    contentType: String(response.headers["content-type"] ?? ""),
    text: text2,
    ...response.trailers["x-stream-error"] != null ? { trailer: String(response.trailers["x-stream-error"]) } : {},
    ...response.statusMessage != null ? { statusMessage: response.statusMessage } : {}
  };
}
function parseImport({ status, contentType, text: text2, trailer, statusMessage }) {
  const lines = text2.split("\n").filter((l) => l.trim() !== "").map((l) => {
    try {
      return JSON.parse(l);
    } catch {
      return { Message: l };
    }
  });
  const streamError = trailer ?? lines.find((l) => l?.Type === "error")?.Message;
  if (status !== 200 || streamError != null) {
    const message2 = String(streamError ?? lines[0]?.Message ?? (text2 !== "" ? text2 : statusMessage ?? ""));
    throw new KuboStatusError(remoteMessage(message2), status === 200 ? 500 : status, contentType.startsWith("application/json"));
  }
  return lines.filter((l) => l?.Root != null).map(({ Root }) => {
    const pinError = typeof Root.PinErrorMsg === "string" && Root.PinErrorMsg !== "" ? remoteMessage(Root.PinErrorMsg) : void 0;
    return { cid: CID.parse(String(Root.Cid?.["/"])), ...pinError != null ? { pinError } : {} };
  });
}
async function pinRecursive(rpc, cid2, name4, options = {}) {
  await rpc.json("pin/add", { args: [cid2.toString()], params: { recursive: true, name: name4 } }, options);
}
async function isPinned(rpc, cid2, options = {}) {
  try {
    const answer = await rpc.json("pin/ls", { args: [cid2.toString()], params: { type: "recursive" } }, options);
    return Object.keys(answer?.Keys ?? {}).some((key) => {
      try {
        return CID.parse(key).equals(cid2);
      } catch {
        return false;
      }
    });
  } catch (err) {
    if (err instanceof KuboError && /not pinned/.test(err.message)) return false;
    throw err;
  }
}
async function unpin(rpc, cid2, options = {}) {
  try {
    await rpc.json("pin/rm", { args: [cid2.toString()] }, options);
    return true;
  } catch (err) {
    if (err instanceof KuboError && /not pinned/.test(err.message)) return false;
    throw err;
  }
}
async function pinsNamed(rpc, name4, options = {}) {
  const answer = await rpc.json("pin/ls", { params: { type: "recursive", names: true, name: name4 } }, { ...options, description: `pin/ls --name='${name4}'` });
  const found = [];
  for (const [key, pin] of Object.entries(answer?.Keys ?? {})) {
    if (pin?.Name !== name4) continue;
    try {
      found.push(CID.parse(key));
    } catch {
      throw new KuboError(`${rpc.label}: pin/ls answered with something that is not a CID: ${remoteMessage(key, 80)}`);
    }
  }
  return found;
}
async function pinNameOf(rpc, cid2, options = {}) {
  try {
    const answer = await rpc.json("pin/ls", { args: [cid2.toString()], params: { type: "recursive", names: true } }, options);
    const entry = Object.entries(answer?.Keys ?? {}).find(([key]) => {
      try {
        return CID.parse(key).equals(cid2);
      } catch {
        return false;
      }
    });
    return entry != null ? String(entry[1]?.Name ?? "") : void 0;
  } catch (err) {
    if (err instanceof KuboError && /not pinned/.test(err.message)) return void 0;
    throw err;
  }
}

// src/core/kubo/preflight.ts
var MIN_KUBO_VERSION = [0, 40, 0];
function parseVersion(version2) {
  return version2.split("-")[0].split(".").map((n) => Number.parseInt(n, 10));
}
function versionAtLeast(version2, min) {
  const parts = parseVersion(version2);
  for (let i = 0; i < min.length; i++) {
    const a = parts[i] ?? 0;
    const b = min[i] ?? 0;
    if (Number.isNaN(a)) return false;
    if (a !== b) return a > b;
  }
  return true;
}
async function checkKubo(rpc, options = {}) {
  const answer = await rpc.json("version", {}, options);
  const version2 = String(answer.Version ?? "");
  if (!versionAtLeast(version2, MIN_KUBO_VERSION)) {
    throw new KuboError(`${rpc.label}: Kubo ${remoteMessage(version2, 40)} is too old: ipcr needs Kubo ${MIN_KUBO_VERSION.join(".")} or newer (the unixfs-v1-2025 profile)`);
  }
  return version2;
}

// src/core/kubo/destination.ts
var KuboDestination = class {
  constructor(config, logger = silentLogger) {
    this.config = config;
    this.logger = logger;
    this.rpc = new KuboRpc(kuboConfig(config), logger);
    this.label = this.rpc.label;
    if (config.mfsPath != null) this.mfsPath = validateMfsPath(config.mfsPath);
    if (config.pinName != null && (config.pinName.trim() === "" || config.pinName.length > 255 || hasControl(config.pinName))) {
      throw new InputError("kubo-pin-name", "expected a name of 1 to 255 characters, without control characters");
    }
  }
  config;
  logger;
  kind = "kubo";
  /** Kubo takes the new blocks as a CAR (`dag import`). */
  needsCar = true;
  label;
  rpc;
  mfsPath;
  version = "";
  async preflight(options) {
    this.version = await checkKubo(this.rpc, options);
    this.logger.info(`${this.label}: Kubo ${this.version}`);
  }
  sources() {
    return [new KuboBlockSource(this.rpc)];
  }
  async previousRoot(options) {
    if (this.mfsPath == null) return null;
    const root = await readMfsRoot(this.rpc, this.mfsPath, options);
    this.logger.info(root == null ? `${this.label}: ${this.mfsPath} is empty: starting a new registry` : `${this.label}: previous root ${root} from MFS ${this.mfsPath}`);
    return root;
  }
  async store(context) {
    const { root, result } = context;
    const options = { signal: context.signal };
    if (context.carPath == null) throw new Error(`${this.label}: no CAR to import (the pipeline writes one for destinations that need it)`);
    await importCar(this.rpc, context.carPath, { ...options, logger: this.logger, pinRoots: false });
    const pinName = this.pinName;
    await pinRecursive(this.rpc, root, pinName, options);
    if (!await isPinned(this.rpc, root, options)) {
      throw new KuboError(`${this.label}: pin add returned but ${root} is not pinned`);
    }
    const blocks = result.car.blocks;
    this.logger.info(`${this.label}: imported ${blocks} blocks and pinned ${root} as '${pinName}'`);
    return { kind: this.kind, label: this.label, details: { version: this.version, pinned: root.toString(), pinName, importedBlocks: blocks } };
  }
  async point(context) {
    if (this.mfsPath == null) return;
    await writeMfsRoot(this.rpc, this.mfsPath, context.root, { signal: context.signal });
    this.logger.info(`${this.label}: MFS ${this.mfsPath} \u2192 ${context.root}`);
  }
  get pinName() {
    return this.config.pinName ?? "ipcr registry";
  }
  /**
   * Removes every pin named pinName but the new root's: the previous root's, and
   * any an earlier run left behind when it failed after pinning.
   */
  async cleanup(context) {
    if (this.config.unpinPrevious === false) return;
    const options = { signal: context.signal };
    const stale = (await pinsNamed(this.rpc, this.pinName, options)).filter((cid2) => !cid2.equals(context.root));
    const removed = [];
    for (const cid2 of stale) if (await unpin(this.rpc, cid2, options)) removed.push(cid2);
    this.logger.info(removed.length === 0 ? `${this.label}: no other pin named '${this.pinName}' to remove` : `${this.label}: removed ${removed.length} earlier pin(s) named '${this.pinName}': ${removed.join(", ")}`);
    const previous = context.previousRoot;
    if (previous != null && !previous.equals(context.root) && !stale.some((cid2) => cid2.equals(previous))) {
      const other = await pinNameOf(this.rpc, previous, options);
      if (other != null) this.logger.info(`${this.label}: the previous root ${previous} stays pinned: its pin is named '${remoteMessage(other, 80)}', not '${this.pinName}'`);
    }
  }
};
var KuboIpnsPublisher = class {
  constructor(rpc, config, logger = silentLogger) {
    this.rpc = rpc;
    this.config = config;
    this.logger = logger;
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(config.key)) throw new InputError("ipns-key", `'${config.key}' is not a key name (expected letters, digits, '.', '_' or '-')`);
    if (config.key === "self") throw new InputError("ipns-key", "'self' is the node's identity; use a dedicated key for the registry");
    if (config.lifetime != null) {
      parseLifetime(config.lifetime);
      this.lifetime = config.lifetime.trim();
    }
    if (config.privateKey != null) this.privateKey = parsePrivateKey(config.privateKey);
    this.label = `IPNS key '${config.key}' on ${rpc.label}`;
  }
  rpc;
  config;
  logger;
  kind = "kubo-ipns";
  label;
  privateKey;
  lifetime;
  async preflight(options) {
    if (this.privateKey != null) {
      await ensureKey(this.rpc, this.config.key, this.privateKey, options);
      return;
    }
    if (await findKey(this.rpc, this.config.key, options) == null) {
      throw new InputError("ipns-key", text`${this.rpc.label} has no key named '${this.config.key}' (create it with 'ipfs key gen ${this.config.key}' or give ${option("ipns-private-key")})`);
    }
  }
  async publish(context) {
    const name4 = await publishName(this.rpc, this.config.key, context.root, { signal: context.signal, lifetime: this.lifetime });
    this.logger.info(`IPNS /ipns/${name4} \u2192 /ipfs/${context.root}`);
    return { kind: this.kind, label: this.label, name: name4, value: `/ipfs/${context.root}` };
  }
};

// src/core/destinations/registry.ts
var factories = /* @__PURE__ */ new Map([
  ["kubo", (config, logger) => new KuboDestination(config, logger)]
]);
function createDestination(kind, config, logger) {
  const factory = factories.get(kind);
  if (factory == null) throw new InputError("destination", `unknown destination '${kind}' (known: ${[...factories.keys()].join(", ")})`);
  return factory(config, logger);
}

// src/core/destinations/settings.ts
function createProviders(settings, logger) {
  const destinations = [];
  const names = [];
  if (settings.kubo != null) destinations.push(createDestination("kubo", settings.kubo, logger));
  if (settings.ipns != null) {
    const kubo = destinations.find((d) => d instanceof KuboDestination);
    if (kubo == null) throw new InputError("ipns-key", text`publishing IPNS through a keystore needs ${option("kubo-rpc-url")}`);
    names.push(new KuboIpnsPublisher(kubo.rpc, settings.ipns, logger));
  }
  return { destinations, names };
}

// src/core/destinations/describe.ts
function words(key) {
  return key.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
}
function phrase(key, value) {
  switch (key) {
    case "version":
      return `version ${String(value)}`;
    case "pinned":
      return `pinned ${String(value)}`;
    case "pinName":
      return `pin name \u201C${String(value)}\u201D`;
    case "importedBlocks":
      return `${String(value)} blocks imported`;
  }
  if (typeof value === "boolean") return value ? words(key) : `not ${words(key)}`;
  return `${words(key)}: ${String(value)}`;
}
function describeDetails(details) {
  return Object.entries(details).map(([k, v]) => phrase(k, v)).join("; ");
}

// src/core/unixfs/export.ts
import { randomBytes as randomBytes6 } from "node:crypto";
import { constants } from "node:fs";
import { lstat, mkdir as mkdir4, open as open6, readdir as readdir2, rename as rename5, rmdir } from "node:fs/promises";
import { basename, dirname, join as join8 } from "node:path";
var FILE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
async function exportToDirectory(cid2, outDir, source, options) {
  await checkTarget(outDir);
  const walk2 = await planExport(cid2, source, options);
  const temp = join8(dirname(outDir), `.${basename(outDir)}.ipcr-get-${randomBytes6(6).toString("hex")}`);
  const at = (path2) => join8(temp, ...path2);
  await mkdir4(dirname(outDir), { recursive: true });
  registerTemporary(temp);
  try {
    const result = await walk2({
      directory: async (path2, dir) => {
        await mkdir4(at(path2)).catch((err) => {
          throw err?.code === "EEXIST" ? new TreeError(`${dir}: duplicate entry name at ${at(path2)}`) : err;
        });
      },
      file: async (path2, file, _size, content) => {
        const handle = await open6(at(path2), FILE_FLAGS, 420).catch((err) => {
          throw err?.code === "EEXIST" ? new TreeError(`${file}: duplicate entry name at ${at(path2)}`) : err;
        });
        let written = 0;
        try {
          for await (const chunk of content) {
            let done = 0;
            while (done < chunk.length) done += (await handle.write(chunk, done, chunk.length - done)).bytesWritten;
            written += chunk.length;
          }
        } finally {
          await handle.close();
        }
        walk2.logger.debug(`wrote ${at(path2)} (${written} bytes)`);
      }
    });
    if ((await lstat(outDir).catch(() => null))?.isDirectory() === true) await rmdir(outDir);
    await rename5(temp, outDir);
    releaseTemporary(temp);
    return result;
  } catch (err) {
    await removeTemporary(temp);
    throw err;
  }
}
async function exportTar(cid2, source, out, options) {
  const walk2 = await planExport(cid2, source, options);
  const write2 = async (bytes) => {
    throwIfAborted(options?.signal);
    await new Promise((resolve2, reject) => {
      out.write(bytes, (err) => {
        if (err == null) resolve2();
        else reject(err);
      });
    });
  };
  const name4 = (path2) => path2.length === 0 ? "./" : `./${path2.join("/")}`;
  const result = await walk2({
    // A stream may hold a chunk after calling back (a PassThrough's reader may keep it).
    keepsChunks: true,
    directory: async (path2) => {
      await write2(tarHeader(path2.length === 0 ? "./" : `${name4(path2)}/`, "directory", 0));
    },
    file: async (path2, file, size, content) => {
      await write2(tarHeader(walk2.isRootFile ? options?.fileName ?? file.toString() : name4(path2), "file", size));
      for await (const chunk of content) await write2(chunk);
      if (size % TAR_BLOCK2 !== 0) await write2(new Uint8Array(TAR_BLOCK2 - size % TAR_BLOCK2));
    }
  });
  await write2(new Uint8Array(2 * TAR_BLOCK2));
  return result;
}
async function planExport(cid2, source, options) {
  const signal = options?.signal;
  const logger = options?.logger ?? silentLogger;
  const limits = { ...EXPORT_LIMITS, ...options?.limits };
  const names = { maxBytes: "maxBytes", maxEntries: "maxEntries", maxBlocks: "maxBlocks", ...options?.limitNames };
  const over = (limit, what) => new TreeError(`/ipfs/${cid2} ${what}: over the limit ${names[limit]} (${limit === "maxBytes" ? formatSize(limits.maxBytes) : limits[limit]})`);
  const budgetLimits = { maxBlocks: limits.maxBlocks, maxBlockBytes: Infinity, maxEntries: limits.maxEntries, maxDirectoryEntries: limits.maxEntries };
  const budgetNames = { maxBlocks: names.maxBlocks, maxEntries: names.maxEntries, maxDirectoryEntries: names.maxEntries };
  const blocks = new DagBudget(budgetLimits, budgetNames);
  const counted = blocks.source(new BlockCache(source, { keep: (c) => dagPbOnly(c) || c.equals(cid2) }));
  const listing = new DagBudget({ ...budgetLimits, maxEntries: Infinity }, budgetNames);
  const sizes = /* @__PURE__ */ new Map();
  async function measure(cid3, linkSize, path2) {
    throwIfAborted(signal);
    const key = cid3.toString();
    const known = sizes.get(key);
    if (known != null) return known;
    if (path2.length > MAX_DIRECTORY_DEPTH) throw new TreeError(`/ipfs/${cid3} is more than ${MAX_DIRECTORY_DEPTH} directories deep at ${path2.join("/")}`);
    let size;
    if (cid3.code === code2 && linkSize != null) {
      size = { entries: 1, bytes: linkSize };
    } else {
      const block = await readBlock(cid3, counted, { signal });
      if (isDirectory(cid3, block)) {
        size = { entries: 1, bytes: 0 };
        for await (const child of directoryEntries(cid3, counted, { signal, block, budget: blocks })) {
          checkName2(child.name, cid3);
          const inner = await measure(child.cid, child.size, [...path2, child.name]);
          size.entries += inner.entries;
          size.bytes += inner.bytes;
          if (size.entries > limits.maxEntries) throw over("maxEntries", `holds more than ${limits.maxEntries} files and directories`);
          if (size.bytes > limits.maxBytes) throw over("maxBytes", `holds more than ${formatSize(limits.maxBytes)} of files`);
        }
      } else {
        const bytes = declaredFileSize(cid3, block);
        if (bytes == null) throw new TreeError(`refusing to export ${cid3} at ${path2.join("/") || "."}: ${describe2(cid3, block)} is not a file or directory`);
        size = { entries: 1, bytes };
      }
    }
    if (size.bytes > limits.maxBytes) throw over("maxBytes", `holds more than ${formatSize(limits.maxBytes)} of files`);
    sizes.set(key, size);
    return size;
  }
  const total = await measure(cid2, void 0, []);
  sizes.clear();
  logger.debug(`/ipfs/${cid2}: ${total.entries} entries, ${total.bytes} bytes`);
  const isRootFile = !isDirectory(cid2, await readBlock(cid2, counted, { signal }));
  const walk2 = async (visitor) => {
    const result = { files: 0, directories: 0, bytes: 0 };
    const progress = new Progress(logger, `/ipfs/${cid2}: written`, total.bytes, options?.progressIntervalMs);
    let entries = 0;
    async function visit(cid3, path2) {
      throwIfAborted(signal);
      if (++entries > limits.maxEntries) throw over("maxEntries", `holds more than ${limits.maxEntries} files and directories`);
      const block = await readBlock(cid3, counted, { signal });
      if (isDirectory(cid3, block)) {
        await visitor.directory(path2, cid3);
        result.directories++;
        const seen = /* @__PURE__ */ new Set();
        for await (const child of directoryEntries(cid3, counted, { signal, block, budget: listing })) {
          checkName2(child.name, cid3);
          if (seen.has(child.name)) throw new TreeError(`${cid3}: duplicate entry name ${child.name}`);
          seen.add(child.name);
          await visit(child.cid, [...path2, child.name]);
        }
        return;
      }
      const declared = declaredFileSize(cid3, block);
      if (declared == null) throw new TreeError(`refusing to export ${cid3} at ${path2.join("/") || "."}: ${describe2(cid3, block)} is not a file or directory`);
      if (result.bytes + declared > limits.maxBytes) throw over("maxBytes", `holds more than ${formatSize(limits.maxBytes)} of files`);
      let written = 0;
      async function* content() {
        for await (const chunk of fileContent(cid3, counted, { signal, block, reuseChunks: visitor.keepsChunks !== true })) {
          written += chunk.length;
          if (result.bytes + written > limits.maxBytes) throw over("maxBytes", `holds more than ${formatSize(limits.maxBytes)} of files`);
          yield chunk;
          progress.add(chunk.length);
        }
      }
      await visitor.file(path2, cid3, declared, content());
      if (written !== declared) throw new TreeError(`${cid3} at ${path2.join("/") || "."}: ${written} bytes written where the file declares ${declared}`);
      result.files++;
      result.bytes += written;
    }
    await visit(cid2, []);
    progress.finish();
    return result;
  };
  return Object.assign(walk2, { logger, isRootFile });
}
function isDirectory(cid2, block) {
  if (cid2.code !== code) return false;
  const type = decodeUnixFS(cid2, block).unixfs.type;
  return type === "directory" || type === "hamt-sharded-directory";
}
function describe2(cid2, block) {
  if (cid2.code !== code) return `codec 0x${cid2.code.toString(16)}`;
  return `UnixFS ${decodeUnixFS(cid2, block).unixfs.type}`;
}
function checkName2(name4, parent) {
  if (name4 === "" || name4 === "." || name4 === ".." || name4.includes("/") || name4.includes("\\") || name4.includes("\0")) {
    throw new TreeError(`refusing unsafe entry name '${name4}' in ${parent}`);
  }
}
async function checkTarget(path2) {
  const stat6 = await lstat(path2).catch((err) => {
    if (err?.code === "ENOENT") return null;
    throw err;
  });
  if (stat6 == null) return;
  if (!stat6.isDirectory() || (await readdir2(path2)).length > 0) throw new TreeError(`cannot write to ${path2}: something is in the way (expected nothing or an empty folder)`);
}
var TAR_BLOCK2 = 512;
var encoder4 = new TextEncoder();
var USTAR_MAX_SIZE = 8 ** 11 - 1;
function tarHeader(name4, type, size) {
  const nameBytes = encoder4.encode(name4);
  const pax = [];
  if (nameBytes.length > 100) pax.push(paxRecord("path", name4));
  if (size > USTAR_MAX_SIZE) pax.push(paxRecord("size", String(size)));
  const header = ustar(nameBytes.length > 100 ? nameBytes.subarray(0, 100) : nameBytes, type === "file" ? "0" : "5", type === "file" ? 420 : 493, size > USTAR_MAX_SIZE ? 0 : size);
  if (pax.length === 0) return header;
  const records = encoder4.encode(pax.join(""));
  const padded = new Uint8Array(Math.ceil(records.length / TAR_BLOCK2) * TAR_BLOCK2);
  padded.set(records);
  return Buffer.concat([ustar(encoder4.encode("././@PaxHeader"), "x", 420, records.length), padded, header]);
}
function paxRecord(key, value) {
  const body = ` ${key}=${value}
`;
  const bodyLength = encoder4.encode(body).length;
  let length3 = bodyLength + 1;
  while (String(length3).length + bodyLength !== length3) length3 = String(length3).length + bodyLength;
  return `${length3}${body}`;
}
function ustar(name4, type, mode, size) {
  const header = new Uint8Array(TAR_BLOCK2);
  const field = (offset, length3, text2) => {
    header.set(encoder4.encode(text2).subarray(0, length3), offset);
  };
  const octal = (offset, length3, value) => {
    field(offset, length3, `${value.toString(8).padStart(length3 - 1, "0")}\0`);
  };
  header.set(name4, 0);
  octal(100, 8, mode);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, 0);
  field(148, 8, "        ");
  field(156, 1, type);
  field(257, 6, "ustar\0");
  field(263, 2, "00");
  field(265, 32, "root");
  field(297, 32, "root");
  octal(329, 8, 0);
  octal(337, 8, 0);
  const sum = header.reduce((total, byte) => total + byte, 0);
  field(148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return header;
}

// src/options/definitions.ts
var definitions = [
  {
    key: "image",
    type: "string",
    description: "Local image reference to publish, exported with `docker save` (or `container-cli`) to a temporary file. With `image-file`: which image of the archive to publish (a RepoTag, an OCI ref name or a digest), needed when it holds several.",
    action: true,
    cli: { flag: "IMAGE", commands: ["push"], description: "Local image reference to publish, exported with `docker save` (or --container-cli). With --file: which image of the archive to publish, needed when it holds several." }
  },
  {
    key: "image-file",
    type: "string",
    description: "Image tarball or OCI layout directory, detected by content: legacy `docker save`, Docker 25+ `docker save`, buildx `type=docker`/`type=oci` (multi-platform too), skopeo `docker-archive:`/`oci-archive:`, whole-file gzip or zstd. A layout may name one image as skopeo does, `DIR:REF`. Set this or `image`.",
    action: true,
    cli: { flag: "--file", value: "PATH", commands: ["push"] }
  },
  {
    key: "container-cli",
    type: "string",
    description: "Command that exports `image` (`<cli> save --output FILE REF`): `docker` or `podman`.",
    default: "`docker`, else `podman` when docker is not on PATH",
    action: true,
    cli: { flag: "--container-cli", value: "CMD", commands: ["push"] }
  },
  {
    key: "max-decompressed-size",
    type: "size",
    description: "Most bytes a gzip/zstd image tarball, or a gzip layer whose `diff_id` is checked, may decompress to, e.g. `20GiB`, `500MB`. Images compress 2\u20135\xD7, so the default leaves 4\xD7 headroom.",
    default: "20 \xD7 compressed size, at least 1 GiB",
    action: true,
    cli: { flag: "--max-decompressed-size", value: "SIZE", commands: ["push"] }
  },
  {
    key: "name",
    type: "string",
    description: "Repository name in the tree, e.g. `team/app` (OCI grammar, `/` makes nested folders). Reserved: `catalog.json` and `index.html` as the first component, `tags` and `readme-short.txt` (any case) as any component.",
    default: "path of the image or tag references",
    action: true,
    cli: { flag: "--name", value: "NAME", commands: ["push"] }
  },
  {
    key: "tags",
    type: "list",
    description: "Tags to publish, newline- or comma-separated: bare tags (`1.2.3`) or full references (`ghcr.io/owner/app:1.2.3`, docker/metadata-action's `tags` output). All tags share the same blocks.",
    default: "tag of `image`, else `latest`",
    action: true,
    cli: { flag: "--tag", value: "TAG", commands: ["push"], repeat: true }
  },
  {
    key: "description",
    type: "string",
    description: "One line for `<name>/README-short.txt` and `catalog.json` (first non-empty line, without control characters, cut to 512 characters).",
    default: "label `org.opencontainers.image.description`",
    action: true,
    cli: { flag: "--description", value: "TEXT", commands: ["push"] }
  },
  {
    key: "revision",
    type: "string",
    description: "Source revision recorded in `catalog.json`.",
    default: "`$GITHUB_SHA`",
    action: true,
    cli: { flag: "--revision", value: "REV", commands: ["push"] }
  },
  {
    key: "store",
    type: "string",
    description: "Embedded local store: blocks in DIR/blocks, the registry root in DIR/root (read as the previous root, written after publishing).",
    action: false,
    cli: { flag: "--store", value: "DIR", commands: ["push", "get", "demo"] }
  },
  {
    key: "previous-root",
    type: "string",
    description: "Registry root CID to update; re-publishing a tag replaces it. Empty starts a new registry.",
    action: true,
    cli: { flag: "--previous-root", value: "CID", commands: ["push"], default: "the store's root, else a new registry" }
  },
  {
    key: "gateways",
    type: "list",
    description: "Trustless HTTP gateways to read blocks from (`GET /ipfs/<cid>?format=raw`, each block verified against its CID; the next gateway on failure), newline- or comma-separated.",
    action: true,
    cli: { flag: "--gateway", value: "URL", commands: ["push", "get"], repeat: true }
  },
  {
    key: "previous-car",
    type: "list",
    description: "CAR files holding blocks of `previous-root`, newline- or comma-separated; read before gateways. Without `previous-root`, the root named in the header of the one CAR given is updated (the CAR of the last publish with `car-scope: full`); several CARs, or a CAR with no root or several, need `previous-root`.",
    action: true,
    cli: { flag: "--previous-car", value: "PATH", commands: ["push"], repeat: true }
  },
  {
    key: "car-path",
    type: "string",
    description: "Where the CAR is written. The CLI writes one only when asked (with a Kubo destination it imports a temporary CAR and removes it).",
    default: "`$RUNNER_TEMP/ipcr/registry.car`",
    action: true,
    cli: { flag: "--car", value: "PATH", commands: ["push"], default: "none" }
  },
  {
    key: "car-scope",
    type: "string",
    description: "`new`: the blocks this publish adds (layers already in the previous root are left out); `full`: the whole registry DAG.",
    default: "`new`",
    actionDefault: "new",
    action: true,
    cli: { flag: "--car-scope", value: "new|full", commands: ["push"] }
  },
  {
    key: "kubo-rpc-url",
    type: "string",
    description: "Kubo RPC endpoint (local daemon or hosted: e.g. http://127.0.0.1:5001 or the multiaddr /ip4/127.0.0.1/tcp/5001; not the gateway port). The CAR is imported (`dag import`), the new root pinned under a name and Kubo's root checked against ours. Also a block source for `previous-root`. Needs Kubo 0.40 or newer.",
    action: true,
    cli: { flag: "--kubo-rpc-url", value: "URL", commands: ["push"] }
  },
  {
    key: "kubo-rpc-headers",
    type: "secret",
    description: "Secret: headers for the Kubo RPC endpoint, one `Name: value` per line (`Authorization: Bearer \u2026` or `Basic \u2026`). Masked. Needs `kubo-rpc-url`.",
    action: true,
    cli: { flag: "--kubo-rpc-header", value: "HEADER", commands: ["push"], repeat: true, description: "`Name: value` sent to the Kubo endpoint (repeatable). Secrets are better kept out of argv: lines of $IPCR_KUBO_RPC_HEADERS are added. Needs --kubo-rpc-url." }
  },
  {
    key: "kubo-pin-name",
    type: "string",
    description: "Name of the pin on Kubo (`ipfs pin ls --names`). It names this registry on the node: after a successful run every other pin of this name is removed, so give each registry on a node its own.",
    default: "`ipcr registry`",
    action: true,
    cli: { flag: "--kubo-pin-name", value: "NAME", commands: ["push"] }
  },
  {
    key: "unpin-previous",
    type: "boolean",
    description: "Remove every other pin of `kubo-pin-name` on Kubo (the previous root, and any a failed run left), last: after the new pin holds and every name moved.",
    default: "`true`",
    actionDefault: "true",
    action: true,
    cli: { flag: "--keep-previous-pin", commands: ["push"], negates: true, description: "Keep the previous root pinned (by default its pin is removed once the new pin holds and every name moved)." }
  },
  {
    key: "kubo-mfs-path",
    type: "string",
    description: "MFS folder on the Kubo node holding the registry root, like the original recipe's `.ipcr`: read as the previous root when neither `previous-root` nor another source is set, written after publishing.",
    action: true,
    cli: { flag: "--kubo-mfs-path", value: "PATH", commands: ["push"] }
  },
  {
    key: "kubo-timeout",
    type: "seconds",
    description: "Seconds each Kubo RPC call may take. Network errors and 5xx without a Kubo error message are retried up to 3 times with backoff and jitter.",
    default: "`120`",
    action: true,
    cli: { flag: "--kubo-timeout", value: "SECS", commands: ["push"] }
  },
  {
    key: "ipns-key",
    type: "string",
    description: "Kubo keystore key to publish IPNS with (`name publish --key`), after everything else succeeded.",
    action: true,
    cli: { flag: "--ipns-key", value: "NAME", commands: ["push"] }
  },
  {
    key: "ipns-private-key",
    type: "secret",
    description: "Secret: imported into the keystore as `ipns-key` when missing (PEM PKCS#8, or base64 of the libp2p protobuf key `ipfs key export` writes). A different key under that name is refused.",
    action: true,
    cli: { flag: "--ipns-private-key-file", value: "PATH", commands: ["push"], description: "File with the key to import as --ipns-key when the keystore lacks it: what `ipfs key export` writes (binary), PEM PKCS#8, or base64 of a libp2p protobuf key." }
  },
  {
    key: "ipns-lifetime",
    type: "string",
    description: "IPNS record lifetime in Go duration syntax, e.g. `48h` (Kubo's default), `1h30m`, `90s`. Republish at least daily (a scheduled workflow).",
    default: "Kubo's (48h)",
    action: true,
    cli: { flag: "--ipns-lifetime", value: "DURATION", commands: ["push"] }
  },
  {
    key: "summary",
    type: "boolean",
    description: "Write a job summary.",
    default: "`true`",
    actionDefault: "true",
    action: true
  },
  {
    key: "output",
    type: "string",
    description: "Where to write: a folder that does not exist or is empty, or `-` for a tar on standard output (`ipcr get \u2026 -o - | docker load`).",
    action: false,
    cli: { flag: "--output", short: "-o", value: "DIR", commands: ["get"] }
  },
  {
    key: "cars",
    type: "list",
    description: "CAR files to read blocks from.",
    action: false,
    cli: { flag: "--car", value: "PATH", commands: ["get"], repeat: true }
  },
  {
    key: "max-bytes",
    type: "size",
    description: "Most file bytes to write, e.g. `100GiB`, `512MiB`.",
    action: false,
    cli: { flag: "--max-bytes", value: "SIZE", commands: ["get"], default: "64GiB" }
  },
  {
    key: "max-entries",
    type: "count",
    description: "Most files and folders to write.",
    action: false,
    cli: { flag: "--max-entries", value: "N", commands: ["get"], default: "1000000" }
  },
  {
    key: "max-blocks",
    type: "count",
    description: "Most block reads.",
    action: false,
    cli: { flag: "--max-blocks", value: "N", commands: ["get"], default: "4194304" }
  },
  {
    key: "json",
    type: "boolean",
    description: "Print the result as JSON on stdout.",
    action: false,
    cli: { flag: "--json", commands: ["push", "demo"] }
  },
  {
    key: "quiet",
    type: "boolean",
    description: "Only errors on stderr.",
    action: false,
    cli: { flag: "--quiet", short: "-q", commands: ["push"] }
  },
  {
    key: "verbose",
    type: "boolean",
    description: "Debug lines on stderr.",
    action: false,
    cli: { flag: "--verbose", short: "-v", commands: ["push"] }
  }
];
var byKey = new Map(definitions.map((d) => [d.key, d]));
function cliOptions(command) {
  return definitions.filter((d) => d.cli?.commands.includes(command) === true);
}
function cliName(key) {
  return byKey.get(key)?.cli?.flag ?? key;
}

// src/options/container-cli.ts
import { accessSync, constants as constants2 } from "node:fs";
import { delimiter, join as join9 } from "node:path";
function onPath(command, path2) {
  return path2.split(delimiter).some((dir) => {
    if (dir === "") return false;
    try {
      accessSync(join9(dir, command), constants2.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
function containerCli(given, path2 = process.env.PATH ?? "") {
  if (given != null) {
    if (!/^[A-Za-z0-9_./][A-Za-z0-9_./-]*$/.test(given)) throw new InputError("container-cli", `'${given}' is not a command name (expected docker or podman)`);
    return given;
  }
  return !onPath("docker", path2) && onPath("podman", path2) ? "podman" : "docker";
}

// src/options/rules.ts
function checkOptionRules(given) {
  if (!given("image") && !given("image-file")) {
    throw new InputError("image", text`set ${option("image")} (a local image reference) or ${option("image-file")} (an image tarball or OCI layout directory), or both to choose one image of an archive that holds several`);
  }
  if (given("kubo-rpc-headers") && !given("kubo-rpc-url")) {
    throw new InputError("kubo-rpc-headers", text`set ${option("kubo-rpc-url")} too (headers are sent to that endpoint)`);
  }
  if (given("ipns-private-key") && !given("ipns-key")) {
    throw new InputError("ipns-key", text`${option("ipns-private-key")} is set: also name the key (${option("ipns-key")}) it is stored under in the keystore`);
  }
}
function parseCarScope(value) {
  const scope = value ?? "new";
  if (scope !== "new" && scope !== "full") throw new InputError("car-scope", `'${scope}' is not a CAR scope (expected new or full)`);
  return scope;
}
function parseSeconds(value, key) {
  const seconds = Number(value);
  if (value.trim() === "" || !Number.isFinite(seconds) || seconds <= 0) throw new InputError(key, `'${value}' is not a positive number of seconds`);
  return seconds;
}
function describeError(err, label, name4) {
  if (err instanceof IpcrError && err.input != null && err.reason != null) return `${label(err.input)}: ${renderMessage(err.reason, name4)}`;
  return err instanceof Error ? err.message : String(err);
}

// src/cli/help.ts
var mainHelp = "ipcr: the InterPlanetary Container Registry.\n\nPublishes container images to a registry tree on IPFS, where the original recipe still works: 'ipfs get' a tag folder, then 'tar -C DIR -cf - . | docker load'.";
var mainHelpAfter = `
Run 'ipcr help <command>' or 'ipcr <command> --help' for its options.

Examples:
  ipcr demo
  ipcr push team/app:1.0 --store ~/.ipcr
  ipcr get --store ~/.ipcr team/app/tags/1.0 -o app`;
var pushHelp = {
  about: "Publishes one image under one or more tags into a registry tree and writes a CAR. IMAGE is a local image reference, exported with 'docker save' (or 'podman save'); or give --file. Optionally imports the CAR into Kubo, pins the root and publishes IPNS.",
  after: `
Secrets stay out of argv:
  IPCR_KUBO_RPC_HEADERS   'Name: value' lines sent to --kubo-rpc-url, like
                          --kubo-rpc-header (e.g. 'Authorization: Bearer ...')
  --ipns-private-key-file reads the key from a file ('ipfs key export' writes one)
Other environment:
  GITHUB_SHA              Default --revision
  DOCKER_HOST             Used by the docker CLI that exports IMAGE

Examples:
  ipcr push team/app:1.0 --store ~/.ipcr
  ipcr push --file app.tar --name team/app --tag 1.0,latest --car app.car
  ipcr push --file app.tar --name team/app --tag 1.1 --previous-root bafy... \\
            --gateway https://gateway.example --car update.car
  ipcr push team/app:1.2 --container-cli podman --store ~/.ipcr
  IPCR_KUBO_RPC_HEADERS='Authorization: Bearer ...' \\
  ipcr push team/app:1.2 --kubo-rpc-url http://127.0.0.1:5001 --kubo-mfs-path /ipcr \\
            --ipns-key registry --ipns-private-key-file registry.key`
};
var getHelp = {
  about: "Writes a file or folder of a registry to a folder, verifying every block against its CID. The limits are checked against the sizes the DAG declares before anything is written, and again while writing; a failed get leaves nothing at the output.",
  after: `
Example, then load the image with Docker:
  ipcr get --store .ipcr ipcr-demo/tags/latest -o demo
  tar -C demo -cf - . | docker load`
};
var demoHelp = {
  about: "Builds a small two-layer image in-process (no Docker, no IPFS daemon, no network), publishes it as ipcr-demo:latest into the embedded store (default .ipcr), writes the CAR to DIR/demo.car and prints how to load it.",
  after: `
Example:
  ipcr demo --store .ipcr`
};

// src/cli/options.ts
function plain(text2) {
  return text2.replace(/`([^`]*)`/g, "'$1'");
}
function collect(value, previous) {
  return [...previous ?? [], value];
}
function addOptions(program3, command) {
  const attributes = /* @__PURE__ */ new Map();
  for (const def of cliOptions(command)) {
    const cli = def.cli;
    if (cli == null || !cli.flag.startsWith("--")) continue;
    const flags = `${cli.short != null ? `${cli.short}, ` : ""}${cli.flag}${cli.value != null ? ` <${cli.value}>` : ""}`;
    const fallback = cli.default ?? def.default;
    const text2 = plain(cli.description ?? def.description).replace(/,? newline- or comma-separated/, "") + (cli.repeat === true ? " Repeatable, or separate with commas." : "") + (fallback != null ? ` (default: ${plain(fallback)})` : "");
    const option2 = new Option(flags, text2);
    if (cli.repeat === true) option2.argParser(collect);
    program3.addOption(option2);
    attributes.set(def.key, option2.attributeName());
  }
  return (key) => {
    const attribute = attributes.get(key);
    if (attribute == null) throw new Error(`ipcr ${command} has no option '${key}'`);
    return program3.opts()[attribute];
  };
}

// src/cli/logger.ts
function cliLogger(quiet, verbose) {
  const write2 = (line) => {
    process.stderr.write(`${escapeControl(redact(line))}
`);
  };
  return {
    debug: (m) => {
      if (verbose) write2(m);
    },
    info: (m) => {
      if (!quiet) write2(m);
    },
    warn: (m) => {
      write2(`warning: ${m}`);
    },
    group: async (name4, fn) => {
      if (!quiet) write2(`== ${name4}`);
      return await fn();
    }
  };
}

// src/cli/main.ts
var version = "0.1.0";
function list(values) {
  return (Array.isArray(values) ? values : []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "");
}
function str(value) {
  return typeof value === "string" ? value : void 0;
}
function printResult(result, json, print) {
  if (json) {
    print(JSON.stringify({ ...result, pullCommand: pullCommandFor(result) }, null, 2));
    return;
  }
  const out = (line) => {
    print(escapeControl(line));
  };
  out(`Published ${result.name} (${result.tags.map((t) => t.tag).join(", ")})`);
  out(`  registry root  ${result.rootCid}`);
  for (const t of result.tags) out(`  tag ${t.tag}  ${t.cid}`);
  out(`  digest         ${result.digest}`);
  const blocks = `${result.car.scope === "full" ? "the whole registry" : "the blocks this publish added"}, ${result.car.blocks} blocks`;
  out(`  CAR            ${result.car.path != null ? `${result.car.path} (${blocks})` : `none kept (${blocks})`}`);
  for (const d of result.destinations ?? []) out(`  stored in ${d.label}: ${describeDetails(d.details)}`);
  for (const n of result.names ?? []) out(`  ${n.label}  /ipns/${n.name} \u2192 ${n.value}`);
}
async function push(ref, value, out, signal) {
  const headerFlags = list(value("kubo-rpc-headers"));
  checkOptionRules((key) => key === "image" ? ref != null : key === "kubo-rpc-headers" ? headerFlags.length > 0 : value(key) != null);
  const scope = parseCarScope(str(value("car-scope")));
  const maxDecompressed = str(value("max-decompressed-size"));
  const maxDecompressedSize = maxDecompressed != null ? parseSize(maxDecompressed, "max-decompressed-size") : void 0;
  const file = str(value("image-file"));
  const command = file == null ? containerCli(str(value("container-cli"))) : void 0;
  const json = value("json") === true;
  const logger = cliLogger(value("quiet") === true || json, value("verbose") === true);
  const tagList = parseTagList(list(value("tags")).join(","), "tags");
  const storeDir = str(value("store"));
  const carPath = str(value("car-path"));
  if (carPath == null && storeDir == null && str(value("kubo-rpc-url")) == null) {
    throw new InputError("car-path", text`nothing would keep what is published: give ${option("car-path")}, ${option("store")} or ${option("kubo-rpc-url")}`);
  }
  const store = storeDir != null ? new LocalStore(resolve(storeDir)) : void 0;
  const previous = str(value("previous-root"));
  let previousRoot = previous != null ? parseCid(previous, "previous-root") : null;
  const settings = await destinationSettings(value, headerFlags);
  if (previousRoot == null && store != null) previousRoot = await store.readRoot();
  const sources = [
    ...store != null ? [store.blocks] : [],
    ...await openSources({ gateways: list(value("gateways")), cars: list(value("previous-car")) }, logger, { signal })
  ];
  let result;
  try {
    const providers = createProviders(settings, logger);
    result = await runPipeline({
      ...providers,
      image: file != null ? { kind: "file", path: resolve(file), ...ref != null ? { ref } : {} } : { kind: "docker", ref, run: nodeCommandRunner, command },
      name: str(value("name")) ?? (tagList.path != null ? validateName(tagList.path, "tags") : void 0),
      tags: tagList.tags,
      description: str(value("description")),
      previousRoot: resolvePreviousRoot(previousRoot, sources, { car: "--previous-car", root: "--previous-root" }),
      sources,
      sinks: store != null ? [store.blocks] : [],
      ...carPath != null ? { carPath: resolve(carPath) } : {},
      carScope: scope,
      tempDir: tmpdir(),
      maxDecompressedSize,
      revision: str(value("revision")) ?? process.env.GITHUB_SHA,
      now: sourceDateEpoch(process.env.SOURCE_DATE_EPOCH),
      logger,
      signal
    });
  } finally {
    await closeSources(sources);
  }
  if (store != null) await store.writeRoot(parseCid(result.rootCid, "root"));
  printResult(result, json, out);
  return 0;
}
async function destinationSettings(value, headerFlags) {
  const settings = {};
  const url = str(value("kubo-rpc-url"));
  const headerLines = [...headerFlags, ...(process.env.IPCR_KUBO_RPC_HEADERS ?? "").split("\n")];
  const headers = parseHeaderLines(headerLines.join("\n"), "kubo-rpc-headers");
  if (url != null) {
    const timeout = str(value("kubo-timeout"));
    settings.kubo = {
      url,
      headers,
      pinName: str(value("kubo-pin-name")),
      unpinPrevious: value("unpin-previous") !== true,
      mfsPath: str(value("kubo-mfs-path")),
      ...timeout != null ? { timeoutMs: parseSeconds(timeout, "kubo-timeout") * 1e3 } : {}
    };
  }
  const key = str(value("ipns-key"));
  const keyFile = str(value("ipns-private-key"));
  if (key != null) {
    const privateKey = keyFile != null ? await readFile3(keyFile).catch((err) => {
      throw new InputError("ipns-private-key", `cannot read '${keyFile}': ${err.code ?? err.message}`);
    }) : void 0;
    const lifetime = str(value("ipns-lifetime"));
    settings.ipns = { key, ...privateKey != null ? { privateKey: new Uint8Array(privateKey) } : {}, ...lifetime != null ? { lifetime } : {} };
  }
  return settings;
}
async function get(path2, value, out, signal) {
  const maxBytes = str(value("max-bytes"));
  const maxEntries = str(value("max-entries"));
  const maxBlocks = str(value("max-blocks"));
  const limits = {
    ...maxBytes != null ? { maxBytes: parseSize(maxBytes, "max-bytes") } : {},
    ...maxEntries != null ? { maxEntries: parseCount(maxEntries, "max-entries") } : {},
    ...maxBlocks != null ? { maxBlocks: parseCount(maxBlocks, "max-blocks") } : {}
  };
  const output = str(value("output"));
  if (output == null) throw new InputError("output", "expected the folder to write to, or '-' for a tar on standard output");
  const logger = cliLogger(false, false);
  const storeDir = str(value("store"));
  const store = storeDir != null ? new LocalStore(resolve(storeDir)) : void 0;
  const sources = [
    ...store != null ? [store.blocks] : [],
    ...await openSources({ gateways: list(value("gateways")), cars: list(value("cars")), carsInput: "cars" }, logger, { signal })
  ];
  if (sources.length === 0) throw new InputError("store", text`no block source: give ${option("store")}, ${option("cars")} or ${option("gateways")}`);
  try {
    const parts = path2.replace(/^\/?ipfs\//, "").split("/").filter((p) => p !== "");
    let root = null;
    try {
      root = parseCid(parts[0] ?? "", "PATH");
      parts.shift();
    } catch {
      root = store != null ? await store.readRoot() : null;
      if (root == null) throw new InputError("PATH", `'${path2}' does not start with a CID and there is no store root to resolve it in`);
    }
    const source = new BlockCache(new FirstSource(sources), { keep: dagPbOnly });
    const node = await resolvePath(root, parts, source, { signal });
    if (node == null) throw new InputError("PATH", `'${parts.join("/")}' does not exist under ${root.toString()}`);
    const exportOptions = {
      signal,
      logger,
      progressIntervalMs: 1e3,
      limits,
      limitNames: { maxBytes: cliName("max-bytes"), maxEntries: cliName("max-entries"), maxBlocks: cliName("max-blocks") }
    };
    if (output === "-") {
      const written = await exportTar(node.cid, source, process.stdout, exportOptions);
      logger.info(`wrote /ipfs/${node.cid.toString()} as a tar to standard output (${written.files} files, ${formatBytes(written.bytes)})`);
      return 0;
    }
    const outDir = resolve(output);
    const existing = await readdir3(outDir).catch((err) => err.code === "ENOENT" ? [] : ["(not a folder)"]);
    if (existing.length > 0) throw new InputError("output", `'${output}' already exists and is not an empty folder`);
    await exportToDirectory(node.cid, outDir, source, exportOptions);
    out(`wrote /ipfs/${node.cid.toString()} to ${outDir}`);
  } finally {
    await closeSources(sources);
  }
  return 0;
}
function selfCommand() {
  const script = process.argv[1] ?? "";
  if (basename2(script) === "ipcr") return "ipcr";
  const path2 = relative2(process.cwd(), script);
  return `node ${path2.startsWith("..") || path2 === "" ? script : path2}`;
}
async function demo(value, out, signal) {
  const json = value("json") === true;
  const storeDir = str(value("store")) ?? ".ipcr";
  const store = new LocalStore(resolve(storeDir));
  const logger = cliLogger(json, false);
  const work = await mkdtemp4(join10(tmpdir(), "ipcr-demo-"));
  registerTemporary(work);
  try {
    const image = await logger.group("Build the demo image in-process", async () => await writeSampleImage(join10(work, "image"), demoImage));
    const previousRoot = await store.readRoot();
    await mkdir5(store.dir, { recursive: true });
    const result = await publish({
      image: { kind: "file", path: image.dir },
      name: "ipcr-demo",
      tags: ["latest"],
      previousRoot,
      sources: [store.blocks],
      sinks: [store.blocks],
      carPath: join10(store.dir, "demo.car"),
      carScope: "full",
      tempDir: work,
      logger,
      signal
    });
    await store.writeRoot(parseCid(result.rootCid, "root"));
    if (json) {
      printResult(result, true, out);
      return 0;
    }
    printResult(result, false, out);
    out("");
    out(`The store ${storeDir} now holds the registry; its root is in ${storeDir}/root.`);
    out("Load the image with Docker:");
    const folder = `${result.name.replace(/\//g, "_")}_latest`;
    out(`  ${selfCommand()} get --store ${storeDir} ${result.name}/tags/latest -o ${folder}`);
    out(`  tar -C ${folder} -cf - . | docker load`);
    out("Or with an IPFS node, the original recipe:");
    out(`  ipfs dag import ${result.car.path}`);
    out(`  ${pullCommand(result)}`);
    return 0;
  } finally {
    await removeTemporary(work);
  }
}
var USAGE_ERRORS = /* @__PURE__ */ new Set(["commander.unknownOption", "commander.unknownCommand", "commander.excessArguments", "commander.missingArgument", "commander.optionMissingArgument", "commander.missingMandatoryOptionValue", "commander.invalidArgument"]);
function program2(out, err, signal, ran) {
  const output = {
    writeOut: (s) => {
      out(s.replace(/\n$/, ""));
    },
    writeErr: (s) => {
      err(s.replace(/\n$/, ""));
    },
    outputError: (s, write2) => {
      write2(s.replace(/^error: /, "ipcr: "));
    }
  };
  const ipcr = new Command("ipcr").description(mainHelp).version(version, "-V, --version", "Print the version").configureOutput(output).helpOption("-h, --help", "Show this help").exitOverride().showSuggestionAfterError().showHelpAfterError("Run 'ipcr --help' for the commands.").helpCommand("help [command]", "Show help for a command").addHelpText("after", mainHelpAfter);
  const command = (name4, summary, about, after) => {
    const cmd = new Command(name4).summary(summary).description(about).configureOutput(output).exitOverride().showSuggestionAfterError().showHelpAfterError(`Run 'ipcr ${name4} --help' for its options.`).helpOption("-h, --help", "Show this help").addHelpText("after", after);
    const value = addOptions(cmd, name4);
    ipcr.addCommand(cmd);
    return { cmd, value };
  };
  const pushCmd = command("push", "Publish an image (from Docker, podman or a file) into a registry tree and write a CAR", pushHelp.about, pushHelp.after);
  pushCmd.cmd.argument("[IMAGE]", "Local image reference, exported with docker save (or --container-cli); or give --file").action(async (ref) => {
    ran.code = await push(ref, pushCmd.value, out, signal);
  });
  const getCmd = command("get", "Extract a path of a registry (e.g. a tag folder) from a store, CARs or gateways", getHelp.about, getHelp.after);
  getCmd.cmd.argument("<PATH>", "/ipfs/<cid>/<path>, <cid>/<path>, or <path> inside the store's root").action(async (path2) => {
    ran.code = await get(path2, getCmd.value, out, signal);
  });
  const demoCmd = command("demo", "Build a small sample image in-process and publish it into a local store", demoHelp.about, demoHelp.after);
  demoCmd.cmd.action(async () => {
    ran.code = await demo(demoCmd.value, out, signal);
  });
  ipcr.command("version").description("Print the version").action(() => {
    out(version);
  });
  return ipcr;
}
async function main(argv, out = (l) => {
  process.stdout.write(`${l}
`);
}, { signal } = {}) {
  const err = (l) => {
    process.stderr.write(`${l}
`);
  };
  const ran = { code: 0 };
  const ipcr = program2(out, err, signal, ran);
  if (argv.length === 0) {
    err(ipcr.helpInformation().replace(/\n$/, ""));
    return 2;
  }
  try {
    await ipcr.parseAsync(argv, { from: "user" });
    return ran.code;
  } catch (caught) {
    if (caught instanceof CommanderError) {
      if (caught.exitCode === 0) return 0;
      return USAGE_ERRORS.has(caught.code) ? 2 : caught.exitCode;
    }
    const error = signal?.aborted === true ? signal.reason : caught;
    err(`ipcr: ${escapeControl(redact(describeError(error, cliName, cliName)))}`);
    return 1;
  }
}

// src/cli/index.ts
var interrupts = handleInterrupts((message2) => {
  process.stderr.write(`ipcr: ${message2}
`);
});
var code4 = await main(process.argv.slice(2), void 0, { signal: interrupts.signal });
if (interrupts.exitCode != null) process.exit(interrupts.exitCode);
interrupts.dispose();
process.exitCode = code4;
