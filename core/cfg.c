/* Configuration tree access with known-key tracking and collected errors (see cfg.h). */
#include "config.h"
#include "cfg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The address of this marks a setting as known (libconfig's per-setting user hook). */
static char known_mark;

#define SETTING(n) ((config_setting_t *)(n))
#define NODE(s) ((const proxyd_cfg *)(s))

static struct cfg_file *file_of(const config_setting_t *s)
{
	return (struct cfg_file *)s->config;
}

static void add_error(struct cfg_file *f, const char *file, int line, const char *msg)
{
	char buf[1024];
	if (line > 0)
		snprintf(buf, sizeof buf, "%s:%d: %s", file, line, msg);
	else
		snprintf(buf, sizeof buf, "%s: %s", file, msg);
	char **grown = realloc(f->errors, (size_t)(f->n_errors + 1) * sizeof *grown);
	if (!grown)
		return;
	f->errors = grown;
	f->errors[f->n_errors] = strdup(buf);
	if (f->errors[f->n_errors])
		f->n_errors++;
}

static int finish_load(struct cfg_file *f, int ok)
{
	if (ok == CONFIG_TRUE) {
		f->parsed = 1;
		return 0;
	}
	if (config_error_type(&f->lc) == CONFIG_ERR_FILE_IO) {
		char msg[512];
		snprintf(msg, sizeof msg, "cannot read: %s", strerror(errno ? errno : EIO));
		add_error(f, f->path, 0, msg);
	} else {
		const char *file = config_error_file(&f->lc);
		add_error(f, file ? file : f->path, config_error_line(&f->lc),
			  config_error_text(&f->lc));
	}
	return -1;
}

static void init_common(struct cfg_file *f, const char *path)
{
	memset(f, 0, sizeof *f);
	config_init(&f->lc);
	f->path = strdup(path);
	char *slash = strrchr(f->path, '/');
	f->dir = slash ? strndup(f->path, (size_t)(slash - f->path)) : strdup(".");
	if (slash && slash == f->path) {
		free(f->dir);
		f->dir = strdup("/");
	}
	config_set_include_dir(&f->lc, f->dir);
	/* Integers given where a float is expected and vice versa are a user's typo; keep
	 * types strict so the error names the key. */
	config_set_auto_convert(&f->lc, 0);
}

int cfg_file_load(struct cfg_file *f, const char *path)
{
	init_common(f, path);
	errno = 0;
	return finish_load(f, config_read_file(&f->lc, path));
}

int cfg_file_load_string(struct cfg_file *f, const char *name, const char *text)
{
	init_common(f, name);
	return finish_load(f, config_read_string(&f->lc, text));
}

void cfg_file_fini(struct cfg_file *f)
{
	config_destroy(&f->lc);
	for (int i = 0; i < f->n_errors; i++)
		free(f->errors[i]);
	free(f->errors);
	free(f->path);
	free(f->dir);
	memset(f, 0, sizeof *f);
}

const proxyd_cfg *cfg_root(const struct cfg_file *f)
{
	return NODE(config_root_setting(&f->lc));
}

