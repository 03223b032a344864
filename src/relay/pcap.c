/*
 * pcap.c - the relay's capture file (see pcap.h). The classic libpcap format
 * (magic a1b2c3d4, version 2.4, microsecond timestamps) in host byte order,
 * which every reader handles; no libpcap dependency for 30 lines of format.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lp_proto.h"
#include "pcap.h"

#define PCAP_MAGIC 0xa1b2c3d4u
#define PCAP_LINKTYPE_ETHERNET 1u
#define PCAP_SNAPLEN 65535u
#define PCAP_FILE_HDR_LEN 24u
#define PCAP_REC_HDR_LEN 16u
#define PCAP_BUF_LEN (64u * 1024u)

struct relay_pcap {
	FILE *f;
	const struct lp_logger *log;
	char *path;
	uint64_t written, max_bytes, records;
	bool stopped;
	char buf[PCAP_BUF_LEN];
};

static void stop(struct relay_pcap *pc, const char *why)
{
	pc->stopped = true;
	lp_log(pc->log, LP_LOG_WARN,
	       "pcap: capture to %s stopped after %llu frames (%llu bytes): %s", pc->path,
	       (unsigned long long)pc->records, (unsigned long long)pc->written, why);
}

int relay_pcap_open(const char *path, uint64_t max_bytes, const struct lp_logger *log,
                    struct relay_pcap **out)
{
	const uint32_t hdr[6] = { PCAP_MAGIC, 2u | (4u << 16), 0,
		                  0,          PCAP_SNAPLEN,    PCAP_LINKTYPE_ETHERNET };
	struct relay_pcap *pc = NULL;
	int fd = -1, rv = LP_ERR_IO;

	*out = NULL;
	pc = calloc(1, sizeof(*pc));
	if (pc == NULL || (pc->path = strdup(path)) == NULL) {
		rv = LP_ERR_NOMEM;
		goto out;
	}
	pc->log = log;
	pc->max_bytes = max_bytes;
	/* Open rooms' frames are plaintext: the file is the operator's only. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) != 0 || (pc->f = fdopen(fd, "wb")) == NULL) {
		lp_log(log, LP_LOG_ERROR, "pcap: cannot create %s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	/* _IOFBF with our buffer: one write(2) per 64 KiB, not per frame. */
	if (setvbuf(pc->f, pc->buf, _IOFBF, sizeof(pc->buf)) != 0 ||
	    fwrite(hdr, sizeof(hdr), 1, pc->f) != 1 || fflush(pc->f) != 0) {
		lp_log(log, LP_LOG_ERROR, "pcap: cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	pc->written = PCAP_FILE_HDR_LEN;
	lp_log(log, LP_LOG_WARN,
	       "pcap: writing every forwarded frame to %s (at most %llu bytes); open rooms' frames "
	       "are readable there",
	       path, (unsigned long long)max_bytes);
	*out = pc;
	pc = NULL;
	rv = 0;
out:
	if (fd >= 0)
		close(fd);
	relay_pcap_close(pc);
	return rv;
}

void relay_pcap_datagram(struct relay_pcap *pc, const uint8_t *data, size_t len)
{
	struct timespec ts;
	uint32_t rec[4];
	size_t n;

	if (pc == NULL || pc->stopped || len <= LP_PROTO_OVERLAY_HDR_LEN)
		return;
	n = len - LP_PROTO_OVERLAY_HDR_LEN;
	if (pc->written + PCAP_REC_HDR_LEN + n > pc->max_bytes) {
		stop(pc, "--pcap-max-mb reached");
		return;
	}
	/* Wall-clock time: a capture is read against other logs, never timed. */
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	rec[0] = (uint32_t)ts.tv_sec;
	rec[1] = (uint32_t)(ts.tv_nsec / 1000);
	rec[2] = (uint32_t)n;
	rec[3] = (uint32_t)n;
	if (fwrite(rec, sizeof(rec), 1, pc->f) != 1 ||
	    fwrite(data + LP_PROTO_OVERLAY_HDR_LEN, n, 1, pc->f) != 1) {
		stop(pc, strerror(errno));
		return;
	}
	pc->written += PCAP_REC_HDR_LEN + n;
	pc->records++;
}

void relay_pcap_flush(struct relay_pcap *pc)
{
	if (pc != NULL && !pc->stopped && fflush(pc->f) != 0)
		stop(pc, strerror(errno));
}

void relay_pcap_close(struct relay_pcap *pc)
{
	if (pc == NULL)
		return;
	if (pc->f != NULL && fclose(pc->f) != 0 && !pc->stopped)
		lp_log(pc->log, LP_LOG_WARN, "pcap: closing %s: %s", pc->path, strerror(errno));
	free(pc->path);
	free(pc);
}
