package kiemock

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"hash/crc32"
)

// KIE's results are photographs of one to two megabytes; the mock's gradients compress to a tenth of
// that. With Options.ImageMinBytes/ImageMaxBytes set, every image is padded to a size drawn per task
// in that range, with metadata every decoder skips (a PNG tEXt chunk, JPEG COM segments), so
// downloads, hashing and disk use cost what they cost against KIE without the mock spending CPU on
// rendering detail.

const padFiller = "kie-mock padding, not image data. "

// padTarget is the size an image of the task with this id is padded to: fixed per task (the same
// file on every download), uniform in [min, max]. 0 when padding is off.
func padTarget(id string, minBytes, maxBytes int64) int64 {
	if maxBytes <= 0 {
		return 0
	}
	if maxBytes <= minBytes {
		return maxBytes
	}
	sum := sha256.Sum256([]byte(id))
	return minBytes + int64(binary.BigEndian.Uint64(sum[:8])%uint64(maxBytes-minBytes+1)) //nolint:gosec // range checked above
}

// padImage returns data grown to about target bytes (PNG: exactly; JPEG: up to 3 bytes short), or
// data itself when it is already that large or not a PNG/JPEG stream it recognises.
func padImage(data []byte, format string, target int64) []byte {
	need := target - int64(len(data))
	switch {
	case need <= 0:
		return data
	case format == "png":
		return padPNG(data, need)
	default:
		return padJPEG(data, need)
	}
}

// padPNG inserts one tEXt chunk ("Comment" keyword) before the IEND chunk that ends the file.
func padPNG(data []byte, need int64) []byte {
	const keyword = "Comment\x00"
	const iendLen = 12 // length, "IEND", CRC
	textLen := need - 12 - int64(len(keyword))
	if textLen <= 0 || len(data) < iendLen || !bytes.Equal(data[len(data)-iendLen+4:len(data)-4], []byte("IEND")) {
		return data
	}
	out := make([]byte, 0, int64(len(data))+need)
	out = append(out, data[:len(data)-iendLen]...)
	start := len(out)
	out = binary.BigEndian.AppendUint32(out, uint32(int64(len(keyword))+textLen)) //nolint:gosec // bounded by the option's range
	out = append(out, "tEXt"...)
	out = append(out, keyword...)
	out = appendFiller(out, textLen)
	out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[start+4:])) // over type and data
	return append(out, data[len(data)-iendLen:]...)
}

// padJPEG inserts COM segments (at most 65533 bytes of text each) right after the SOI marker.
func padJPEG(data []byte, need int64) []byte {
	const maxText = 65533
	if len(data) < 2 || data[0] != 0xFF || data[1] != 0xD8 {
		return data
	}
	out := make([]byte, 0, int64(len(data))+need)
	out = append(out, data[:2]...)
	for need >= 4 {
		text := min(need-4, maxText)
		out = append(out, 0xFF, 0xFE)
		out = binary.BigEndian.AppendUint16(out, uint16(text+2)) //nolint:gosec // text <= 65533
		out = appendFiller(out, text)
		need -= text + 4
	}
	return append(out, data[2:]...)
}

func appendFiller(b []byte, n int64) []byte {
	for n > 0 {
		k := min(n, int64(len(padFiller)))
		b = append(b, padFiller[:k]...)
		n -= k
	}
	return b
}
