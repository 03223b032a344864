/*
 * status_posix.c - the local status channel on Linux: a Unix stream socket
 * in a 0700 directory, mode 0600, SO_PEERCRED checked; see lp_status.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lp_loop.h"
#include "lp_status.h"

#define ACCEPT_PER_WAKEUP 8

struct reader {
	struct lp_status_server *srv;
	int fd; /* -1: free slot */
	char *doc;
	size_t len, off;
	struct lp_loop_timer timer;
};

struct lp_status_server {
	struct lp_loop *loop;
	const struct lp_logger *log;
	struct lp_status_server_cfg cfg;
	char path[LP_STATUS_PATH_MAX];
	int fd;
	uint64_t refused;
	struct lp_log_ratelimit rl;
	struct reader readers[LP_STATUS_CLIENTS_MAX];
	char scratch[LP_STATUS_DOC_MAX];
};

static int sun_fill(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof(sun->sun_path))
		return LP_ERR_INVAL;
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return 0;
}

static void reader_close(struct reader *r)
{
	if (r->fd < 0)
		return;
	lp_loop_unwatch(r->srv->loop, r->fd);
	lp_loop_timer_cancel(r->srv->loop, &r->timer);
	close(r->fd);
	free(r->doc);
	r->doc = NULL;
	r->fd = -1;
}

static void refuse(struct lp_status_server *s, int fd, const char *why, long uid)
{
	uint64_t skipped = 0;

	s->refused++;
	if (lp_log_ratelimit_ok(&s->rl, lp_loop_now(s->loop), &skipped))
		lp_log(s->log, LP_LOG_WARN,
		       "status: refused a reader on %s: %s (uid %ld; %llu similar skipped)",
		       s->path, why, uid, (unsigned long long)skipped);
	close(fd);
}

/* Writes what the socket takes; true when the reader is done (or gone). */
static bool reader_pump(struct reader *r)
{
	while (r->off < r->len) {
		ssize_t n = send(r->fd, r->doc + r->off, r->len - r->off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		if (n <= 0)
			return true;
		r->off += (size_t)n;
	}
	return true;
}

static void on_reader(struct lp_loop *l, intptr_t fd, unsigned events, void *arg)
{
	struct reader *r = arg;

	(void)l;
	(void)fd;
	(void)events;
	if (reader_pump(r))
		reader_close(r);
}

static void on_reader_timeout(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	struct reader *r = arg;

	(void)l;
	(void)t;
	r->srv->refused++;
	lp_log(r->srv->log, LP_LOG_DEBUG, "status: a reader did not take its document in time");
	reader_close(r);
}

/* Renders the document for one allowed reader and starts sending it. */
static void serve(struct lp_status_server *s, int fd)
{
	struct reader *r = NULL;
	ssize_t n;

	for (size_t i = 0; i < LP_STATUS_CLIENTS_MAX && r == NULL; i++) {
		if (s->readers[i].fd < 0)
			r = &s->readers[i];
	}
	if (r == NULL) {
		refuse(s, fd, "too many readers at once", -1);
		return;
	}
	n = s->cfg.render(s->cfg.user, s->scratch, sizeof(s->scratch));
	if (n <= 0 || (size_t)n > sizeof(s->scratch)) {
		lp_log(s->log, LP_LOG_WARN, "status: cannot render the document: %s",
		       lp_strerror(n < 0 ? (int)n : LP_ERR_NOBUF));
		close(fd);
		return;
	}
	r->fd = fd;
	r->len = (size_t)n;
	r->off = 0;
	r->doc = malloc(r->len);
	if (r->doc == NULL) {
		r->fd = -1;
		close(fd);
		return;
	}
	memcpy(r->doc, s->scratch, r->len);
	if (reader_pump(r)) {
		free(r->doc);
		r->doc = NULL;
		r->fd = -1;
		close(fd);
		return;
	}
	/* The rest goes out as the reader takes it, within the timeout. */
	if (lp_loop_watch(s->loop, fd, LP_LOOP_WRITE, on_reader, r) != 0 ||
	    lp_loop_timer_arm(s->loop, &r->timer,
	                      lp_loop_now(s->loop) + LP_STATUS_WRITE_TIMEOUT_NS) != 0) {
		lp_loop_unwatch(s->loop, fd);
		free(r->doc);
		r->doc = NULL;
		r->fd = -1;
		close(fd);
	}
}

static void on_listen(struct lp_loop *l, intptr_t lfd, unsigned events, void *arg)
{
	struct lp_status_server *s = arg;

	(void)l;
	(void)events;
	for (int i = 0; i < ACCEPT_PER_WAKEUP; i++) {
		struct ucred cred;
		socklen_t clen = sizeof(cred);
		int fd = accept4((int)lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return; /* EAGAIN, or a reader that gave up meanwhile */
		/* The file modes keep other users out already; the credential
		 * check holds even if someone loosened them. */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 ||
		    clen != sizeof(cred)) {
			refuse(s, fd, "no peer credentials", -1);
			continue;
		}
		if (cred.uid != 0 && cred.uid != geteuid()) {
			refuse(s, fd, "another user", (long)cred.uid);
			continue;
		}
		serve(s, fd);
	}
}

/* A socket left by a daemon that died is replaced; a live one is not. */
static int clear_stale(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : LP_ERR_IO;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return LP_ERR_IO;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return LP_ERR_IO;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (rc == 0)
		return LP_ERR_STATE;
	return unlink(path) == 0 ? 0 : LP_ERR_IO;
}

/* Root hands the socket to the user it is about to become. */
static int owner_of(const struct lp_status_server_cfg *cfg, int64_t *uid, int64_t *gid)
{
	struct passwd *pw;

	*uid = *gid = -1;
	if (cfg->owner_user == NULL || geteuid() != 0)
		return 0;
	pw = getpwnam(cfg->owner_user);
	if (pw == NULL)
		return LP_ERR_NOT_FOUND;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/* The socket's directory: created 0700 when missing (its parent too, 0755,
 * for /run/softlan-vpn), handed to the owner-to-be. */
static int make_dir(int64_t owner_uid, int64_t owner_gid, const char *path)
{
	char dir[LP_STATUS_PATH_MAX], *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0700) != 0) {
		char *up = strrchr(dir, '/');

		if (errno == EEXIST)
			return 0; /* somebody else's choice of directory: leave it */
		if (errno != ENOENT || up == NULL || up == dir)
			return LP_ERR_IO;
		*up = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			return LP_ERR_IO;
		*up = '/';
		if (mkdir(dir, 0700) != 0)
			return LP_ERR_IO;
	}
	if (owner_uid >= 0 && chown(dir, (uid_t)owner_uid, (gid_t)owner_gid) != 0)
		return LP_ERR_IO;
	return 0;
}

