/*
 * tap_pipe_server.c - TEST ONLY: stands in for a TAP-Windows6 driver, which
 * does not exist under Wine. Serves a message-mode named pipe that lp_tap
 * opens through lp_tap_config.device_path, and relays each frame between
 * that pipe and UDP on 127.0.0.1, one frame per datagram, so a script on
 * the Linux side can inject and observe frames:
 *
 *   client.exe --(lp_tap, ReadFile/WriteFile)--> \\.\pipe\NAME
 *        <--> tap_pipe_server.exe <--> UDP 127.0.0.1:PORT <--> Linux script
 *
 * Usage: tap_pipe_server [--pipe \\.\pipe\NAME] [--port PORT] [--peer PORT] [--once]
 *   --pipe   pipe name (default \\.\pipe\lanparty-tap-test)
 *   --port   UDP port to bind on 127.0.0.1 (default 0: any)
 *   --peer   UDP port on 127.0.0.1 that frames from the pipe go to. Without
 *            it they go to whoever sent the last datagram (dropped before).
 *            With it, one zero-length datagram is sent there once the pipe
 *            is ready, so the peer learns our port.
 *   --once   exit (status 0) when the first pipe client disconnects
 * Prints "tap_pipe_server: pipe NAME udp 127.0.0.1:PORT" once ready.
 * Zero-length datagrams are never forwarded (a peer may send one to make
 * itself known). Exit status 2: bad usage, 1: a system call failed.
 *
 * lp_tap_open still looks the adapter up in the registry first; under Wine
 * a fake one can be registered like this (GUID of your choice):
 *   wine reg add
 * 'HKLM\SYSTEM\CurrentControlSet\Control\Class\{4D36E972-E325-11CE-BFC1-08002BE10318}\0100' /v
 * ComponentId /d tap0901 /f wine reg add '...same key...' /v NetCfgInstanceId /d '{GUID}' /f
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAME_MAX 65536

static const char *pipe_name = "\\\\.\\pipe\\lanparty-tap-test";
static unsigned short udp_port;
static unsigned short peer_port;
static bool once;

static SOCKET sock = INVALID_SOCKET;
static struct sockaddr_in peer;
static bool have_peer;
static uint8_t buf[FRAME_MAX];

static int fail(const char *what)
{
	fprintf(stderr, "tap_pipe_server: %s failed: error %lu\n", what,
	        (unsigned long)GetLastError());
	return 1;
}

static bool parse_port(const char *s, unsigned short *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v > 65535)
		return false;
	*out = (unsigned short)v;
	return true;
}

static bool parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--once") == 0) {
			once = true;
		} else if (i + 1 < argc && strcmp(argv[i], "--pipe") == 0) {
			pipe_name = argv[++i];
		} else if (i + 1 < argc && strcmp(argv[i], "--port") == 0) {
			if (!parse_port(argv[++i], &udp_port))
				return false;
		} else if (i + 1 < argc && strcmp(argv[i], "--peer") == 0) {
			if (!parse_port(argv[++i], &peer_port) || peer_port == 0)
				return false;
		} else {
			return false;
		}
	}
	return true;
}

/* Blocks until the pipe write completed: a test relay needs no queue. */
static bool pipe_write(HANDLE pipe, HANDLE ev, const uint8_t *p, DWORD len)
{
	OVERLAPPED ov;
	DWORD n;

	memset(&ov, 0, sizeof(ov));
	ov.hEvent = ev;
	if (WriteFile(pipe, p, len, NULL, &ov))
		return true;
	return GetLastError() == ERROR_IO_PENDING && GetOverlappedResult(pipe, &ov, &n, TRUE);
}

/* Datagrams -> pipe, until the socket has none left. false: pipe broken. */
static bool udp_to_pipe(HANDLE pipe, HANDLE wr_ev, bool connected)
{
	for (;;) {
		struct sockaddr_in from;
		int fromlen = sizeof(from);
		int n = recvfrom(sock, (char *)buf, sizeof(buf), 0, (struct sockaddr *)&from,
		                 &fromlen);

		if (n < 0)
			return WSAGetLastError() == WSAEWOULDBLOCK ||
			       WSAGetLastError() == WSAECONNRESET ||
			       WSAGetLastError() == WSAEMSGSIZE;
		if (peer_port == 0) {
			peer = from;
			have_peer = true;
		}
		if (n > 0 && connected && !pipe_write(pipe, wr_ev, buf, (DWORD)n))
			return false;
	}
}

static void pipe_to_udp(DWORD n)
{
	if (have_peer && n > 0)
		sendto(sock, (const char *)buf, (int)n, 0, (const struct sockaddr *)&peer,
		       sizeof(peer));
}

