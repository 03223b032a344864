/*
 * capture.c - AF_PACKET capture and injection on the gateway's LAN port.
 */
#include "capture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Each rx slot: tag headroom | virtio-net header | frame room. The
 * headroom lets an offloaded VLAN tag go back in by moving only the 12 MAC
 * bytes. */
#define RX_HEADROOM LP_ETH_VLAN_TAG_LEN
#define RX_SLOT (RX_HEADROOM + LP_GSO_VNET_HDR_LEN + LP_CAPTURE_FRAME_ROOM)
#define RX_CMSG CMSG_SPACE(sizeof(struct tpacket_auxdata))

/* The issue this guards against: a 1514-byte capture buffer truncated
 * tagged and jumbo frames before the budget check could see them. */
_Static_assert(LP_CAPTURE_FRAME_ROOM > LP_ETH_FRAME_STD_MAX,
               "capture buffer must exceed the standard Ethernet frame");
_Static_assert(LP_CAPTURE_FRAME_ROOM >= LP_PROTO_PAYLOAD_MAX,
               "capture buffer must hold the overlay payload ceiling");
_Static_assert(LP_CAPTURE_TX_BYTES >= LP_PROTO_PAYLOAD_MAX, "tx queue must hold a frame");

struct tx_frame {
	size_t off; /* into tx_buf */
	size_t len;
	unsigned segs; /* wire frames it stands for (> 1: a coalesced super-frame) */
	uint8_t vnet[LP_GSO_VNET_HDR_LEN];
};

struct lp_capture {
	int fd;
	int ifindex;
	struct lp_mac mac;
	struct lp_capture_stats stats;

	uint8_t *rx_buf; /* LP_CAPTURE_RX_BATCH slots of RX_SLOT bytes */
	struct mmsghdr rx_msg[LP_CAPTURE_RX_BATCH];
	struct iovec rx_iov[LP_CAPTURE_RX_BATCH];
	union {
		struct cmsghdr align;
		uint8_t buf[RX_CMSG];
	} rx_cmsg[LP_CAPTURE_RX_BATCH];

	uint8_t *tx_buf; /* LP_CAPTURE_TX_BYTES */
	size_t tx_used;  /* bytes of tx_buf holding queued frames */
	size_t tx_head;  /* first unsent frame */
	size_t tx_tail;  /* one past the last queued frame */
	struct tx_frame tx[LP_CAPTURE_TX_SLOTS];
	struct mmsghdr tx_msg[LP_CAPTURE_TX_SLOTS];
	struct iovec tx_iov[LP_CAPTURE_TX_SLOTS][2];
	/* TCP segments from the relay wait here to go out as one super-frame
	 * (the kernel, or the NIC, segments it again): one skb through the
	 * LAN side's stack instead of one per segment. */
	struct lp_gro gro;
};

static int errno_to_lp(int e)
{
	switch (e) {
	case EPERM:
	case EACCES:
		return LP_ERR_PERM;
	case ENODEV:
	case ENXIO:
		return LP_ERR_NOT_FOUND;
	case ENOMEM:
	case ENOBUFS:
		return LP_ERR_NOMEM;
	default:
		return LP_ERR_IO;
	}
}

static int setopt_int(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof(v));
}

void lp_capture_set_authenticated(struct lp_capture *c, bool on)
{
	c->gro.authenticated = on;
}