int lp_status_server_new(struct lp_loop *loop, const struct lp_status_server_cfg *cfg,
                         const struct lp_logger *log, struct lp_status_server **out)
{
	struct lp_status_server *s = NULL;
	struct sockaddr_un sun;
	int64_t uid = -1, gid = -1;
	mode_t old_mask;
	int rc, brc;

	*out = NULL;
	if (cfg == NULL || cfg->render == NULL)
		return LP_ERR_INVAL;
	rc = sun_fill(cfg->path, &sun);
	if (rc != 0)
		return rc;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return LP_ERR_NOMEM;
	s->loop = loop;
	s->log = log;
	s->cfg = *cfg;
	s->fd = -1;
	snprintf(s->path, sizeof(s->path), "%s", cfg->path);
	s->cfg.path = s->path;
	lp_log_ratelimit_init(&s->rl, 5, 10 * LP_NS_PER_SEC);
	for (size_t i = 0; i < LP_STATUS_CLIENTS_MAX; i++) {
		s->readers[i].srv = s;
		s->readers[i].fd = -1;
		lp_loop_timer_init(&s->readers[i].timer, on_reader_timeout, &s->readers[i]);
	}
	rc = owner_of(cfg, &uid, &gid);
	if (rc == 0)
		rc = make_dir(uid, gid, s->path);
	if (rc == 0)
		rc = clear_stale(s->path, &sun);
	if (rc != 0)
		goto fail;
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		rc = LP_ERR_IO;
		goto fail;
	}
	/* Created 0600 from the start: no window where others could connect. */
	old_mask = umask(0177);
	brc = bind(s->fd, (const struct sockaddr *)&sun, sizeof(sun));
	umask(old_mask);
	if (brc != 0 || chmod(s->path, 0600) != 0 ||
	    (uid >= 0 && chown(s->path, (uid_t)uid, (gid_t)gid) != 0) ||
	    listen(s->fd, LP_STATUS_CLIENTS_MAX * 2) != 0) {
		rc = LP_ERR_IO;
		goto fail;
	}
	rc = lp_loop_watch(loop, s->fd, LP_LOOP_READ, on_listen, s);
	if (rc != 0)
		goto fail;
	*out = s;
	return 0;
fail : {
	int saved = errno;

	lp_status_server_del(s);
	errno = saved;
}
	return rc;
}

uint64_t lp_status_server_refused(const struct lp_status_server *s)
{
	return s->refused;
}

