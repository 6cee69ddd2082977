/* Descriptor checks, in the order plugin.h documents; the first failure wins. */
#include "config.h"
#include "plugin_check.h"

#include <stdio.h>
#include <string.h>

size_t plugin_ops_size(uint32_t kind)
{
	switch (kind) {
	case PROXYD_KIND_TRANSPORT:
		return sizeof(struct proxyd_transport_ops);
	case PROXYD_KIND_ROUTER:
		return sizeof(struct proxyd_router_ops);
	case PROXYD_KIND_PROVIDER:
		return sizeof(struct proxyd_provider_ops);
	}
	return 0;
}

const char *plugin_kind_name(uint32_t kind)
{
	switch (kind) {
	case PROXYD_KIND_TRANSPORT:
		return "transport";
	case PROXYD_KIND_ROUTER:
		return "router";
	case PROXYD_KIND_PROVIDER:
		return "provider";
	}
	return "unknown";
}

/* Is the function pointer at `offset` inside the plugin's (possibly shorter) ops present? */
static int has_op(const struct proxyd_plugin_descriptor *d, size_t offset)
{
	void *fn = NULL;
	if (offset + sizeof fn > d->ops_size)
		return 0;
	memcpy(&fn, (const char *)d->ops + offset, sizeof fn);
	return fn != NULL;
}

#define REQUIRE(type, member)                                                                  \
	do {                                                                                   \
		if (!has_op(d, offsetof(type, member))) {                                      \
			snprintf(err, errlen, "required callback missing: expected " #member       \
					      "() in the %s ops, got NULL",                        \
				 plugin_kind_name(d->kind));                                      \
			return -1;                                                             \
		}                                                                              \
	} while (0)

int plugin_check_descriptor(const struct proxyd_plugin_descriptor *d, char *err, size_t errlen)
{
	if (d->magic != PROXYD_PLUGIN_MAGIC) {
		snprintf(err, errlen, "bad magic: expected 0x%08x, got 0x%08x", PROXYD_PLUGIN_MAGIC,
			 d->magic);
		return -1;
	}
	if (d->abi_major != PROXYD_ABI_MAJOR) {
		snprintf(err, errlen, "ABI major version mismatch: expected %d, got %u",
			 PROXYD_ABI_MAJOR, d->abi_major);
		return -1;
	}
	if (d->abi_minor > PROXYD_ABI_MINOR) {
		snprintf(err, errlen,
			 "built for a newer ABI: expected minor <= %d, got %u (upgrade proxyd)",
			 PROXYD_ABI_MINOR, d->abi_minor);
		return -1;
	}
	if (d->size > sizeof(struct proxyd_plugin_descriptor)) {
		snprintf(err, errlen, "descriptor larger than this host knows: expected <= %zu bytes, got %u",
			 sizeof(struct proxyd_plugin_descriptor), d->size);
		return -1;
	}
	/* Every field up to ops_size exists in ABI 1.0; a smaller size is a corrupt descriptor. */
	if (d->size < offsetof(struct proxyd_plugin_descriptor, ops_size) + sizeof d->ops_size) {
		snprintf(err, errlen, "descriptor too small: expected >= %zu bytes, got %u",
			 offsetof(struct proxyd_plugin_descriptor, ops_size) + sizeof d->ops_size,
			 d->size);
		return -1;
	}
	size_t host_ops = plugin_ops_size(d->kind);
	if (host_ops == 0) {
		snprintf(err, errlen, "unknown kind: expected 1 (transport), 2 (router) or 3 (provider), got %u",
			 d->kind);
		return -1;
	}
	if (d->ops_size > host_ops) {
		snprintf(err, errlen, "%s ops larger than this host knows: expected <= %zu bytes, got %u",
			 plugin_kind_name(d->kind), host_ops, d->ops_size);
		return -1;
	}
	if (!d->name || !d->name[0]) {
		snprintf(err, errlen, "name missing: expected a non-empty name, got %s",
			 d->name ? "\"\"" : "NULL");
		return -1;
	}
	if (!d->init || !d->fini) {
		snprintf(err, errlen, "required callback missing: expected %s(), got NULL",
			 d->init ? "fini" : "init");
		return -1;
	}
	if (!d->ops) {
		snprintf(err, errlen, "required ops table missing: expected a %s ops table, got NULL",
			 plugin_kind_name(d->kind));
		return -1;
	}
	switch (d->kind) {
	case PROXYD_KIND_TRANSPORT:
		REQUIRE(struct proxyd_transport_ops, check);
		REQUIRE(struct proxyd_transport_ops, listen);
		REQUIRE(struct proxyd_transport_ops, unlisten);
		REQUIRE(struct proxyd_transport_ops, dial);
		REQUIRE(struct proxyd_transport_ops, dial_cancel);
		/* ABI 1.3: native streams are all or nothing. */
		if (has_op(d, offsetof(struct proxyd_transport_ops, stream_open))) {
			REQUIRE(struct proxyd_transport_ops, stream_write);
			REQUIRE(struct proxyd_transport_ops, stream_shutdown);
			REQUIRE(struct proxyd_transport_ops, stream_reset);
			REQUIRE(struct proxyd_transport_ops, stream_resume_read);
			REQUIRE(struct proxyd_transport_ops, stream_release);
			REQUIRE(struct proxyd_transport_ops, conn_close);
		}
		break;
	case PROXYD_KIND_ROUTER:
		REQUIRE(struct proxyd_router_ops, route_new);
		REQUIRE(struct proxyd_router_ops, route_free);
		REQUIRE(struct proxyd_router_ops, route);
		break;
	case PROXYD_KIND_PROVIDER:
		REQUIRE(struct proxyd_provider_ops, provider_new);
		REQUIRE(struct proxyd_provider_ops, provider_free);
		REQUIRE(struct proxyd_provider_ops, start);
		REQUIRE(struct proxyd_provider_ops, stop);
		break;
	}
	return 0;
}
