/* test_status.c - the local status socket (lib/status, Linux): the
 * document, file modes, who may read, stale sockets, bounded readers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lp_loop.h"
#include "lp_status.h"

static const char doc[] = "{\"version\":1}\n";
static unsigned renders;

static ssize_t render(void *user, char *buf, size_t cap)
{
	(void)user;
	renders++;
	assert_true(cap >= sizeof(doc));
	memcpy(buf, doc, sizeof(doc) - 1);
	return (ssize_t)(sizeof(doc) - 1);
}

struct fixture {
	char dir[64];
	char path[100];
	struct lp_loop *loop;
	struct lp_status_server *srv;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct lp_status_server_cfg cfg = { .render = render };

	snprintf(f->dir, sizeof(f->dir), "/tmp/lp-status-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(chmod(f->dir, 0755), 0);
	snprintf(f->path, sizeof(f->path), "%s/peer/status.sock", f->dir);
	assert_int_equal(lp_loop_new(&f->loop), 0);
	cfg.path = f->path;
	assert_int_equal(lp_status_server_new(f->loop, &cfg, NULL, &f->srv), 0);
	renders = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	lp_status_server_del(f->srv);
	lp_loop_del(f->loop);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Runs lp_status_query in a child (as uid when uid != 0) while the loop
 * serves; returns the query's result, and the document in out. */
static int query_as(struct fixture *f, uid_t uid, char *out, size_t cap)
{
	int p[2], status = 0;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char buf[256];
		size_t len = 0;
		int rc;

		close(p[0]);
		if (uid != 0 && (setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0))
			_exit(100);
		rc = lp_status_query(f->path, 2 * LP_NS_PER_SEC, buf, sizeof(buf), &len);
		if (rc == 0 && write(p[1], buf, len) != (ssize_t)len)
			_exit(101);
		_exit(-rc);
	}
	close(p[1]);
	while (waitpid(pid, &status, WNOHANG) == 0)
		assert_true(lp_loop_run_once(f->loop, 10 * LP_NS_PER_MS) >= 0);
	memset(out, 0, cap);
	if (read(p[0], out, cap - 1) < 0)
		out[0] = '\0';
	close(p[0]);
	assert_true(WIFEXITED(status));
	return -WEXITSTATUS(status);
}

static void test_document_and_modes(void **state)
{
	struct fixture *f = *state;
	char out[256], dir[160];
	struct stat st;

	assert_int_equal(query_as(f, 0, out, sizeof(out)), 0);
	assert_string_equal(out, doc);
	assert_int_equal(renders, 1);
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(dir, sizeof(dir), "%s/peer", f->dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
}

/* Another user is kept out by the modes, and - with the modes loosened - by
 * the credential check, which answers nothing. */
static void test_other_user_refused(void **state)
{
	struct fixture *f = *state;
	char out[256], dir[160];

	if (geteuid() != 0) {
		skip();
		return;
	}
	assert_int_equal(query_as(f, 12345, out, sizeof(out)), LP_ERR_PERM);
	assert_int_equal(lp_status_server_refused(f->srv), 0); /* never reached it */
	snprintf(dir, sizeof(dir), "%s/peer", f->dir);
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(chmod(f->path, 0666), 0);
	assert_int_equal(query_as(f, 12345, out, sizeof(out)), LP_ERR_PERM);
	assert_int_equal(out[0], '\0');
	assert_int_equal(lp_status_server_refused(f->srv), 1);
	assert_int_equal(renders, 0);
	/* Root still reads. */
	assert_int_equal(query_as(f, 0, out, sizeof(out)), 0);
}

static void test_stale_and_live(void **state)
{
	struct fixture *f = *state;
	struct lp_status_server_cfg cfg = { .path = f->path, .render = render };
	struct lp_status_server *second = NULL;
	char out[256];
	size_t len = 0;

	/* A live server keeps its socket. */
	assert_int_equal(lp_status_server_new(f->loop, &cfg, NULL, &second), LP_ERR_STATE);
	assert_null(second);
	/* A socket whose daemon is gone is replaced. */
	lp_status_server_del(f->srv);
	f->srv = NULL;
	assert_int_equal(lp_status_query(f->path, LP_NS_PER_SEC, out, sizeof(out), &len),
	                 LP_ERR_NOT_FOUND);
	{
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", f->path);
		assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
		close(fd); /* bound, never listening: what a crash leaves */
	}
	assert_int_equal(lp_status_server_new(f->loop, &cfg, NULL, &f->srv), 0);
	assert_int_equal(query_as(f, 0, out, sizeof(out)), 0);
	assert_string_equal(out, doc);
}

/* Readers that never read are bounded; the loop never waits on them. */
static void test_bounded_readers(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fds[LP_STATUS_CLIENTS_MAX + 2];
	int small = 1;
	char out[256];
	size_t i;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", f->path);
	for (i = 0; i < LP_ARRAY_LEN(fds); i++) {
		fds[i] = socket(AF_UNIX, SOCK_STREAM, 0);
		assert_int_equal(setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)),
		                 0);
		assert_int_equal(connect(fds[i], (struct sockaddr *)&sun, sizeof(sun)), 0);
	}
	for (i = 0; i < 5; i++)
		assert_true(lp_loop_run_once(f->loop, 10 * LP_NS_PER_MS) >= 0);
	/* The document is small: each got it whole, no reader is left pending,
	 * and a real query still works. */
	assert_int_equal(renders, LP_ARRAY_LEN(fds));
	for (i = 0; i < LP_ARRAY_LEN(fds); i++) {
		char buf[64];

		assert_int_equal(recv(fds[i], buf, sizeof(buf), 0), (ssize_t)(sizeof(doc) - 1));
		close(fds[i]);
	}
	assert_int_equal(query_as(f, 0, out, sizeof(out)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_document_and_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_user_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_and_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded_readers, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