void lp_status_server_del(struct lp_status_server *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < LP_STATUS_CLIENTS_MAX; i++)
		reader_close(&s->readers[i]);
	if (s->fd >= 0) {
		lp_loop_unwatch(s->loop, s->fd);
		close(s->fd);
		/* After a privilege drop the directory may no longer let us;
		 * the next start replaces the stale socket then. */
		(void)unlink(s->path);
	}
	free(s);
}

/* ---- Where ------------------------------------------------------------------ */

int lp_status_default_path(const char *kind, const char *room, char *out, size_t cap)
{
	const char *rt = getenv("RUNTIME_DIRECTORY");
	int n;

	if (kind == NULL || room == NULL || strchr(room, '/') != NULL)
		return LP_ERR_INVAL;
	if (rt != NULL && rt[0] == '/') {
		size_t len = strcspn(rt, ":"); /* several directories: the first */

		n = snprintf(out, cap, "%.*s/status.sock", (int)len, rt);
	} else {
		n = snprintf(out, cap, LP_STATUS_RUN_DIR "/%s-%s/status.sock", kind, room);
	}
	return n < 0 || (size_t)n >= cap || (size_t)n >= LP_STATUS_PATH_MAX ? LP_ERR_NOBUF : 0;
}

int lp_status_find(const char *kind, char *out, size_t cap)
{
	char prefix[64], path[LP_STATUS_PATH_MAX], best[LP_STATUS_PATH_MAX] = "";
	const char *bestp = NULL;
	struct dirent *de;
	struct stat st;
	int count = 0, n;
	DIR *d;

	n = snprintf(prefix, sizeof(prefix), "%s-", kind);
	if (n < 0 || (size_t)n >= sizeof(prefix))
		return LP_ERR_INVAL;
	d = opendir(LP_STATUS_RUN_DIR);
	if (d == NULL)
		return errno == ENOENT ? 0 : LP_ERR_IO;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;

		if (strncmp(name, prefix, strlen(prefix)) != 0)
			continue;
		n = snprintf(path, sizeof(path), LP_STATUS_RUN_DIR "/%s/status.sock", name);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		/* Another user's directory (0700) cannot be looked into: it
		 * still counts, its socket would refuse us anyway. */
		if (stat(path, &st) != 0 && errno != EACCES)
			continue;
		if (stat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
			continue;
		count++;
		if (bestp == NULL || strcmp(path, bestp) < 0) {
			snprintf(best, sizeof(best), "%s", path);
			bestp = best;
		}
	}
	closedir(d);
	if (count > 0 && snprintf(out, cap, "%s", best) >= (int)cap)
		return LP_ERR_NOBUF;
	return count;
}

/* ---- The reader side ------------------------------------------------------ */

static int wait_fd(int fd, short what, uint64_t deadline)
{
	for (;;) {
		uint64_t now = lp_now_ns();
		struct pollfd p = { .fd = fd, .events = what };
		int ms, n;

		if (now >= deadline)
			return LP_ERR_TIMEOUT;
		ms = (int)((deadline - now + LP_NS_PER_MS - 1) / LP_NS_PER_MS);
		n = poll(&p, 1, ms);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return LP_ERR_IO;
	}
}

int lp_status_query(const char *path, uint64_t timeout_ns, char *buf, size_t cap, size_t *len)
{
	uint64_t deadline = lp_now_ns() + timeout_ns;
	struct sockaddr_un sun;
	size_t have = 0;
	int fd = -1, rc;

	*len = 0;
	if (buf == NULL || cap < 2)
		return LP_ERR_INVAL;
	rc = sun_fill(path, &sun);
	if (rc != 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return LP_ERR_IO;
	/* A local connect completes or fails at once. */
	if (connect(fd, (const struct sockaddr *)&sun, sizeof(sun)) != 0) {
		rc = errno == ENOENT || errno == ECONNREFUSED || errno == ENOTDIR ? LP_ERR_NOT_FOUND
		     : errno == EACCES || errno == EPERM                          ? LP_ERR_PERM
		                                                                  : LP_ERR_IO;
		goto out;
	}
	for (;;) {
		ssize_t n;

		rc = wait_fd(fd, POLLIN, deadline);
		if (rc != 0)
			goto out;
		n = recv(fd, buf + have, cap - 1 - have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* A refused reader sees its connection reset. */
			rc = errno == ECONNRESET ? LP_ERR_PERM : LP_ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		if (have == cap - 1) {
			char extra;

			if (recv(fd, &extra, 1, MSG_DONTWAIT) > 0) {
				rc = LP_ERR_NOBUF;
				goto out;
			}
		}
	}
	/* Closed without a word: the daemon refused us. */
	rc = have == 0 ? LP_ERR_PERM : 0;
	buf[have] = '\0';
	*len = have;
out : {
	int saved = errno;

	close(fd);
	errno = saved;
}
	return rc;
}
