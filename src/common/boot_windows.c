/*
 * boot_windows.c - the Windows steps of the startup order (boot_os.h):
 * winsock, a 1 ms timer period, Ctrl-C and console close through the loop
 * (lp_loop_signal_add), and the last-chance route restore.
 *
 * Step 5 drops nothing: the Windows client keeps the Administrator token
 * it was started with. Restoring its route changes at exit (the pinned
 * relay route, the TAP's IP MTU, metric and default routes) needs the
 * same rights as making them, and Windows has no way to keep only those.
 *
 * Console close, logoff and shutdown: Windows ends the process about 5 s
 * after the console handlers were called. The loop's handler (SIGTERM)
 * waits up to 4 s for main() to finish; this file's handler, called first,
 * starts a watchdog that runs the app's emergency hook (the route restore)
 * if main() has not finished after WATCHDOG_MS, so a run stuck in its
 * disconnect still leaves the routes as it found them.
 */
#include <winsock2.h>
#include <windows.h>

#include <signal.h>
#include <stdio.h>

#include "boot_os.h"
#include "lp_ctrl.h"
#include "lp_loop.h"

#define WATCHDOG_MS 3000

const char lp_boot_os_name[] = "windows";
const char lp_boot_os_identity[] = LP_CTRL_IDENTITY_FILE;

static volatile LONG stop_requested;
static volatile LONG ctrl_type_seen;
static HANDLE done_event;                 /* set by lp_boot_os_disarm */
static SRWLOCK armed_lock = SRWLOCK_INIT; /* guards armed */
static struct lp_boot *armed;
static volatile LONG watchdog_started;

int lp_boot_os_init(const struct lp_boot_app *app)
{
	WSADATA wsa;

	if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) {
		fprintf(stderr, "%s: cannot start winsock (WSAStartup)\n", app->prog.name);
		return LP_ERR_IO;
	}
	done_event = CreateEventW(NULL, TRUE, FALSE, NULL);
	if (done_event == NULL) {
		fprintf(stderr, "%s: cannot create an event (error %lu)\n", app->prog.name,
		        (unsigned long)GetLastError());
		WSACleanup();
		return LP_ERR_IO;
	}
	/* 1 ms wait granularity instead of the 15.6 ms tick (see lp_loop.h). */
	timeBeginPeriod(1);
	return 0;
}

void lp_boot_os_fini(void)
{
	timeEndPeriod(1);
	CloseHandle(done_event);
	done_event = NULL;
	WSACleanup();
}

static const char *ctrl_name(LONG type)
{
	static const char *const names[] = {
		[CTRL_C_EVENT] = "Ctrl-C",
		[CTRL_BREAK_EVENT] = "Ctrl-Break",
		[CTRL_CLOSE_EVENT] = "console close",
		[CTRL_LOGOFF_EVENT] = "logoff",
		[CTRL_SHUTDOWN_EVENT] = "system shutdown",
	};

	if (type < 0 || (size_t)type >= LP_ARRAY_LEN(names) || names[type] == NULL)
		return "console control event";
	return names[type];
}

static DWORD WINAPI watchdog(LPVOID arg)
{
	(void)arg;
	if (WaitForSingleObject(done_event, WATCHDOG_MS) == WAIT_OBJECT_0)
		return 0;
	AcquireSRWLockExclusive(&armed_lock);
	if (armed != NULL && armed->app->peer->emergency != NULL)
		armed->app->peer->emergency(armed);
	ReleaseSRWLockExclusive(&armed_lock);
	return 0;
}

/* Runs before the loop's handler (registered later): notes what happened,
 * starts the watchdog on a close, and lets the loop's handler act. */
static BOOL WINAPI on_console(DWORD type)
{
	HANDLE t;

	InterlockedExchange(&ctrl_type_seen, (LONG)type);
	if (type != CTRL_C_EVENT && type != CTRL_BREAK_EVENT &&
	    InterlockedExchange(&watchdog_started, 1) == 0) {
		t = CreateThread(NULL, 0, watchdog, NULL, 0, NULL);
		if (t != NULL)
			CloseHandle(t);
	}
	return FALSE;
}

static void on_signal(struct lp_loop *l, int signo, void *arg)
{
	struct lp_boot *b = arg;
	LONG type = InterlockedCompareExchange(&ctrl_type_seen, 0, 0);

	(void)signo;
	if (InterlockedExchange(&stop_requested, 1) == 0)
		lp_log(b->log, LP_LOG_INFO, "%s received, shutting down", ctrl_name(type));
	lp_loop_stop(l);
}

int lp_boot_os_signals(struct lp_boot *b)
{
	int rc = lp_loop_signal_add(b->loop, SIGINT, on_signal, b);

	if (rc == 0)
		rc = lp_loop_signal_add(b->loop, SIGTERM, on_signal, b);
	if (rc < 0)
		return rc;
	AcquireSRWLockExclusive(&armed_lock);
	armed = b;
	ReleaseSRWLockExclusive(&armed_lock);
	return SetConsoleCtrlHandler(on_console, TRUE) ? 0 : LP_ERR_IO;
}

bool lp_boot_os_stopping(void)
{
	return InterlockedCompareExchange(&stop_requested, 0, 0) != 0;
}

/* Nothing to drop before the lookup (see step 5): in this process. */
int lp_boot_os_resolve(void *user, const struct lp_net_endpoint *ep, struct sockaddr_storage *out,
                       size_t max, size_t *n)
{
	(void)user;
	return lp_net_resolve(ep, out, max, n);
}

int lp_boot_os_drop(struct lp_boot *b)
{
	lp_log(b->log, LP_LOG_DEBUG,
	       "privileges: keeping the Administrator rights this client was started with "
	       "(restoring its route changes at exit needs them)");
	return 0;
}

void lp_boot_os_disarm(void)
{
	AcquireSRWLockExclusive(&armed_lock);
	armed = NULL;
	ReleaseSRWLockExclusive(&armed_lock);
	if (done_event != NULL)
		SetEvent(done_event);
	SetConsoleCtrlHandler(on_console, FALSE);
}
