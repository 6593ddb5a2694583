"""The rows of an 8-bit RGB PNG as bytes (every filter type undone), for shell tests that look
at pixels without Pillow: `sys.path.insert(0, "tests/support"); from png_rows import png_rows`."""
import struct
import zlib


def png_rows(path):
    b = open(path, 'rb').read(); i, idat = 8, b''
    while i < len(b):
        n, t = struct.unpack('>I', b[i:i+4])[0], b[i+4:i+8]
        if t == b'IHDR': w, h = struct.unpack('>II', b[i+8:i+16])
        if t == b'IDAT': idat += b[i+8:i+8+n]
        i += 12 + n
    raw, stride, out, prev = zlib.decompress(idat), w * 3, [], bytearray(w * 3)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - 3] if x >= 3 else 0; up = prev[x]; c = prev[x - 3] if x >= 3 else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + up) & 255
            elif f == 3: line[x] = (line[x] + (a + up) // 2) & 255
            elif f == 4:
                p = a + up - c; pa, pb, pc = abs(p - a), abs(p - up), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else up if pb <= pc else c)) & 255
        out.append(bytes(line)); prev = line
    return out