int lp_capture_open(const char *ifname, struct lp_capture **out)
{
	struct lp_capture *c = NULL;
	struct sockaddr_ll sll;
	struct packet_mreq mr;
	struct ifreq ifr;
	unsigned idx;
	int rc = LP_ERR_IO;

	*out = NULL;
	idx = if_nametoindex(ifname);
	if (idx == 0 || idx > INT32_MAX)
		return LP_ERR_NOT_FOUND;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return LP_ERR_NOMEM;
	c->fd = -1;
	lp_gro_init(&c->gro);
	c->ifindex = (int)idx;
	c->rx_buf = malloc((size_t)LP_CAPTURE_RX_BATCH * RX_SLOT);
	c->tx_buf = malloc(LP_CAPTURE_TX_BYTES);
	if (c->rx_buf == NULL || c->tx_buf == NULL) {
		rc = LP_ERR_NOMEM;
		goto out;
	}

	/* Protocol 0 receives nothing until bind() names the interface, so no
	 * frame of another interface slips into the queue in between. */
	c->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		rc = errno_to_lp(errno);
		goto out;
	}
	if (setopt_int(c->fd, SOL_PACKET, PACKET_VNET_HDR, 1) < 0 ||
	    setopt_int(c->fd, SOL_PACKET, PACKET_AUXDATA, 1) < 0 ||
	    setopt_int(c->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1) < 0) {
		rc = errno_to_lp(errno);
		goto out;
	}
	/* Super-frames are up to 64 KiB each: a default-sized queue would
	 * overflow on the first burst. Best effort; FORCE needs CAP_NET_ADMIN. */
	if (setopt_int(c->fd, SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20) < 0)
		(void)setopt_int(c->fd, SOL_SOCKET, SO_RCVBUF, 8 << 20);

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = c->ifindex;
	if (bind(c->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		rc = errno_to_lp(errno);
		goto out;
	}
	memset(&mr, 0, sizeof(mr));
	mr.mr_ifindex = c->ifindex;
	mr.mr_type = PACKET_MR_PROMISC;
	if (setsockopt(c->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
		rc = errno_to_lp(errno);
		goto out;
	}

	memset(&ifr, 0, sizeof(ifr));
	if (lp_strlcpy_checked(ifr.ifr_name, sizeof(ifr.ifr_name), ifname) < 0) {
		rc = LP_ERR_NOT_FOUND;
		goto out;
	}
	if (ioctl(c->fd, SIOCGIFHWADDR, &ifr) < 0) {
		rc = errno_to_lp(errno);
		goto out;
	}
	memcpy(c->mac.b, ifr.ifr_hwaddr.sa_data, LP_MAC_LEN);

	*out = c;
	c = NULL;
	rc = 0;
out:
	lp_capture_close(c);
	return rc;
}

void lp_capture_close(struct lp_capture *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->rx_buf);
	free(c->tx_buf);
	free(c);
}

int lp_capture_fd(const struct lp_capture *c)
{
	return c->fd;
}

void lp_capture_mac(const struct lp_capture *c, struct lp_mac *out)
{
	*out = c->mac;
}

void lp_capture_get_stats(const struct lp_capture *c, struct lp_capture_stats *out)
{
	*out = c->stats;
}

size_t lp_capture_pending(const struct lp_capture *c)
{
	return c->tx_tail - c->tx_head + c->gro.segs;
}

/* ---- receive ------------------------------------------------------------- */

static const struct tpacket_auxdata *find_aux(struct msghdr *mh, struct tpacket_auxdata *tmp)
{
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == SOL_PACKET && cm->cmsg_type == PACKET_AUXDATA &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(*tmp))) {
			memcpy(tmp, CMSG_DATA(cm), sizeof(*tmp));
			return tmp;
		}
	}
	return NULL;
}

