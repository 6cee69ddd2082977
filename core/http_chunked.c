/* Chunked transfer coding (see http_chunked.h), byte by byte through the framing and by count
 * through the payload. Every rule where two readers could disagree about the end of a chunk
 * is strict: hex digits only (no sign, no "0x", no leading space), whitespace after the size
 * only before an extension, CRLF and never a bare LF or CR, CRLF right after the data, no
 * control bytes in extensions, and trailer lines shaped like header lines. */
#include "config.h"
#include "http_chunked.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

enum {
	CH_SIZE,     /* chunk-size hex digits; c->line == 0 before the first */
	CH_SIZE_WS,  /* BWS after the size: only ';' may follow */
	CH_EXT,      /* chunk extensions up to CR */
	CH_SIZE_LF,  /* the LF ending the chunk-size line */
	CH_DATA,     /* c->left payload bytes */
	CH_DATA_CR,  /* the CRLF after the data */
	CH_DATA_LF,
	CH_TRAILER,  /* start of a trailer line, or of the final CRLF */
	CH_TR_NAME,  /* trailer field name */
	CH_TR_VALUE, /* trailer field value up to CR */
	CH_TR_LF,    /* the LF ending a trailer line */
	CH_END_LF,   /* the LF of the final CRLF */
	CH_DONE,
	CH_FAILED,
};

void http_chunked_init(struct http_chunked *c, const struct http_head_limits *lim)
{
	memset(c, 0, sizeof *c);
	c->state = CH_SIZE;
	c->max_trailer = lim && lim->max_head_bytes ? lim->max_head_bytes : HTTP_HEAD_DEFAULT_BYTES;
	c->max_fields = lim && lim->max_headers ? lim->max_headers : HTTP_MAX_HEADERS;
}

