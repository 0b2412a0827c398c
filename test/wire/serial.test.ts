// RFC 1982 serial number arithmetic: the RFC's own examples (section 5) and the 32-bit DNS cases.

import t from 'tap';
import { serialAdd, serialCompare, serialGt, serialLt } from '../../src/wire/serial.js';

t.test('RFC 1982 3.1 addition: modulo 2^bits, n limited to 2^(bits-1)-1', async (t) => {
  t.equal(serialAdd(0xffffffff, 1), 0, 'wraps to zero');
  t.equal(serialAdd(0xfffffff0, 0x20), 0x10);
  t.equal(serialAdd(5, 0), 5);
  t.equal(serialAdd(0, 0x7fffffff), 0x7fffffff, 'largest allowed addend');
  t.throws(() => serialAdd(0, 0x80000000), RangeError, 'addend 2^31 is undefined by the RFC');
  t.throws(() => serialAdd(0, -1), RangeError);
  t.throws(() => serialAdd(2 ** 32, 1), RangeError, 'serial out of range');
  t.throws(() => serialAdd(1.5, 1), RangeError);
});

t.test('RFC 1982 3.2 comparison on 32 bits', async (t) => {
  const cases: [number, number, -1 | 0 | 1 | undefined][] = [
    [1, 1, 0],
    [2, 1, 1],
    [1, 2, -1],
    [0, 0xffffffff, 1], // 0 follows 0xffffffff
    [0xffffffff, 0, -1],
    [1, 0x80000000, -1], // 2^31 - 1 apart: still comparable
    [0x80000001, 1, undefined], // 2^31 apart
    [0, 0x80000000, undefined], // exactly half the space apart: undefined
    [0x80000000, 0, undefined],
    [0x7fffffff, 0xffffffff, undefined],
    [0, 0x7fffffff, -1],
    [0, 0x80000001, 1], // more than half ahead means behind
    [2024010101, 2024010100, 1],
  ];
  for (const [a, b, want] of cases) t.equal(serialCompare(a, b), want, `compare(${a}, ${b})`);
  t.equal(serialGt(0, 0xffffffff), true);
  t.equal(serialGt(0, 0x80000000), false, 'undefined is not greater');
  t.equal(serialLt(0, 0x80000000), false, 'nor less');
  t.equal(serialLt(0xffffffff, 0), true);
});

t.test('RFC 1982 5.1: the SERIAL_BITS = 2 example', async (t) => {
  t.same([0, 1, 2, 3].map((s) => serialAdd(s, 1, 2)), [1, 2, 3, 0], 'addition');
  t.ok(serialGt(1, 0, 2) && serialGt(2, 1, 2) && serialGt(3, 2, 2) && serialGt(0, 3, 2), '1>0, 2>1, 3>2, 0>3');
  t.equal(serialCompare(2, 0, 2), undefined, '2 and 0 are not comparable');
  t.equal(serialCompare(0, 2, 2), undefined);
  t.equal(serialCompare(3, 1, 2), undefined, '3 and 1 are not comparable');
  t.throws(() => serialAdd(0, 2, 2), RangeError, 'only 0 and 1 may be added');
});

t.test('RFC 1982 5.2: the SERIAL_BITS = 8 example', async (t) => {
  t.equal(serialAdd(255, 1, 8), 0);
  t.equal(serialAdd(100, 100, 8), 200);
  t.equal(serialAdd(200, 100, 8), 44);
  const greater: [number, number][] = [[1, 0], [44, 0], [100, 0], [100, 44], [200, 100], [255, 200], [0, 255], [100, 255], [0, 200], [44, 200]];
  for (const [a, b] of greater) {
    t.equal(serialCompare(a, b, 8), 1, `${a} > ${b}`);
    t.equal(serialCompare(b, a, 8), -1, `${b} < ${a}`);
  }
  t.equal(serialCompare(0, 128, 8), undefined, 'half the space apart');
});

t.test('RFC 1982 3.2: the relation is not transitive, so code must never sort serials', async (t) => {
  // 0 < 100 < 200 on 8 bits, yet 200 < 0.
  t.ok(serialLt(0, 100, 8) && serialLt(100, 200, 8) && serialLt(200, 0, 8));
});
