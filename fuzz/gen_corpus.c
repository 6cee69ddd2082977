/* Writes the binary seed corpora of fuzz/corpus/{frame,ctl,descriptor,proxy_proto,peer_wire}
 * with the project's own encoders, so every seed is a valid input the fuzzer then mutates. Not
 * built by make:
 *   cc -std=gnu11 -I<builddir> -Iinclude -Icore -o /tmp/gen_corpus fuzz/gen_corpus.c \
 *      core/frame.c core/ctl.c core/proxy_proto.c core/peer_wire.c && /tmp/gen_corpus fuzz/corpus
 * (config.h from a configured build directory is the only thing needed from it.) */
#include "config.h"
#include "ctl.h"
#include "frame.h"
#include "peer_wire.h"
#include "proxy_proto.h"
#include "proxyd/plugin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *dir;
static uint8_t buf[64 * 1024];
static size_t len;

static void put(const void *p, size_t n)
{
	if (len + n > sizeof buf)
		abort();
	memcpy(buf + len, p, n);
	len += n;
}

static void save(const char *sub, const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	len = 0;
}

static void frame(uint8_t type, uint8_t flags, uint32_t stream, const void *p, size_t n)
{
	uint8_t h[FRAME_HEADER_LEN];
	frame_encode_header(h, &(struct frame_header){(uint32_t)n, type, flags, stream});
	put(h, sizeof h);
	put(p, n);
}

static size_t ctl(const struct ctl_msg *m, uint8_t *out, size_t cap)
{
	int n = ctl_encode(m, out, cap);
	if (n < 0) {
		fprintf(stderr, "ctl_encode %s: %d\n", ctl_type_name(m->type), n);
		exit(1);
	}
	return (size_t)n;
}

static struct ctl_msg msgs[16];
static int n_msgs;

static void make_msgs(void)
{
	struct ctl_msg *m;
	m = &msgs[n_msgs++];
	m->type = CTL_HELLO;
	m->version_min = 1, m->version_max = 1;
	strcpy(m->node_id, "agent-node-1");
	m->role = CTL_ROLE_AGENT;
	memset(m->nonce, 0x11, 32), m->has_nonce = 1;

	m = &msgs[n_msgs++];
	m->type = CTL_HELLO;
	m->version = 1;
	strcpy(m->node_id, "server-node");
	m->role = CTL_ROLE_SERVER;
	m->caps = 1;
	memset(m->nonce, 0x22, 32), m->has_nonce = 1;

	m = &msgs[n_msgs++];
	m->type = CTL_AUTH;
	strcpy(m->agent_id, "agent-1");
	memset(m->proof, 0x33, 32), m->has_proof = 1;

	m = &msgs[n_msgs++];
	m->type = CTL_AUTH_OK;
	strcpy(m->agent_id, "agent-1");

	m = &msgs[n_msgs++];
	m->type = CTL_REGISTER;
	strcpy(m->group, "blue");
	m->n_services = 3;
	m->services[0] = (struct ctl_service){"web", OPEN_KIND_HTTP, 1};
	m->services[1] = (struct ctl_service){"ssh", OPEN_KIND_TCP, 0};
	m->services[2] = (struct ctl_service){"db.primary-1_x", OPEN_KIND_TCP, 0};

	m = &msgs[n_msgs++];
	m->type = CTL_REGISTER_OK;

	m = &msgs[n_msgs++];
	m->type = CTL_PING;
	m->seq = 7, m->time_ns = 1234567890123ull;

	m = &msgs[n_msgs++];
	m->type = CTL_PONG;
	m->seq = 7, m->time_ns = 1234567890123ull;

	m = &msgs[n_msgs++];
	m->type = CTL_GOAWAY;
	m->code = CTL_CODE_NONE;
	strcpy(m->reason, "server shutting down");

	m = &msgs[n_msgs++];
	m->type = CTL_ERROR;
	m->code = CTL_CODE_VERSION;
	strcpy(m->reason, "no common protocol version");

	m = &msgs[n_msgs++];
	m->type = CTL_PORTS;
	m->n_ports = 3;
	m->ports[0] = (struct ctl_port){3000, "app"};
	m->ports[1] = (struct ctl_port){5173, "vite.dev_server-1"};
	m->ports[2] = (struct ctl_port){8080, ""};

	/* direct-path rendezvous (11..15) */
	m = &msgs[n_msgs++];
	m->type = CTL_DIRECT_REQUEST;
	strcpy(m->peer, "db-host");
	strcpy(m->candidates, "host 192.168.1.5:40000,srflx 203.0.113.9:51820");

	m = &msgs[n_msgs++];
	m->type = CTL_DIRECT_OFFER;
	m->attempt = 17;
	strcpy(m->peer, "laptop");
	strcpy(m->candidates, "host 192.168.1.5:40000,srflx 203.0.113.9:51820");
	memset(m->key, 0x44, 32), m->has_key = 1;

	m = &msgs[n_msgs++];
	m->type = CTL_DIRECT_ANSWER;
	m->attempt = 17;
	strcpy(m->candidates, "host 10.0.0.7:41000,srflx 198.51.100.4:62000");

	m = &msgs[n_msgs++];
	m->type = CTL_DIRECT_GO;
	m->attempt = 17;
	strcpy(m->peer, "db-host");
	strcpy(m->candidates, "host 10.0.0.7:41000,srflx 198.51.100.4:62000");
	memset(m->key, 0x44, 32), m->has_key = 1;

	m = &msgs[n_msgs++];
	m->type = CTL_DIRECT_RESULT;
	m->attempt = 17;
	strcpy(m->peer, "db-host");
	m->code = CTL_CODE_TIMEOUT;
	strcpy(m->step, "punch");
	strcpy(m->reason, "no reply from 198.51.100.4:62000");
	m->elapsed_ms = 3000;
}