static int hexval(uint8_t ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int tchar(uint8_t ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
		return 1;
	return ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

/* HTAB, SP, VCHAR, obs-text: what a field value or an extension may hold. */
static int text(uint8_t ch)
{
	return ch == '\t' || (ch >= 0x20 && ch != 0x7f);
}

static int failed(struct http_chunked *c, int rc, const char *why)
{
	c->state = CH_FAILED;
	c->err = why;
	c->rc = rc;
	return rc;
}

/* One framing byte. Returns 0, 1 at the end of the body, or an error. */
static int step(struct http_chunked *c, uint8_t ch)
{
	switch (c->state) {
	case CH_SIZE: {
		int v = hexval(ch);
		if (v >= 0) {
			if (c->size > (uint64_t)INT64_MAX >> 4)
				return failed(c, -EPROTO, "chunk size too large");
			c->size = c->size << 4 | (uint64_t)v;
			break;
		}
		if (c->line == 1) /* this byte was counted: no digit came before it */
			return failed(c, -EPROTO, "chunk size not a hex number");
		if (ch == ';')
			c->state = CH_EXT;
		else if (ch == ' ' || ch == '\t')
			c->state = CH_SIZE_WS;
		else if (ch == '\r')
			c->state = CH_SIZE_LF;
		else
			return failed(c, -EPROTO, "invalid chunk size line");
		break;
	}
	case CH_SIZE_WS:
		if (ch == ';')
			c->state = CH_EXT;
		else if (ch != ' ' && ch != '\t')
			return failed(c, -EPROTO, "whitespace after the chunk size");
		break;
	case CH_EXT:
		if (ch == '\r')
			c->state = CH_SIZE_LF;
		else if (!text(ch))
			return failed(c, -EPROTO, "control character in a chunk extension");
		break;
	case CH_SIZE_LF:
		if (ch != '\n')
			return failed(c, -EPROTO, "bare CR in a chunk size line");
		c->line = 0;
		if (c->size) {
			c->left = c->size;
			c->state = CH_DATA;
		} else {
			c->state = CH_TRAILER;
		}
		break;
	case CH_DATA_CR:
		if (ch != '\r')
			return failed(c, -EPROTO, "no CRLF after chunk data");
		c->state = CH_DATA_LF;
		break;
	case CH_DATA_LF:
		if (ch != '\n')
			return failed(c, -EPROTO, "no CRLF after chunk data");
		c->size = 0;
		c->state = CH_SIZE;
		break;
	case CH_TRAILER:
		if (ch == '\r') {
			c->state = CH_END_LF;
		} else if (tchar(ch)) {
			if (c->fields++ == c->max_fields)
				return failed(c, -EMSGSIZE, "too many trailer fields");
			c->state = CH_TR_NAME;
		} else if (ch == ' ' || ch == '\t') {
			return failed(c, -EPROTO, "obsolete line folding in trailers");
		} else if (ch == ':') {
			return failed(c, -EPROTO, "empty trailer name");
		} else {
			return failed(c, -EPROTO, "invalid trailer name");
		}
		break;
	case CH_TR_NAME:
		if (ch == ':')
			c->state = CH_TR_VALUE;
		else if (ch == ' ' || ch == '\t')
			return failed(c, -EPROTO, "whitespace before the colon in trailers");
		else if (!tchar(ch))
			return failed(c, -EPROTO, "invalid trailer name");
		break;
	case CH_TR_VALUE:
		if (ch == '\r')
			c->state = CH_TR_LF;
		else if (!text(ch))
			return failed(c, -EPROTO, "control character in a trailer value");
		break;
	case CH_TR_LF:
	case CH_END_LF:
		if (ch != '\n')
			return failed(c, -EPROTO, "bare CR in trailers");
		if (c->state == CH_END_LF) {
			c->state = CH_DONE;
			return 1;
		}
		c->state = CH_TRAILER;
		break;
	default:
		assert(0 && "not a framing state");
	}
	return 0;
}

int http_chunked_feed(struct http_chunked *c, const uint8_t *p, size_t len, size_t *consumed,
		      size_t *data_off, size_t *data_len, const char **err)
{
	assert((data_off == NULL) == (data_len == NULL));
	size_t off = 0;
	int rc = 0;
	if (data_len)
		*data_off = *data_len = 0;

	if (c->state == CH_FAILED) {
		rc = c->rc;
		goto out;
	}
	while (off < len && c->state != CH_DONE) {
		if (c->state == CH_DATA) {
			size_t take = len - off;
			if (take > c->left)
				take = (size_t)c->left;
			if (data_len) {
				*data_off = off;
				*data_len = take;
			}
			c->left -= take;
			off += take;
			if (c->left == 0)
				c->state = CH_DATA_CR;
			if (data_len)
				break;
			continue;
		}
		uint8_t ch = p[off];
		/* The states that read text: say what is wrong rather than "invalid byte". */
		if (ch == '\n' && (c->state <= CH_EXT || (c->state >= CH_TRAILER &&
							  c->state <= CH_TR_VALUE))) {
			rc = failed(c, -EPROTO, "bare LF");
			goto out;
		}
		if (c->state <= CH_SIZE_LF && ++c->line > HTTP_CHUNK_LINE_MAX) {
			rc = failed(c, -EMSGSIZE, "chunk size line too long");
			goto out;
		}
		if (c->state >= CH_TRAILER && ++c->trailer > c->max_trailer) {
			rc = failed(c, -EMSGSIZE, "trailer section too large");
			goto out;
		}
		rc = step(c, ch);
		if (rc < 0)
			goto out;
		off++;
	}
	rc = c->state == CH_DONE;
out:
	*consumed = off;
	if (rc < 0 && err)
		*err = c->err;
	return rc;
}

uint64_t http_chunked_data_left(const struct http_chunked *c)
{
	return c->state == CH_DATA ? c->left : 0;
}

void http_chunked_skip(struct http_chunked *c, uint64_t n)
{
	if (n == 0)
		return;
	assert(c->state == CH_DATA && n <= c->left);
	c->left -= n;
	if (c->left == 0)
		c->state = CH_DATA_CR;
}

int http_chunked_done(const struct http_chunked *c)
{
	return c->state == CH_DONE;
}