static void describe(const config_setting_t *s, char *buf, size_t len)
{
	/* Build "server.listen.[0].address" style paths, outermost first. */
	const config_setting_t *chain[32];
	int n = 0;
	for (const config_setting_t *p = s; p && p->parent && n < 32; p = p->parent)
		chain[n++] = p;
	size_t used = 0;
	buf[0] = '\0';
	for (int i = n - 1; i >= 0 && used < len; i--) {
		const config_setting_t *c = chain[i];
		int w;
		if (c->name)
			w = snprintf(buf + used, len - used, "%s%s", used ? "." : "", c->name);
		else
			w = snprintf(buf + used, len - used, "[%d]", config_setting_index(c));
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

static void walk_unknown(struct cfg_file *f, const config_setting_t *s)
{
	int n = config_setting_length(s);
	for (int i = 0; i < n; i++) {
		const config_setting_t *c = config_setting_get_elem(s, (unsigned)i);
		if (c->name && c->hook != &known_mark) {
			char where[256];
			describe(c, where, sizeof where);
			char msg[400];
			snprintf(msg, sizeof msg, "unknown key '%s'", where);
			add_error(f, c->file ? c->file : f->path, (int)c->line, msg);
			continue;
		}
		if (config_setting_is_aggregate(c))
			walk_unknown(f, c);
	}
}

void cfg_report_unknown(struct cfg_file *f)
{
	walk_unknown(f, config_root_setting(&f->lc));
}

static void verror_at(struct cfg_file *f, const config_setting_t *s, const char *fmt, va_list ap)
	PROXYD_PRINTF(3, 0);
static void verror_at(struct cfg_file *f, const config_setting_t *s, const char *fmt, va_list ap)
{
	char msg[768];
	vsnprintf(msg, sizeof msg, fmt, ap);
	add_error(f, s && s->file ? s->file : f->path, s ? (int)s->line : 0, msg);
}

void cfg_file_error(struct cfg_file *f, const proxyd_cfg *node, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verror_at(f, SETTING(node), fmt, ap);
	va_end(ap);
}

void cfg_verror(const proxyd_cfg *node, const char *fmt, va_list ap)
{
	const config_setting_t *s = SETTING(node);
	verror_at(file_of(s), s, fmt, ap);
}

void cfg_error(const proxyd_cfg *node, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cfg_verror(node, fmt, ap);
	va_end(ap);
}

static config_setting_t *lookup(const proxyd_cfg *group, const char *key)
{
	config_setting_t *g = SETTING(group);
	if (!g || !config_setting_is_group(g))
		return NULL;
	config_setting_t *s = config_setting_get_member(g, key);
	if (s)
		s->hook = &known_mark;
	return s;
}

static int type_error(config_setting_t *s, const char *want)
{
	cfg_error(NODE(s), "'%s': expected %s", s->name ? s->name : "value", want);
	return -EINVAL;
}

int cfg_get_string(const proxyd_cfg *group, const char *key, const char **out)
{
	config_setting_t *s = lookup(group, key);
	if (!s)
		return -ENOENT;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return type_error(s, "a string in double quotes");
	*out = config_setting_get_string(s);
	return 0;
}

int cfg_get_int(const proxyd_cfg *group, const char *key, long long *out)
{
	config_setting_t *s = lookup(group, key);
	if (!s)
		return -ENOENT;
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
		return type_error(s, "an integer");
	*out = config_setting_get_int64(s);
	return 0;
}

int cfg_get_bool(const proxyd_cfg *group, const char *key, int *out)
{
	config_setting_t *s = lookup(group, key);
	if (!s)
		return -ENOENT;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return type_error(s, "true or false");
	*out = config_setting_get_bool(s);
	return 0;
}

const proxyd_cfg *cfg_get_child(const proxyd_cfg *group, const char *key)
{
	return NODE(lookup(group, key));
}

int cfg_count(const proxyd_cfg *node)
{
	const config_setting_t *s = SETTING(node);
	return s && config_setting_is_aggregate(s) ? config_setting_length(s) : 0;
}

const proxyd_cfg *cfg_elem(const proxyd_cfg *node, int index)
{
	config_setting_t *s = SETTING(node);
	if (!s || index < 0 || !config_setting_is_aggregate(s))
		return NULL;
	config_setting_t *e = config_setting_get_elem(s, (unsigned)index);
	if (e)
		e->hook = &known_mark;
	return NODE(e);
}

const char *cfg_elem_string(const proxyd_cfg *node)
{
	const config_setting_t *s = SETTING(node);
	return s && config_setting_type(s) == CONFIG_TYPE_STRING ? config_setting_get_string(s)
								 : NULL;
}

int cfg_elem_int(const proxyd_cfg *node, long long *out)
{
	const config_setting_t *s = SETTING(node);
	if (!s)
		return -EINVAL;
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
		return -EINVAL;
	*out = config_setting_get_int64(s);
	return 0;
}

const char *cfg_path(const proxyd_cfg *node, const char *path, char *buf, size_t len)
{
	int w;
	if (path[0] == '/' || !node)
		w = snprintf(buf, len, "%s", path);
	else
		w = snprintf(buf, len, "%s/%s", file_of(SETTING(node))->dir, path);
	return w >= 0 && (size_t)w < len ? buf : NULL;
}

const char *cfg_name(const proxyd_cfg *node)
{
	const config_setting_t *s = SETTING(node);
	return s && s->name ? s->name : "";
}

int cfg_line(const proxyd_cfg *node)
{
	return node ? (int)SETTING(node)->line : 0;
}

int cfg_is_group(const proxyd_cfg *node)
{
	return node && config_setting_is_group(SETTING(node));
}

int cfg_is_list(const proxyd_cfg *node)
{
	return node && (config_setting_is_list(SETTING(node)) || config_setting_is_array(SETTING(node)));
}
