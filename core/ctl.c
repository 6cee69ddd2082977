/* Control message encoding and decoding (see ctl.h and doc/PROTOCOL.md). The decoder trusts
 * no length: every field is bounded by its message body, every body by CTL_MAX_BODY. */
#include "config.h"
#include "ctl.h"
#include "frame.h"

#include <errno.h>
#include <string.h>

/* ---- names and static error texts per tag ---- */

struct field_text {
	const char *name, *e_len, *e_dup, *e_long, *e_empty, *e_nul, *e_text;
};

#define FIELD(tag_, name_)                                                                    \
	[tag_] = {name_,           name_ ": bad field length", "duplicate " name_,              \
		  name_ " too long", name_ " empty",             name_ " contains NUL",         \
		  name_ " is not valid UTF-8 text"}

static const struct field_text texts[] = {
	FIELD(T_VERSION_MIN, "version_min"),
	FIELD(T_VERSION_MAX, "version_max"),
	FIELD(T_VERSION, "version"),
	FIELD(T_NODE_ID, "node_id"),
	FIELD(T_ROLE, "role"),
	FIELD(T_CAPS, "caps"),
	FIELD(T_NONCE, "nonce"),
	FIELD(T_PROOF, "proof"),
	FIELD(T_AGENT_ID, "agent_id"),
	FIELD(T_SERVICE, "service"),
	FIELD(T_SEQ, "seq"),
	FIELD(T_TIME, "time"),
	FIELD(T_CODE, "code"),
	FIELD(T_REASON, "reason"),
	FIELD(T_GROUP, "group"),
	FIELD(T_PORT, "port"),
	FIELD(T_PEER, "peer"),
	FIELD(T_CANDIDATES, "candidates"),
	FIELD(T_ATTEMPT, "attempt"),
	FIELD(T_KEY, "key"),
	FIELD(T_STEP, "step"),
	FIELD(T_ELAPSED, "elapsed"),
	FIELD(T_ALLOWED, "allowed"),
	FIELD(T_SVC_NAME, "service name"),
	FIELD(T_SVC_KIND, "service kind"),
	FIELD(T_SVC_DEFAULT, "service default"),
	FIELD(T_PORT_NUMBER, "port number"),
	FIELD(T_PORT_LABEL, "port label"),
};

static int fail(const char **err, const char *why)
{
	if (err)
		*err = why;
	return -EPROTO;
}

static uint64_t get_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void put_be(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = n; i-- > 0; v >>= 8)
		p[i] = (uint8_t)v;
}

/* The length of the text character at s[0..n): valid UTF-8 (no overlong forms, surrogates
 * or code points past U+10FFFF) other than a C0 control or DEL, since these strings end up
 * in logs, headers and URLs. 0 when s does not start with one. */
