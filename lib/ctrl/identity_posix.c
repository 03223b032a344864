/*
 * identity_posix.c - atomic replace of the identity file on POSIX systems.
 */
#include "lp_base.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "identity_file.h"

/* The directory part of path, for the fsync that makes the rename durable. */
static int open_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	size_t n;

	if (slash == NULL)
		return open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= sizeof(dir))
		return -1;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int lp_ctrl_identity_write_atomic(const char *path, const char *tmp, const char *data, size_t len)
{
	size_t off = 0;
	int fd, dfd, rc = LP_ERR_IO, saved;

	/* A leftover tmp of a crashed run is replaced, never written through:
	 * O_EXCL | O_NOFOLLOW refuse a planted file or symlink. */
	if (unlink(tmp) < 0 && errno != ENOENT)
		return LP_ERR_IO;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return LP_ERR_IO;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		off += (size_t)n;
	}
	if (fsync(fd) < 0)
		goto out;
	if (close(fd) < 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto out;
	/* Best effort: the data is safe; only the rename's durability depends
	 * on the directory being synced. */
	dfd = open_dir_of(path);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
out:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = saved;
	return rc;
}
