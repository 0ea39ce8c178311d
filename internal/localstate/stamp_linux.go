//go:build linux

package localstate

import (
	"os"
	"syscall"
)

// stampOf reads the metadata the file index compares; false where the platform does not give it.
func stampOf(info os.FileInfo) (fileStamp, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return fileStamp{}, false
	}
	return fileStamp{
		Size:    info.Size(),
		ModNano: info.ModTime().UnixNano(),
		ChNano:  int64(st.Ctim.Sec)*1e9 + int64(st.Ctim.Nsec), //nolint:unconvert // 32-bit platforms
		Inode:   uint64(st.Ino),                               //nolint:unconvert // 32-bit platforms
		Device:  uint64(st.Dev),                               //nolint:unconvert // 32-bit platforms
	}, true
}