static size_t text_char(const uint8_t *s, size_t n)
{
	uint8_t c = s[0];
	if (c < 0x80)
		return c >= 0x20 && c != 0x7f;
	size_t more;
	uint32_t cp, min;
	if ((c & 0xe0) == 0xc0)
		more = 1, cp = c & 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		more = 2, cp = c & 0x0f, min = 0x800;
	else if ((c & 0xf8) == 0xf0)
		more = 3, cp = c & 0x07, min = 0x10000;
	else
		return 0;
	if (n - 1 < more)
		return 0;
	for (size_t k = 1; k <= more; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return more + 1;
}

/* 0 when s[0..n) is text, 1 when it holds a NUL, 2 when it is otherwise invalid. */
static int text_check(const uint8_t *s, size_t n)
{
	if (memchr(s, 0, n))
		return 1;
	for (size_t i = 0, k; i < n; i += k)
		if ((k = text_char(s + i, n - i)) == 0)
			return 2;
	return 0;
}

/* Copy a str field of min..max bytes into dst (which holds max + 1). */
static int get_str(const uint8_t *v, size_t n, size_t min, size_t max, char *dst, uint8_t tag,
		   const char **err)
{
	const struct field_text *t = &texts[tag];
	if (n > max)
		return fail(err, t->e_long);
	if (n < min)
		return fail(err, t->e_empty);
	switch (text_check(v, n)) {
	case 1:
		return fail(err, t->e_nul);
	case 2:
		return fail(err, t->e_text);
	}
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

static int get_uint(const uint8_t *v, size_t n, size_t want, uint64_t *out, uint8_t tag,
		    const char **err)
{
	if (n != want)
		return fail(err, texts[tag].e_len);
	*out = get_be(v, n);
	return 0;
}

/* Walks one field list; calls field() for each field whose tag is in [lo, hi] and known (has a
 * name in texts[]) and skips the others, however often they come. Known tags may appear once
 * each unless `repeatable` has their bit. */
typedef int (*field_fn)(uint8_t tag, const uint8_t *v, size_t n, void *ctx, const char **err);

static int walk_fields(const uint8_t *b, size_t len, uint8_t lo, uint8_t hi, uint64_t repeatable,
		       field_fn field, void *ctx, const char **err)
{
	uint64_t seen = 0;
	size_t off = 0;
	while (off < len) {
		if (len - off < 3)
			return fail(err, "truncated field header");
		uint8_t tag = b[off];
		size_t n = (size_t)get_be(b + off + 1, 2);
		off += 3;
		if (n > len - off)
			return fail(err, "bad field length");
		const uint8_t *v = b + off;
		off += n;
		if (tag < lo || tag > hi || !texts[tag].name)
			continue; /* a newer peer's field (also one in a gap of the range) */
		uint64_t bit = 1ull << tag;
		if ((seen & bit) && !(repeatable & bit))
			return fail(err, texts[tag].e_dup);
		seen |= bit;
		int r = field(tag, v, n, ctx, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int service_field(uint8_t tag, const uint8_t *v, size_t n, void *ctx, const char **err)
{
	struct ctl_service *s = ctx;
	uint64_t x;
	int r;
	switch (tag) {
	case T_SVC_NAME:
		if (n > 63)
			return fail(err, "service name too long");
		if (!frame_service_name_valid((const char *)v, n))
			return fail(err, n ? "service name has characters outside [A-Za-z0-9._-]"
					   : "service name empty");
		memcpy(s->name, v, n);
		s->name[n] = '\0';
		return 0;
	case T_SVC_KIND:
		if ((r = get_uint(v, n, 1, &x, tag, err)) < 0)
			return r;
		if (x != OPEN_KIND_TCP && x != OPEN_KIND_HTTP)
			return fail(err, "unknown service kind");
		s->kind = (uint8_t)x;
		return 0;
	case T_SVC_DEFAULT:
		if ((r = get_uint(v, n, 1, &x, tag, err)) < 0)
			return r;
		if (x > 1)
			return fail(err, "service default not 0 or 1");
		s->is_default = (uint8_t)x;
		return 0;
	}
	return 0;
}

/* Shared by the decoder (peer input) and the encoder (never send what the peer refuses). */
static int services_check(const struct ctl_service *sv, int n, const char **err)
{
	int defaults = 0;
	for (int i = 0; i < n; i++) {
		size_t len = strnlen(sv[i].name, sizeof sv[i].name);
		if (len == sizeof sv[i].name || !frame_service_name_valid(sv[i].name, len))
			return fail(err, "service without a valid name");
		if (sv[i].kind != OPEN_KIND_TCP && sv[i].kind != OPEN_KIND_HTTP)
			return fail(err, "service without a valid kind");
		if (sv[i].is_default > 1)
			return fail(err, "service default not 0 or 1");
		defaults += sv[i].is_default;
		for (int j = 0; j < i; j++)
			if (strcmp(sv[i].name, sv[j].name) == 0)
				return fail(err, "service name registered twice");
	}
	if (defaults > 1)
		return fail(err, "more than one default service");
	return 0;
}

int ctl_port_label_valid(const char *s, size_t n)
{
	if (n == 0 || n > CTL_PORT_LABEL_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static int port_field(uint8_t tag, const uint8_t *v, size_t n, void *ctx, const char **err)
{
	struct ctl_port *p = ctx;
	uint64_t x;
	int r;
	switch (tag) {
	case T_PORT_NUMBER:
		if ((r = get_uint(v, n, 2, &x, tag, err)) < 0)
			return r;
		if (x == 0)
			return fail(err, "port number 0");
		p->port = (uint16_t)x;
		return 0;
	case T_PORT_LABEL:
		if (n > CTL_PORT_LABEL_MAX)
			return fail(err, "port label too long");
		if (!ctl_port_label_valid((const char *)v, n))
			return fail(err, "port label empty or with characters outside [A-Za-z0-9._-]");
		memcpy(p->label, v, n);
		p->label[n] = '\0';
		return 0;
	}
	return 0;
}

/* Shared by the decoder and the encoder, like services_check. */
static int ports_check(const struct ctl_port *pv, int n, const char **err)
{
	for (int i = 0; i < n; i++) {
		size_t len = strnlen(pv[i].label, sizeof pv[i].label);
		if (pv[i].port == 0)
			return fail(err, "port without a number");
		if (len == sizeof pv[i].label || (len && !ctl_port_label_valid(pv[i].label, len)))
			return fail(err, "port with an invalid label");
		for (int j = 0; j < i; j++)
			if (pv[i].port == pv[j].port)
				return fail(err, "port reported twice");
	}
	return 0;
}

static int msg_field(uint8_t tag, const uint8_t *v, size_t n, void *ctx, const char **err)
{
	struct ctl_msg *m = ctx;
	uint64_t x;
	int r;
	switch (tag) {
	case T_VERSION_MIN:
	case T_VERSION_MAX:
	case T_VERSION:
		if ((r = get_uint(v, n, 2, &x, tag, err)) < 0)
			return r;
		*(tag == T_VERSION_MIN ? &m->version_min
				       : tag == T_VERSION_MAX ? &m->version_max : &m->version) =
			(uint16_t)x;
		return 0;
	case T_NODE_ID:
		return get_str(v, n, 1, 64, m->node_id, tag, err);
	case T_ROLE:
		if ((r = get_uint(v, n, 1, &x, tag, err)) < 0)
			return r;
		if (x != CTL_ROLE_AGENT && x != CTL_ROLE_SERVER)
			return fail(err, "unknown role");
		m->role = (uint8_t)x;
		return 0;
	case T_CAPS:
		if ((r = get_uint(v, n, 4, &x, tag, err)) < 0)
			return r;
		m->caps = (uint32_t)x;
		return 0;
	case T_NONCE:
		if (n != sizeof m->nonce)
			return fail(err, texts[tag].e_len);
		memcpy(m->nonce, v, n);
		m->has_nonce = 1;
		return 0;
	case T_PROOF:
		if (n != sizeof m->proof)
			return fail(err, texts[tag].e_len);
		memcpy(m->proof, v, n);
		m->has_proof = 1;
		return 0;
	case T_AGENT_ID:
		return get_str(v, n, 1, 64, m->agent_id, tag, err);
	case T_GROUP:
		return get_str(v, n, 1, 64, m->group, tag, err);
	case T_SERVICE:
		if (m->n_services == CTL_MAX_SERVICES)
			return fail(err, "too many services");
		struct ctl_service *s = &m->services[m->n_services];
		r = walk_fields(v, n, T_SVC_NAME, T_SVC_DEFAULT, 0, service_field, s, err);
		if (r < 0)
			return r;
		if (!s->name[0])
			return fail(err, "service without name");
		if (!s->kind)
			return fail(err, "service without kind");
		m->n_services++;
		return 0;
	case T_PORT: {
		if (m->n_ports == CTL_MAX_PORTS)
			return fail(err, "too many ports");
		struct ctl_port *p = &m->ports[m->n_ports];
		r = walk_fields(v, n, T_PORT_NUMBER, T_PORT_LABEL, 0, port_field, p, err);
		if (r < 0)
			return r;
		if (!p->port)
			return fail(err, "port without a number");
		m->n_ports++;
		return 0;
	}
	case T_SEQ:
		return get_uint(v, n, 8, &m->seq, tag, err);
	case T_TIME:
		return get_uint(v, n, 8, &m->time_ns, tag, err);
	case T_CODE:
		if ((r = get_uint(v, n, 4, &x, tag, err)) < 0)
			return r;
		m->code = (uint32_t)x;
		return 0;
	case T_REASON:
		return get_str(v, n, 0, 256, m->reason, tag, err);
	case T_PEER:
		return get_str(v, n, 1, 64, m->peer, tag, err);
	case T_CANDIDATES:
		return get_str(v, n, 0, CTL_CANDIDATES_MAX, m->candidates, tag, err);
	case T_ATTEMPT:
		return get_uint(v, n, 8, &m->attempt, tag, err);
	case T_KEY:
		if (n != sizeof m->key)
			return fail(err, texts[tag].e_len);
		memcpy(m->key, v, n);
		m->has_key = 1;
		return 0;
	case T_STEP:
		return get_str(v, n, 1, 32, m->step, tag, err);
	case T_ELAPSED:
		if ((r = get_uint(v, n, 4, &x, tag, err)) < 0)
			return r;
		m->elapsed_ms = (uint32_t)x;
		return 0;
	case T_ALLOWED:
		return get_str(v, n, 0, CTL_ALLOWED_MAX, m->allowed, tag, err);
	}
	return 0;
}

static int type_known(uint16_t type)
{
	return type >= CTL_HELLO && type <= CTL_DIRECT_RESULT;
}

int ctl_decode(const uint8_t *buf, size_t len, struct ctl_msg *out, const char **err)
{
	if (len < CTL_HEADER_LEN)
		return -EAGAIN;
	uint16_t type = (uint16_t)get_be(buf, 2);
	size_t body = (size_t)get_be(buf + 2, 2);
	if (body > CTL_MAX_BODY) {
		if (err)
			*err = "control message body larger than 16384 bytes";
		return -EMSGSIZE;
	}
	if (len - CTL_HEADER_LEN < body)
		return -EAGAIN;
	memset(out, 0, sizeof *out);
	out->type = type;
	if (type_known(type)) {
		/* Tags 20..24 belong inside service and port: out here they are unknown tags,
		 * skipped however often they come. */
		int r = walk_fields(buf + CTL_HEADER_LEN, body, T_VERSION_MIN, T_ALLOWED,
				    1ull << T_SERVICE | 1ull << T_PORT | 0x1full << T_SVC_NAME, msg_field,
				    out, err);
		if (r < 0)
			return r;
		r = services_check(out->services, out->n_services, err);
		if (r < 0)
			return r;
		r = ports_check(out->ports, out->n_ports, err);
		if (r < 0)
			return r;
	}
	return (int)(CTL_HEADER_LEN + body);
}

/* ---- encoding ---- */

struct writer {
	uint8_t *buf;
	size_t cap, off;
	int nospace;
};

/* Reserve a field header; returns its offset for put_end, or SIZE_MAX when out of space. */
static size_t put_begin(struct writer *w, uint8_t tag)
{
	if (w->cap - w->off < 3) {
		w->nospace = 1;
		return SIZE_MAX;
	}
	size_t at = w->off;
	w->buf[at] = tag;
	w->off += 3;
	return at;
}

static void put_end(struct writer *w, size_t at)
{
	if (at != SIZE_MAX)
		put_be(w->buf + at + 1, w->off - at - 3, 2);
}

static void put_raw(struct writer *w, const void *v, size_t n)
{
	if (w->nospace || w->cap - w->off < n) {
		w->nospace = 1;
		return;
	}
	memcpy(w->buf + w->off, v, n);
	w->off += n;
}

static void put_field(struct writer *w, uint8_t tag, const void *v, size_t n)
{
	size_t at = put_begin(w, tag);
	if (at == SIZE_MAX)
		return;
	put_raw(w, v, n);
	put_end(w, at);
}

static void put_uint(struct writer *w, uint8_t tag, uint64_t v, size_t n)
{
	uint8_t b[8];
	put_be(b, v, n);
	put_field(w, tag, b, n);
}

/* A NUL-terminated string of at most max bytes (array size max + 1) that would decode. */
static int str_ok(const char *s, size_t max, size_t *len)
{
	*len = strnlen(s, max + 1);
	return *len <= max && text_check((const uint8_t *)s, *len) == 0;
}

static int put_str(struct writer *w, uint8_t tag, const char *s, size_t max)
{
	size_t n;
	if (!str_ok(s, max, &n))
		return -EINVAL;
	if (n)
		put_field(w, tag, s, n);
	return 0;
}

static int encode_body(const struct ctl_msg *m, struct writer *w)
{
	switch (m->type) {
	case CTL_HELLO:
		if (m->role > CTL_ROLE_SERVER)
			return -EINVAL;
		if (m->version_min)
			put_uint(w, T_VERSION_MIN, m->version_min, 2);
		if (m->version_max)
			put_uint(w, T_VERSION_MAX, m->version_max, 2);
		if (m->version)
			put_uint(w, T_VERSION, m->version, 2);
		if (put_str(w, T_NODE_ID, m->node_id, 64) < 0)
			return -EINVAL;
		if (m->role)
			put_uint(w, T_ROLE, m->role, 1);
		if (m->caps)
			put_uint(w, T_CAPS, m->caps, 4);
		if (m->has_nonce)
			put_field(w, T_NONCE, m->nonce, sizeof m->nonce);
		return 0;
	case CTL_AUTH:
	case CTL_AUTH_OK:
		if (put_str(w, T_AGENT_ID, m->agent_id, 64) < 0)
			return -EINVAL;
		if (m->type == CTL_AUTH && m->has_proof)
			put_field(w, T_PROOF, m->proof, sizeof m->proof);
		return 0;
	case CTL_REGISTER:
		if (m->n_services < 0 || m->n_services > CTL_MAX_SERVICES ||
		    services_check(m->services, m->n_services, NULL) < 0)
			return -EINVAL;
		if (put_str(w, T_GROUP, m->group, 64) < 0)
			return -EINVAL;
		for (int i = 0; i < m->n_services; i++) {
			const struct ctl_service *s = &m->services[i];
			size_t at = put_begin(w, T_SERVICE);
			if (at == SIZE_MAX)
				break;
			put_field(w, T_SVC_NAME, s->name, strlen(s->name));
			put_uint(w, T_SVC_KIND, s->kind, 1);
			if (s->is_default)
				put_uint(w, T_SVC_DEFAULT, 1, 1);
			put_end(w, at);
		}
		return 0;
	case CTL_PING:
	case CTL_PONG:
		if (m->seq)
			put_uint(w, T_SEQ, m->seq, 8);
		if (m->time_ns)
			put_uint(w, T_TIME, m->time_ns, 8);
		return 0;
	case CTL_GOAWAY:
	case CTL_ERROR:
		if (m->code)
			put_uint(w, T_CODE, m->code, 4);
		return put_str(w, T_REASON, m->reason, 256);
	case CTL_PORTS:
		if (m->n_ports < 0 || m->n_ports > CTL_MAX_PORTS ||
		    ports_check(m->ports, m->n_ports, NULL) < 0)
			return -EINVAL;
		for (int i = 0; i < m->n_ports; i++) {
			const struct ctl_port *p = &m->ports[i];
			size_t at = put_begin(w, T_PORT);
			if (at == SIZE_MAX)
				break;
			put_uint(w, T_PORT_NUMBER, p->port, 2);
			if (p->label[0])
				put_field(w, T_PORT_LABEL, p->label, strlen(p->label));
			put_end(w, at);
		}
		return 0;
	case CTL_DIRECT_REQUEST:
	case CTL_DIRECT_OFFER:
	case CTL_DIRECT_ANSWER:
	case CTL_DIRECT_GO:
	case CTL_DIRECT_RESULT:
		if (m->attempt && m->type != CTL_DIRECT_REQUEST)
			put_uint(w, T_ATTEMPT, m->attempt, 8);
		if (m->type != CTL_DIRECT_ANSWER && put_str(w, T_PEER, m->peer, 64) < 0)
			return -EINVAL;
		if (m->type != CTL_DIRECT_RESULT &&
		    put_str(w, T_CANDIDATES, m->candidates, CTL_CANDIDATES_MAX) < 0)
			return -EINVAL;
		if (m->has_key && (m->type == CTL_DIRECT_OFFER || m->type == CTL_DIRECT_GO))
			put_field(w, T_KEY, m->key, sizeof m->key);
		if ((m->type == CTL_DIRECT_OFFER || m->type == CTL_DIRECT_GO) &&
		    put_str(w, T_ALLOWED, m->allowed, CTL_ALLOWED_MAX) < 0)
			return -EINVAL;
		if (m->type == CTL_DIRECT_ANSWER || m->type == CTL_DIRECT_GO ||
		    m->type == CTL_DIRECT_RESULT) {
			if (m->code)
				put_uint(w, T_CODE, m->code, 4);
			if (put_str(w, T_REASON, m->reason, 256) < 0)
				return -EINVAL;
		}
		if (m->type == CTL_DIRECT_RESULT) {
			if (put_str(w, T_STEP, m->step, 32) < 0)
				return -EINVAL;
			if (m->elapsed_ms)
				put_uint(w, T_ELAPSED, m->elapsed_ms, 4);
		}
		return 0;
	}
	return 0; /* REGISTER_OK and types this build does not know: an empty body */
}

int ctl_encode(const struct ctl_msg *m, uint8_t *buf, size_t cap)
{
	if (cap < CTL_HEADER_LEN)
		return -ENOSPC;
	struct writer w = {buf, cap < CTL_MAX_MSG ? cap : CTL_MAX_MSG, CTL_HEADER_LEN, 0};
	int r = encode_body(m, &w);
	if (r < 0)
		return r;
	if (w.nospace)
		return w.cap < cap ? -EMSGSIZE : -ENOSPC;
	put_be(buf, m->type, 2);
	put_be(buf + 2, w.off - CTL_HEADER_LEN, 2);
	return (int)w.off;
}

void ctl_set_reason(struct ctl_msg *m, const char *text)
{
	const uint8_t *s = (const uint8_t *)(text ? text : "");
	size_t n = strlen((const char *)s), used = 0, max = sizeof m->reason - 1;
	for (size_t i = 0; i < n;) {
		size_t k = text_char(s + i, n - i);
		if (used + (k ? k : 1) > max)
			break;
		if (k) {
			memcpy(m->reason + used, s + i, k);
			used += k;
			i += k;
		} else {
			m->reason[used++] = '?';
			i++;
		}
	}
	m->reason[used] = '\0';
}

const char *ctl_type_name(uint16_t type)
{
	static const char *const names[] = {
		[CTL_HELLO] = "HELLO",
		[CTL_AUTH] = "AUTH",
		[CTL_AUTH_OK] = "AUTH_OK",
		[CTL_REGISTER] = "REGISTER",
		[CTL_REGISTER_OK] = "REGISTER_OK",
		[CTL_PING] = "PING",
		[CTL_PONG] = "PONG",
		[CTL_GOAWAY] = "GOAWAY",
		[CTL_ERROR] = "ERROR",
		[CTL_PORTS] = "PORTS",
		[CTL_DIRECT_REQUEST] = "DIRECT_REQUEST",
		[CTL_DIRECT_OFFER] = "DIRECT_OFFER",
		[CTL_DIRECT_ANSWER] = "DIRECT_ANSWER",
		[CTL_DIRECT_GO] = "DIRECT_GO",
		[CTL_DIRECT_RESULT] = "DIRECT_RESULT",
	};
	return type_known(type) ? names[type] : "unknown";
}

const char *ctl_code_name(uint32_t code)
{
	static const char *const names[] = {
		[CTL_CODE_NONE] = "none",
		[CTL_CODE_PROTOCOL] = "protocol error",
		[CTL_CODE_VERSION] = "no common protocol version",
		[CTL_CODE_AUTH] = "authentication failed",
		[CTL_CODE_IDENTITY] = "identity mismatch",
		[CTL_CODE_REGISTER] = "registration rejected",
		[CTL_CODE_REPLACED] = "replaced by a newer session",
		[CTL_CODE_TIMEOUT] = "timeout",
		[CTL_CODE_LIMIT] = "limit reached",
		[CTL_CODE_INTERNAL] = "internal error",
	};
	return code < sizeof names / sizeof names[0] ? names[code] : "unknown";
}

int ctl_version_pick(uint16_t our_min, uint16_t our_max, uint16_t peer_min, uint16_t peer_max)
{
	if (our_min == 0 || peer_min == 0 || our_min > our_max || peer_min > peer_max)
		return -EPROTO;
	uint16_t lo = our_min > peer_min ? our_min : peer_min;
	uint16_t hi = our_max < peer_max ? our_max : peer_max;
	return lo <= hi ? hi : -EPROTO;
}