static int setup(HANDLE *pipe, HANDLE *sock_ev)
{
	struct sockaddr_in sin;
	int len = sizeof(sin);
	WSADATA wsa;

	if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0)
		return fail("WSAStartup");
	sock = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
	if (sock == INVALID_SOCKET)
		return fail("socket");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(udp_port);
	if (bind(sock, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(sock, (struct sockaddr *)&sin, &len) != 0)
		return fail("bind");
	*sock_ev = WSACreateEvent();
	/* Also makes the socket non-blocking. */
	if (*sock_ev == WSA_INVALID_EVENT || WSAEventSelect(sock, *sock_ev, FD_READ) != 0)
		return fail("WSAEventSelect");
	*pipe = CreateNamedPipeA(pipe_name,
	                         PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED |
	                                 FILE_FLAG_FIRST_PIPE_INSTANCE,
	                         PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT, 1,
	                         FRAME_MAX, FRAME_MAX, 0, NULL);
	if (*pipe == INVALID_HANDLE_VALUE)
		return fail("CreateNamedPipe");
	if (peer_port != 0) {
		memset(&peer, 0, sizeof(peer));
		peer.sin_family = AF_INET;
		peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		peer.sin_port = htons(peer_port);
		have_peer = true;
		sendto(sock, "", 0, 0, (const struct sockaddr *)&peer, sizeof(peer));
	}
	printf("tap_pipe_server: pipe %s udp 127.0.0.1:%u\n", pipe_name, ntohs(sin.sin_port));
	fflush(stdout);
	return 0;
}

/* Waits for a pipe client; datagrams meanwhile only teach the peer. */
static int await_client(HANDLE pipe, OVERLAPPED *ov, HANDLE sock_ev)
{
	HANDLE evs[2] = { ov->hEvent, sock_ev };
	WSANETWORKEVENTS ne;
	DWORD n;

	if (ConnectNamedPipe(pipe, ov) || GetLastError() == ERROR_PIPE_CONNECTED)
		return 0;
	if (GetLastError() != ERROR_IO_PENDING)
		return fail("ConnectNamedPipe");
	for (;;) {
		DWORD w = WaitForMultipleObjects(2, evs, FALSE, INFINITE);

		if (w == WAIT_OBJECT_0)
			return GetOverlappedResult(pipe, ov, &n, FALSE) ? 0
			                                                : fail("ConnectNamedPipe");
		if (w != WAIT_OBJECT_0 + 1)
			return fail("WaitForMultipleObjects");
		WSAEnumNetworkEvents(sock, sock_ev, &ne);
		udp_to_pipe(pipe, NULL, false);
	}
}

/* Relays until the client goes away. */
static int serve(HANDLE pipe, OVERLAPPED *rd, HANDLE wr_ev, HANDLE sock_ev)
{
	HANDLE evs[2] = { rd->hEvent, sock_ev };
	WSANETWORKEVENTS ne;
	DWORD n;

	for (;;) {
		if (!ReadFile(pipe, buf, sizeof(buf), NULL, rd) &&
		    GetLastError() != ERROR_IO_PENDING)
			return GetLastError() == ERROR_BROKEN_PIPE ? 0 : fail("ReadFile");
		for (;;) {
			DWORD w = WaitForMultipleObjects(2, evs, FALSE, INFINITE);

			if (w == WAIT_OBJECT_0 + 1) {
				WSAEnumNetworkEvents(sock, sock_ev, &ne);
				if (!udp_to_pipe(pipe, wr_ev, true))
					return 0;
				continue;
			}
			if (w != WAIT_OBJECT_0)
				return fail("WaitForMultipleObjects");
			if (!GetOverlappedResult(pipe, rd, &n, FALSE)) {
				/* A frame larger than any we carry: drop it. */
				if (GetLastError() == ERROR_MORE_DATA)
					break;
				return GetLastError() == ERROR_BROKEN_PIPE ? 0 : fail("ReadFile");
			}
			pipe_to_udp(n);
			break;
		}
	}
}

int main(int argc, char **argv)
{
	HANDLE pipe = INVALID_HANDLE_VALUE, sock_ev = WSA_INVALID_EVENT;
	OVERLAPPED conn, rd;
	HANDLE wr_ev;
	int rc;

	if (!parse_args(argc, argv)) {
		fprintf(stderr, "usage: tap_pipe_server [--pipe \\\\.\\pipe\\NAME] [--port PORT] "
		                "[--peer PORT] [--once]\n");
		return 2;
	}
	rc = setup(&pipe, &sock_ev);
	if (rc != 0)
		return rc;
	memset(&conn, 0, sizeof(conn));
	memset(&rd, 0, sizeof(rd));
	conn.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
	rd.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
	wr_ev = CreateEventW(NULL, TRUE, FALSE, NULL);
	if (conn.hEvent == NULL || rd.hEvent == NULL || wr_ev == NULL)
		return fail("CreateEvent");
	for (;;) {
		rc = await_client(pipe, &conn, sock_ev);
		if (rc == 0)
			rc = serve(pipe, &rd, wr_ev, sock_ev);
		if (rc != 0 || once)
			return rc;
		DisconnectNamedPipe(pipe);
	}
}
