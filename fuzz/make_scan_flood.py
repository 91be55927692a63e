#!/usr/bin/env python3
"""Makes a "scan flood" progressive JPEG: a tiny file that costs the JPEG decoder time in proportion to its
size times nothing it can see (found while fuzzing, see Tests/ConvBankTests/Fixtures/fuzz/README.md).

One gray component of SIDE x SIDE, a Huffman AC table whose only code ('0') is EOB14, then as many AC scans
(Ss=1, Se=63) as fit in BUDGET bytes; each scan skips every block with a few EOB runs (~2 bytes per 32,767
blocks) but libjpeg still walks all blocks once per scan. DC=1 puts a proper DC scan first (the file is then
valid and decodes without a warning); DC=0 leaves it out (every AC scan warns "Inconsistent progression").

    python3 fuzz/make_scan_flood.py SIDE BUDGET DC OUT
    python3 fuzz/make_scan_flood.py 8192 16384 0 Tests/ConvBankTests/Fixtures/fuzz/jpeg_progressive_scan_flood_8192.jpg
"""
import struct, sys
def seg(m, body): return b'\xff' + bytes([m]) + struct.pack('>H', len(body) + 2) + body
def bits_to_bytes(bits):
    bits += '1' * (-len(bits) % 8)
    out = bytearray()
    for i in range(0, len(bits), 8):
        v = int(bits[i:i+8], 2); out.append(v)
        if v == 0xFF: out.append(0)
    return bytes(out)
def bomb(side, budget, dc):
    blocks = ((side + 7) // 8) ** 2
    f = b'\xff\xd8' + seg(0xDB, b'\x00' + b'\x01' * 64)
    f += seg(0xC2, bytes([8]) + struct.pack('>HH', side, side) + b'\x01' + b'\x01\x11\x00')
    f += seg(0xC4, b'\x00' + bytes([1] + [0]*15) + b'\x00')      # DC table 0: symbol 0 (no diff), code '0'
    f += seg(0xC4, b'\x10' + bytes([1] + [0]*15) + b'\xe0')      # AC table 0: symbol E0 (EOB run 2^14 + 14 bits), code '0'
    if dc:
        f += seg(0xDA, b'\x01\x01\x00' + b'\x00\x00\x00') + bits_to_bytes('0' * blocks)
    runs = -(-blocks // 32767)
    scan = seg(0xDA, b'\x01\x01\x00' + b'\x01\x3f\x00') + bits_to_bytes(('0' + '1' * 14) * runs)
    n = max(1, (budget - len(f) - 2) // len(scan))
    return f + scan * n + b'\xff\xd9', n
side, budget, dc = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == '1'
data, n = bomb(side, budget, dc)
open(sys.argv[4], 'wb').write(data)
print(sys.argv[4], len(data), 'bytes', n, 'AC scans', side, 'x', side)
