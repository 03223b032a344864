/*
 * file_windows.c - lp_file_write_atomic on Windows; see lp_base.h.
 * MoveFileEx is the rename of Win32: MOVEFILE_REPLACE_EXISTING for the
 * rename-over, without it an existing name is kept.
 */
#include "lp_base.h"

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <sys/stat.h>
#include <windows.h>

int lp_file_write_atomic(const char *path, const void *data, size_t len, unsigned flags)
{
	DWORD move = MOVEFILE_WRITE_THROUGH;
	const char *p = data;
	char tmp[MAX_PATH + 16];
	int fd, n;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return LP_ERR_IO;
	}
	if (remove(tmp) < 0 && errno != ENOENT)
		return LP_ERR_IO;
	/* The file inherits the directory's ACL (the user's profile by
	 * default); _S_IWRITE only keeps it from being read-only. */
	fd = _open(tmp, _O_WRONLY | _O_CREAT | _O_EXCL | _O_BINARY, _S_IREAD | _S_IWRITE);
	if (fd < 0)
		return LP_ERR_IO;
	for (; len > 0; p += n, len -= (size_t)n) {
		n = _write(fd, p, len > 65536 ? 65536u : (unsigned)len);
		if (n <= 0)
			goto fail;
	}
	if (_commit(fd) < 0)
		goto fail;
	if (_close(fd) < 0) {
		remove(tmp);
		return LP_ERR_IO;
	}
	if (!(flags & LP_FILE_NOREPLACE))
		move |= MOVEFILE_REPLACE_EXISTING;
	if (!MoveFileExA(tmp, path, move)) {
		DWORD e = GetLastError();

		remove(tmp);
		if (e == ERROR_ALREADY_EXISTS || e == ERROR_FILE_EXISTS)
			return 1;
		errno = EACCES;
		return LP_ERR_IO;
	}
	return 0;
fail:
	_close(fd);
	remove(tmp);
	return LP_ERR_IO;
}