static void ctl_corpus(void)
{
	uint8_t m[CTL_MAX_MSG];
	char name[64];
	for (int i = 0; i < n_msgs; i++) {
		put(m, ctl(&msgs[i], m, sizeof m));
		snprintf(name, sizeof name, "%02d-%s", i, ctl_type_name(msgs[i].type));
		for (char *c = name; *c; c++)
			*c = (char)(*c == '_' ? '-' : *c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
		save("ctl", name);
	}
	/* a whole handshake in one input */
	for (int i = 0; i < 6; i++)
		put(m, ctl(&msgs[i], m, sizeof m));
	save("ctl", "20-handshake");
	/* a message of a future type, then unknown tags inside a known one */
	put("\x00\x63\x00\x05\x01\x00\x02\xab\xcd", 9);
	put("\x00\x06\x00\x12\x63\x00\x01\x00\x0b\x00\x08\x00\x00\x00\x00\x00\x00\x00\x01\x10\x00\x00", 22);
	save("ctl", "21-unknown-type-and-tags");
}

static void frame_corpus(void)
{
	uint8_t p[FRAME_GOAWAY_MAX + OPEN_HEADER_MAX_LEN + 64];
	uint8_t m[CTL_MAX_MSG];
	size_t n;

	put(FRAME_PREFACE, FRAME_PREFACE_LEN);
	save("frame", "00-preface");

	/* a SYN carrying an HTTP request head, then its FIN */
	const struct open_header oh = {OPEN_KIND_HTTP, "web", "203.0.113.7:50123"};
	n = (size_t)open_header_encode(p, sizeof p, &oh);
	memcpy(p + n, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27);
	frame(FRAME_DATA, FRAME_FLAG_SYN, 2, p, n + 27);
	frame(FRAME_DATA, FRAME_FLAG_FIN, 2, NULL, 0);
	save("frame", "01-syn-http-fin");

	/* SYN and FIN in one frame, tcp kind, IPv6 client */
	const struct open_header oh6 = {OPEN_KIND_TCP, "ssh", "[2001:db8::5]:40000"};
	n = (size_t)open_header_encode(p, sizeof p, &oh6);
	frame(FRAME_DATA, FRAME_FLAG_SYN | FRAME_FLAG_FIN, 1, p, n);
	save("frame", "02-syn-fin-tcp");

	frame(FRAME_WINDOW, 0, 2, p, frame_encode_window(p, 262144));
	save("frame", "03-window");

	frame(FRAME_RST, 0, 2, p, frame_encode_rst(p, RST_NO_SERVICE, "no service 'web'"));
	save("frame", "04-rst");

	frame(FRAME_PING, 0, 0, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	frame(FRAME_PING, FRAME_FLAG_ACK, 0, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	save("frame", "05-ping-ack");

	frame(FRAME_GOAWAY, 0, 0, p, frame_encode_goaway(p, 41, CTL_CODE_NONE, "restart"));
	save("frame", "06-goaway");

	frame(0x2a, 0xff, 9, "future", 6);
	frame(FRAME_DATA, 0, 4, "after the unknown frame", 23);
	save("frame", "07-unknown-type");

	/* a session start: preface, control messages on stream 0, a stream with data */
	put(FRAME_PREFACE, FRAME_PREFACE_LEN);
	for (int i = 0; i < 2; i++)
		frame(FRAME_DATA, 0, 0, m, ctl(&msgs[i], m, sizeof m));
	n = (size_t)open_header_encode(p, sizeof p, &oh);
	frame(FRAME_DATA, FRAME_FLAG_SYN, 2, p, n);
	frame(FRAME_DATA, 0, 2, "hello", 5);
	frame(FRAME_WINDOW, 0, 2, p, frame_encode_window(p, 5));
	frame(FRAME_RST, 0, 2, p, frame_encode_rst(p, RST_CANCEL, NULL));
	save("frame", "08-session");

	/* a bare open header (the harness also decodes the whole input as one) */
	put(p, (size_t)open_header_encode(p, sizeof p, &oh));
	save("frame", "09-open-header");
}

/* Preambles and leg frames as two agents write them: a peer connection's start, every frame
 * type, a bare preamble, a resumed leg. */
static void peer_wire_corpus(void)
{
	uint8_t p[PEER_FRAME_HEADER + 4 + PEER_REASON_MAX];
	int n = peer_preamble_encode("db-host", p, sizeof p);
	if (n < 0)
		abort();
	put(p, (size_t)n);
	save("peer_wire", "00-preamble");

	put(p, (size_t)n);
	put(p, peer_encode_leg(p, 1, 0, 0));
	peer_encode_data_header(p, 18);
	put(p, PEER_FRAME_HEADER);
	put("GET / HTTP/1.1\r\n\r\n", 18);
	put(p, peer_encode_u64(p, PF_ACK, 18));
	put(p, peer_encode_u64(p, PF_FIN, 18));
	save("peer_wire", "01-connection");

	put(p, peer_encode_leg(p, 0x0123456789abcdefull, 1048576, 0));
	put(p, peer_encode_u64(p, PF_PING, 0x1122334455667788ull));
	put(p, peer_encode_u64(p, PF_PONG, 0x1122334455667788ull));
	save("peer_wire", "02-resumed-leg-ping-pong");

	n = peer_preamble_encode("laptop", p, sizeof p);
	if (n < 0)
		abort();
	put(p, (size_t)n);
	put(p, peer_encode_leg(p, 9, 0, 0));
	put(p, peer_encode_rst(p, 3, "agent.allow: laptop may not reach 'ssh'"));
	save("peer_wire", "03-refused");

	peer_encode_data_header(p, 1);
	put(p, PEER_FRAME_HEADER);
	put("x", 1);
	put(p, peer_encode_rst(p, 0, NULL));
	save("peer_wire", "04-data-rst");
}

/* Layout of fuzz_descriptor's input: selector byte (bit 0-1 name, 2 version, 3 init, 4 fini,
 * 5 ops), errlen byte, the descriptor's bytes, then the ops table's bytes. */
static void descriptor(const char *name, uint8_t sel, uint8_t errlen, uint32_t magic,
		       uint16_t major, uint16_t minor, uint32_t size, uint32_t kind,
		       uint32_t ops_size, size_t ops_bytes)
{
	struct proxyd_plugin_descriptor d;
	memset(&d, 0, sizeof d);
	d.magic = magic, d.abi_major = major, d.abi_minor = minor, d.size = size, d.kind = kind;
	d.ops_size = ops_size;
	put(&sel, 1);
	put(&errlen, 1);
	put(&d, sizeof d);
	uint8_t ops[sizeof(struct proxyd_transport_ops) + 64];
	memset(ops, 0x01, sizeof ops); /* non-NULL function pointers */
	put(ops, ops_bytes < sizeof ops ? ops_bytes : sizeof ops);
	save("descriptor", name);
}

static void descriptor_corpus(void)
{
	const uint32_t M = PROXYD_PLUGIN_MAGIC, S = sizeof(struct proxyd_plugin_descriptor);
	const uint8_t all = 2 | 4 | 8 | 16 | 32;
	const uint32_t T = sizeof(struct proxyd_transport_ops), R = sizeof(struct proxyd_router_ops),
		       P = sizeof(struct proxyd_provider_ops);
	descriptor("00-transport", all, 255, M, PROXYD_ABI_MAJOR, PROXYD_ABI_MINOR, S, 1, T, T);
	descriptor("01-router", all, 255, M, PROXYD_ABI_MAJOR, PROXYD_ABI_MINOR, S, 2, R, R);
	descriptor("02-provider", all, 255, M, PROXYD_ABI_MAJOR, PROXYD_ABI_MINOR, S, 3, P, P);
	descriptor("03-short-ops", all, 255, M, PROXYD_ABI_MAJOR, PROXYD_ABI_MINOR, S, 1, 24, T);
	descriptor("04-bad-magic", all, 16, 0xdeadbeef, PROXYD_ABI_MAJOR, 0, S, 1, T, T);
	descriptor("05-newer-minor", all, 8, M, PROXYD_ABI_MAJOR, PROXYD_ABI_MINOR + 1, S, 1, T, T);
	descriptor("06-no-name", 32 | 8 | 16, 255, M, PROXYD_ABI_MAJOR, 0, S, 1, T, T);
	descriptor("07-no-init", 2 | 32, 0, M, PROXYD_ABI_MAJOR, 0, S, 1, T, T);
}

/* Headers as the agent writes them, one with v2 TLVs after the addresses, and inputs for the
 * harness's encoder half: a version byte, then client and local address split by a NUL. */
static void proxy_proto_header(int version, const char *client, const char *local, const char *name)
{
	uint8_t h[PROXY_PROTO_ENCODE_MAX];
	int n = proxy_proto_encode(version, client, local, h, sizeof h);
	if (n <= 0)
		abort();
	put(h, (size_t)n);
	save("proxy_proto", name);
}

static void proxy_proto_corpus(void)
{
	proxy_proto_header(1, "192.0.2.1:50123", "127.0.0.1:2222", "00-v1-tcp4");
	proxy_proto_header(1, "[2001:db8::1]:443", "127.0.0.1:22", "01-v1-tcp6-mapped");
	proxy_proto_header(1, NULL, NULL, "02-v1-unknown");
	proxy_proto_header(2, "192.0.2.1:50123", "127.0.0.1:2222", "03-v2-tcp4");
	proxy_proto_header(2, "[2001:db8::1]:443", "[::1]:22", "04-v2-tcp6");
	proxy_proto_header(2, NULL, NULL, "05-v2-unspec");
	uint8_t h[PROXY_PROTO_ENCODE_MAX];
	int n = proxy_proto_encode(2, "10.0.0.1:1", "10.0.0.2:2", h, sizeof h);
	const uint8_t tlv[] = {0x02, 0x00, 0x04, 'h', 'o', 's', 't'}; /* PP2_TYPE_AUTHORITY */
	h[15] = (uint8_t)(h[15] + sizeof tlv);
	put(h, (size_t)n);
	put(tlv, sizeof tlv);
	save("proxy_proto", "06-v2-tlv");
	const char v4[] = "\x01" "192.0.2.1:50123\0" "127.0.0.1:2222";
	put(v4, sizeof v4 - 1);
	save("proxy_proto", "07-encode-v2-tcp4");
	const char v6[] = "\x00" "[2001:db8::1]:443\0" "127.0.0.1:22";
	put(v6, sizeof v6 - 1);
	save("proxy_proto", "08-encode-v1-mixed");
}

int main(int argc, char **argv)
{
	dir = argc > 1 ? argv[1] : "fuzz/corpus";
	make_msgs();
	ctl_corpus();
	frame_corpus();
	descriptor_corpus();
	proxy_proto_corpus();
	peer_wire_corpus();
	return 0;
}