/* Fills one output frame from rx slot i, which received n bytes. */
static void rx_frame(struct lp_capture *c, size_t i, size_t n, struct lp_capture_frame *f)
{
	uint8_t *slot = c->rx_buf + i * RX_SLOT;
	struct msghdr *mh = &c->rx_msg[i].msg_hdr;
	struct tpacket_auxdata auxbuf;
	const struct tpacket_auxdata *aux = find_aux(mh, &auxbuf);
	uint8_t *frame = slot + RX_HEADROOM + LP_GSO_VNET_HDR_LEN;

	memset(f, 0, sizeof(*f));
	f->truncated = (mh->msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
	if (lp_gso_meta_decode(slot + RX_HEADROOM, n, &f->gso) < 0) {
		/* Never happens with PACKET_VNET_HDR; treat as unusable. */
		f->data = frame;
		f->truncated = true;
		return;
	}
	f->wire_len = n - LP_GSO_VNET_HDR_LEN;
	f->len = f->wire_len < LP_CAPTURE_FRAME_ROOM ? f->wire_len : LP_CAPTURE_FRAME_ROOM;
	f->data = frame;
	if (aux != NULL && aux->tp_len > f->wire_len)
		f->truncated = true;

	if (aux != NULL && (aux->tp_status & TP_STATUS_VLAN_VALID) && f->len >= 2 * LP_MAC_LEN) {
		uint16_t tpid = (aux->tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux->tp_vlan_tpid
		                                                             : LP_ETHERTYPE_VLAN;

		/* The vnet header bytes before the frame are decoded already and
		 * become the room for the tag. */
		memmove(frame - LP_ETH_VLAN_TAG_LEN, frame, 2 * LP_MAC_LEN);
		f->data = frame - LP_ETH_VLAN_TAG_LEN;
		lp_put_u16(f->data + 2 * LP_MAC_LEN, tpid);
		lp_put_u16(f->data + 2 * LP_MAC_LEN + 2, aux->tp_vlan_tci);
		f->len += LP_ETH_VLAN_TAG_LEN;
		f->wire_len += LP_ETH_VLAN_TAG_LEN;
		f->vlan_restored = true;
		if (f->gso.flags & LP_GSO_F_NEEDS_CSUM)
			f->gso.csum_start = (uint16_t)(f->gso.csum_start + LP_ETH_VLAN_TAG_LEN);
		if (f->gso.hdr_len != 0)
			f->gso.hdr_len = (uint16_t)(f->gso.hdr_len + LP_ETH_VLAN_TAG_LEN);
	}
}

int lp_capture_recv(struct lp_capture *c, struct lp_capture_frame *out, size_t max)
{
	unsigned n = max < LP_CAPTURE_RX_BATCH ? (unsigned)max : LP_CAPTURE_RX_BATCH;
	unsigned i;
	int got;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		struct msghdr *mh = &c->rx_msg[i].msg_hdr;

		c->rx_iov[i].iov_base = c->rx_buf + (size_t)i * RX_SLOT + RX_HEADROOM;
		c->rx_iov[i].iov_len = LP_GSO_VNET_HDR_LEN + LP_CAPTURE_FRAME_ROOM;
		memset(mh, 0, sizeof(*mh));
		mh->msg_iov = &c->rx_iov[i];
		mh->msg_iovlen = 1;
		mh->msg_control = c->rx_cmsg[i].buf;
		mh->msg_controllen = sizeof(c->rx_cmsg[i].buf);
	}
	do {
		/* MSG_TRUNC makes msg_len the real length, so truncation is seen. */
		got = recvmmsg(c->fd, c->rx_msg, n, MSG_DONTWAIT | MSG_TRUNC, NULL);
	} while (got < 0 && errno == EINTR);
	if (got < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : LP_ERR_IO;
	for (i = 0; i < (unsigned)got; i++) {
		rx_frame(c, i, c->rx_msg[i].msg_len, &out[i]);
		c->stats.rx_frames++;
		if (out[i].truncated)
			c->stats.rx_truncated++;
	}
	return got;
}

/* ---- send ---------------------------------------------------------------- */

static int tx_send(struct lp_capture *c);

/* Moves the unsent frames to the front of tx_buf and tx[]. */
static void tx_compact(struct lp_capture *c)
{
	size_t i, n = c->tx_tail - c->tx_head, base;

	if (c->tx_head == 0)
		return;
	if (n == 0) {
		c->tx_head = c->tx_tail = c->tx_used = 0;
		return;
	}
	base = c->tx[c->tx_head].off;
	memmove(c->tx_buf, c->tx_buf + base, c->tx_used - base);
	c->tx_used -= base;
	for (i = 0; i < n; i++) {
		c->tx[i] = c->tx[c->tx_head + i];
		c->tx[i].off -= base;
	}
	c->tx_head = 0;
	c->tx_tail = n;
}

static int tx_room(const struct lp_capture *c, size_t len)
{
	return c->tx_tail < LP_CAPTURE_TX_SLOTS && c->tx_used + len <= LP_CAPTURE_TX_BYTES;
}

/* Appends one frame (segs wire frames) with its virtio-net header. */
static int tx_append(struct lp_capture *c, const uint8_t *frame, size_t len, unsigned segs,
                     const struct lp_gso_meta *m)
{
	struct tx_frame *t;

	if (!tx_room(c, len)) {
		int rc = tx_send(c);

		if (rc < 0 && rc != LP_ERR_AGAIN)
			return rc;
		tx_compact(c);
		if (!tx_room(c, len))
			return LP_ERR_AGAIN;
	}
	t = &c->tx[c->tx_tail];
	memcpy(c->tx_buf + c->tx_used, frame, len);
	t->off = c->tx_used;
	t->len = len;
	t->segs = segs;
	lp_gso_meta_encode(m, t->vnet);
	c->tx_tail++;
	c->tx_used += len;
	return 0;
}

/* Moves the pending super-frame (if any) into the send queue. */
static int gro_out(struct lp_capture *c)
{
	struct lp_gso_meta m;
	const uint8_t *f;
	size_t len;
	unsigned segs = lp_gro_finish(&c->gro, &m, &f, &len);
	int rc;

	if (segs == 0)
		return 0;
	rc = tx_append(c, f, len, segs, &m);
	if (rc < 0)
		c->stats.tx_errors += segs;
	return rc;
}

int lp_capture_queue(struct lp_capture *c, const uint8_t *frame, size_t len)
{
	static const struct lp_gso_meta none;
	int rc;

	if (len == 0)
		return LP_ERR_INVAL;
	if (len > LP_PROTO_PAYLOAD_MAX)
		return LP_ERR_TOO_BIG;
	rc = lp_gro_add(&c->gro, frame, len);
	if (rc == 0) {
		rc = gro_out(c);
		if (rc < 0)
			return rc;
		rc = lp_gro_add(&c->gro, frame, len);
	}
	if (rc == 1)
		return 0;
	rc = gro_out(c); /* what waited goes first: order kept */
	if (rc < 0)
		return rc;
	return tx_append(c, frame, len, 1, &none);
}

int lp_capture_flush(struct lp_capture *c)
{
	int rc = gro_out(c);

	if (rc < 0 && rc != LP_ERR_AGAIN)
		return rc;
	return tx_send(c);
}

static int tx_send(struct lp_capture *c)
{
	while (c->tx_head < c->tx_tail) {
		size_t i, n = c->tx_tail - c->tx_head;
		int sent;

		for (i = 0; i < n; i++) {
			const struct tx_frame *t = &c->tx[c->tx_head + i];
			struct msghdr *mh = &c->tx_msg[i].msg_hdr;

			c->tx_iov[i][0].iov_base = (void *)(uintptr_t)t->vnet;
			c->tx_iov[i][0].iov_len = sizeof(t->vnet);
			c->tx_iov[i][1].iov_base = c->tx_buf + t->off;
			c->tx_iov[i][1].iov_len = t->len;
			memset(mh, 0, sizeof(*mh));
			mh->msg_iov = c->tx_iov[i];
			mh->msg_iovlen = 2;
		}
		sent = sendmmsg(c->fd, c->tx_msg, (unsigned)n, MSG_DONTWAIT);
		if (sent > 0) {
			for (i = 0; i < (size_t)sent; i++)
				c->stats.tx_frames += c->tx[c->tx_head + i].segs;
			c->tx_head += (size_t)sent;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return LP_ERR_AGAIN;
		if (errno == EBADF || errno == ENOTSOCK || errno == EFAULT)
			return LP_ERR_IO;
		/* The first frame was refused on its own (EMSGSIZE, EINVAL for a
		 * runt, ENETDOWN, ENOBUFS from a qdisc drop, ...): drop it, go on
		 * with the rest. */
		c->stats.tx_errors += c->tx[c->tx_head].segs;
		c->tx_head++;
	}
	c->tx_head = c->tx_tail = c->tx_used = 0;
	return 0;
}
