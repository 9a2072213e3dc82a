package collector

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"io"
)

// The exposition goes out as one gzip member (RFC 1952) although its parts
// are compressed separately and in parallel: each part is raw DEFLATE ended
// by a sync flush (an empty stored block, so it stops on a byte boundary
// without a final block), and DEFLATE streams joined that way are one
// stream. The scrape appends the self-metrics, closes the stream with a
// final block and writes one trailer whose CRC-32 and length cover the whole
// text. Several members back to back would be valid gzip too, but libcurl
// and other zlib-based readers stop after the first.

// gzipHeader is a member header without a name, time or extra field.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}

// finalBlock is an empty final DEFLATE block (fixed Huffman codes): what
// ends a stream of sync-flushed parts.
var finalBlock = []byte{0x03, 0x00}

// gzipTrailer is the member trailer for text with the given CRC-32 and
// length (RFC 1952 keeps the length modulo 2³²).
func gzipTrailer(crc uint32, n int) []byte {
	var t [8]byte
	binary.LittleEndian.PutUint32(t[:4], crc)
	binary.LittleEndian.PutUint32(t[4:], uint32(n))
	return t[:]
}

// inflate returns a reader of the text of sync-flushed DEFLATE parts.
func inflate(deflate []byte) io.ReadCloser {
	return flate.NewReader(io.MultiReader(bytes.NewReader(deflate), bytes.NewReader(finalBlock)))
}

// crc32Combine returns the CRC-32 (IEEE) of a‖b from crcA, crcB and the
// length of b, so parts checksummed in parallel need not be read again.
// hash/crc32 has no combine and no maintained module offers one; this is
// zlib's crc32_combine: appending lenB zero bytes to a is a linear map on
// the CRC register, applied by squaring the one-zero-bit operator.
func crc32Combine(crcA, crcB uint32, lenB int) uint32 {
	if lenB <= 0 {
		return crcA
	}
	var even, odd [32]uint32 // operators for 2ⁿ zero bits, alternately
	odd[0] = crc32.IEEE      // one zero bit
	row := uint32(1)
	for n := 1; n < 32; n++ {
		odd[n] = row
		row <<= 1
	}
	gf2Square(&even, &odd) // two zero bits
	gf2Square(&odd, &even) // four zero bits
	n := uint64(lenB)
	for {
		gf2Square(&even, &odd) // the first time, one zero byte
		if n&1 != 0 {
			crcA = gf2Times(&even, crcA)
		}
		if n >>= 1; n == 0 {
			break
		}
		gf2Square(&odd, &even)
		if n&1 != 0 {
			crcA = gf2Times(&odd, crcA)
		}
		if n >>= 1; n == 0 {
			break
		}
	}
	return crcA ^ crcB
}

func gf2Times(mat *[32]uint32, vec uint32) uint32 {
	var sum uint32
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

func gf2Square(square, mat *[32]uint32) {
	for n := range mat {
		square[n] = gf2Times(mat, mat[n])
	}
}
